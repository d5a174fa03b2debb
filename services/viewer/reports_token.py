"""The viewer's token for the reports service's internal API.

In production the viewer is a service client of the access service: it exchanges its client
id and secret (`IRIS_SERVICE_CLIENT_ID`, `IRIS_SERVICE_CLIENT_SECRET`) for a token by OAuth2
client credentials at `IRIS_SERVICE_TOKEN_URL` and fetches a new one before the old one
expires (or at once when the reports service refuses it). A fixed `IRIS_SERVICE_TOKEN` is
used as it is. Outside production, with neither, the viewer mints its own from the
development issuer.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import httpx

from iris.auth import dev_issuer_key, mint
from iris.settings import Settings

# a token is renewed once this share of its lifetime has passed
RENEW_AFTER = 0.75


class TokenUnavailable(RuntimeError):
    """No token for the reports service could be had (the reason is in the message)."""


class ServiceToken:
    def __init__(
        self,
        settings: Settings,
        http: httpx.AsyncClient | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.http = http
        self.clock = clock
        self._token: tuple[str, float] | None = None  # the token and when to renew it
        self._lock = asyncio.Lock()
        if (
            settings.env == "production"
            and not settings.service_token
            and not (settings.service_client_id and settings.service_client_secret)
        ):
            raise TokenUnavailable(
                "IRIS_SERVICE_CLIENT_ID and IRIS_SERVICE_CLIENT_SECRET (or IRIS_SERVICE_TOKEN) "
                "must be set in production"
            )

    async def __call__(self) -> str:
        if self.settings.service_token:
            return self.settings.service_token
        current = self._token
        if current is not None and self.clock() < current[1]:
            return current[0]
        async with self._lock:  # one request for a new token, however many callers wait
            current = self._token
            if current is None or self.clock() >= current[1]:
                token, lifetime = await self._new_token()
                current = (token, self.clock() + lifetime * RENEW_AFTER)
                self._token = current
            return current[0]

    def forget(self) -> None:
        """Drop the kept token (the reports service refused it): the next call fetches one."""
        self._token = None

    async def _new_token(self) -> tuple[str, float]:
        if self.settings.service_client_id and self.settings.service_client_secret:
            return await self._client_credentials()
        if self.settings.env == "production":
            raise TokenUnavailable("no client credentials for the reports service")
        ttl = 300
        token = mint(
            dev_issuer_key(self.settings),
            self.settings.oidc_issuer,
            "service:viewer",
            self.settings.internal_audience,
            ttl_seconds=ttl,
            service="viewer",
        )
        return token, float(ttl)

    async def _client_credentials(self) -> tuple[str, float]:
        url = self.settings.token_url
        if not url:
            raise TokenUnavailable("IRIS_SERVICE_TOKEN_URL or IRIS_CLIENT_ISSUER must be set")
        assert self.settings.service_client_id and self.settings.service_client_secret
        credentials = (self.settings.service_client_id, self.settings.service_client_secret)
        http = self.http or httpx.AsyncClient(timeout=5.0)
        try:
            response = await http.post(
                url, data={"grant_type": "client_credentials"}, auth=credentials
            )
        except httpx.HTTPError as exc:
            raise TokenUnavailable(f"token endpoint unreachable: {type(exc).__name__}") from exc
        finally:
            if self.http is None:
                await http.aclose()
        if response.status_code != 200:
            error = _error_of(response)
            raise TokenUnavailable(f"token endpoint answered {response.status_code} {error}")
        body = response.json()
        return str(body["access_token"]), float(body.get("expires_in") or 300)


def _error_of(response: httpx.Response) -> str:
    try:
        return str(response.json().get("error", ""))
    except ValueError:
        return ""
