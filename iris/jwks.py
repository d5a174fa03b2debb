"""One issuer's signing keys, fetched from its JWKS and refreshed: what `iris.auth`'s
verifier checks signatures with."""

from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import jwt

log = logging.getLogger(__name__)


class JWKS:
    """One issuer's signing keys, owned here rather than by PyJWT (whose per-kid cache
    never forgets a key): the set is fetched again once `refresh_seconds` have passed,
    so a key the issuer removed is refused after the next refresh.

    The set comes from `url` (https://, http:// or file://), or else from the `jwks_uri`
    of `<issuer>/.well-known/openid-configuration`. A kid not in the set fetches it again
    early, at most once per `unknown_kid_seconds` (a new key of a rotation). When a
    refresh fails the last set serves on until it is twice `refresh_seconds` old; after
    that every token of the issuer is refused until the issuer answers again.
    """

    def __init__(
        self,
        issuer: str,
        url: str | None = None,
        refresh_seconds: float = 300.0,
        unknown_kid_seconds: float = 30.0,
        timeout: float = 5.0,
    ) -> None:
        self.issuer = issuer.rstrip("/")
        self.url = url
        self.refresh_seconds = refresh_seconds
        self.unknown_kid_seconds = min(unknown_kid_seconds, refresh_seconds)
        self.timeout = timeout
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at: float | None = None  # wall clock of the last successful fetch
        self._tried_at = float("-inf")
        self._refreshing = False
        self._lock = threading.Lock()
        self.generation = 0

    @property
    def fresh_until(self) -> float:
        """Until when (wall clock) the keys in hand count as current."""
        if self._fetched_at is None:
            return float("-inf")
        return self._fetched_at + self.refresh_seconds

    def key(self, kid: str | None) -> jwt.PyJWK:
        """The key with this kid in the issuer's current set; else PyJWKClientError."""
        now = time.time()
        if self._fetched_at is None:
            # nothing fetched yet: every caller waits for the first fetch
            with self._lock:
                if self._fetched_at is None and now - self._tried_at >= 1.0:
                    self._refresh(now)
        elif self._due(kid, now):
            # one caller fetches, outside the lock; the others go on with the keys in hand
            try:
                self._refresh(now)
            finally:
                with self._lock:
                    self._refreshing = False
        fetched_at = self._fetched_at
        if fetched_at is None or now >= fetched_at + 2 * self.refresh_seconds:
            raise jwt.PyJWKClientError(f"no current signing keys of {self.issuer}")
        found = self._keys.get(kid) if kid else None
        if found is None:
            raise jwt.PyJWKClientError(f"no key with kid {kid!r} in the issuer's JWKS")
        return found

    def _due(self, kid: str | None, now: float) -> bool:
        """Whether this caller should fetch the set now (and is then the one fetching)."""
        with self._lock:
            stale = now >= self.fresh_until
            wait = 1.0 if stale else self.unknown_kid_seconds
            if self._refreshing or not (stale or kid not in self._keys):
                return False
            if now - self._tried_at < wait:
                return False
            self._refreshing = True
            self._tried_at = now
            return True

    def _refresh(self, now: float) -> None:
        self._tried_at = now
        try:
            data = self._read(self.url or self._discover())
            keys = {
                str(k["kid"]): jwt.PyJWK(k)
                for k in data.get("keys", [])
                if isinstance(k, dict) and k.get("kid") and k.get("kty") == "RSA"
            }
        except Exception as exc:  # an unreachable or garbled issuer: keep the last set
            log.warning(
                "JWKS refresh failed", extra={"issuer": self.issuer, "error": type(exc).__name__}
            )
            return
        if self._keys.keys() - keys.keys():
            self.generation += 1  # a key was removed: what it verified is verified again
        self._keys, self._fetched_at = keys, now

    def _discover(self) -> str:
        config = self._read(f"{self.issuer}/.well-known/openid-configuration")
        if str(config.get("issuer", "")).rstrip("/") != self.issuer:
            raise ValueError("the discovery document names another issuer")
        uri = config.get("jwks_uri")
        if not isinstance(uri, str) or not uri.startswith(("https://", "http://")):
            raise ValueError("the discovery document has no jwks_uri")
        return uri

    def _read(self, url: str) -> dict[str, Any]:
        if url.startswith("file://"):
            from urllib.parse import unquote, urlparse

            data = json.loads(Path(unquote(urlparse(url).path)).read_text())
        else:
            response = httpx.get(url, timeout=self.timeout, follow_redirects=False)
            response.raise_for_status()
            data = response.json()
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        return data
