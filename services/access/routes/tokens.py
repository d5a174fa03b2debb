"""OAuth2 client credentials: school software and the platform's own services exchange
their client id and secret for a short-lived token; the keys to check it by."""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
from typing import Any
from urllib.parse import parse_qs, unquote

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from prometheus_client import Counter

from iris.auth import mint
from services.access import service, service_clients
from services.access.bootstrap import AccessDeps
from services.access.deps import Deps
from services.access.models import ClientRow, ServiceClientRow
from services.access.repository import SqlAccessRepository

router = APIRouter(tags=["tokens"])
log = logging.getLogger(__name__)

CLIENT_TOKENS = Counter(
    "iris_access_client_tokens_total", "Client token requests answered", ["outcome"]
)


def oauth_error(status: int, error: str, description: str) -> JSONResponse:
    headers = {"Cache-Control": "no-store"}
    if status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="iris"'
    return JSONResponse(
        {"error": error, "error_description": description, "detail": description},
        status_code=status,
        headers=headers,
    )


def basic_credentials(header: str) -> tuple[str, str] | None:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        return None
    return unquote(client_id), unquote(secret)


def credentials_of(request: Request, body: bytes) -> tuple[str, str] | JSONResponse:
    """The client id and secret (Basic header or form fields), or the OAuth2 refusal."""
    form = parse_qs(body.decode(errors="replace"))

    def field(name: str) -> str | None:
        values = form.get(name)
        return values[0] if values else None

    grant_type = field("grant_type")
    if grant_type is None:
        return oauth_error(400, "invalid_request", "grant_type is missing")
    if grant_type != "client_credentials":
        CLIENT_TOKENS.labels("unsupported_grant_type").inc()
        return oauth_error(400, "unsupported_grant_type", "only client_credentials")
    credentials = basic_credentials(request.headers.get("authorization", ""))
    if credentials is None:
        client_id, secret = field("client_id"), field("client_secret")
        if not client_id or not secret:
            CLIENT_TOKENS.labels("invalid_client").inc()
            return oauth_error(401, "invalid_client", "client_id and client_secret needed")
        credentials = (client_id, secret)
    return credentials


def authenticate(
    deps: AccessDeps, client_id: str, secret: str
) -> ClientRow | ServiceClientRow | None:
    with deps.sessions() as session:
        if session.get(ServiceClientRow, client_id) is not None:
            return service_clients.authenticate(session, client_id, secret)
        return service.authenticate_client(SqlAccessRepository(session), client_id, secret)


def token_for(deps: AccessDeps, client: ClientRow | ServiceClientRow) -> str:
    settings = deps.settings
    assert settings.client_issuer
    claims: dict[str, Any]
    if isinstance(client, ServiceClientRow):
        # a service of the platform (a token for the internal APIs only), or a support
        # network's software (its network named in the token)
        # … or a school's user management (a token for /scim/v2 only)
        subject, kind, claims = service_clients.token_claims(client)
        audience = {
            "public": settings.audience,
            "internal": settings.internal_audience,
            "scim": service_clients.SCIM_AUDIENCE,
        }[kind]
    else:
        subject, audience = f"client:{client.client_id}", settings.audience
        claims = {"school_id": client.school_id, "client_name": client.name}
    ttl = settings.access_client_token_ttl_seconds
    return mint(deps.signing_key, settings.client_issuer, subject, audience, ttl, **claims)


@router.post("/v1/token")
async def issue_client_token(request: Request, deps: Deps) -> JSONResponse:
    """OAuth2 client credentials: a short-lived token naming the client's school."""
    if not deps.settings.client_issuer:
        return JSONResponse(
            {"detail": "this access service issues no client tokens (no client_issuer)"},
            status_code=503,
        )
    credentials = credentials_of(request, await request.body())
    if isinstance(credentials, JSONResponse):
        return credentials
    source = request.client.host if request.client else "unknown"
    wait = deps.throttle.admit(source, credentials[0])
    if wait is not None:
        CLIENT_TOKENS.labels("throttled").inc()
        log.warning("client token attempts throttled", extra={"client_id": credentials[0]})
        answer = oauth_error(429, "slow_down", "too many attempts; try again later")
        answer.headers["Retry-After"] = str(wait)
        return answer
    client = await asyncio.to_thread(authenticate, deps, *credentials)
    if client is None:
        deps.throttle.failed(source, credentials[0])
        CLIENT_TOKENS.labels("invalid_client").inc()
        return oauth_error(401, "invalid_client", "unknown client, wrong secret or revoked")
    deps.throttle.succeeded(client.client_id)
    token = token_for(deps, client)
    CLIENT_TOKENS.labels("issued").inc()
    return JSONResponse(
        {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": deps.settings.access_client_token_ttl_seconds,
        },
        headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
    )


@router.get("/jwks.json", include_in_schema=False)
async def jwks(deps: Deps) -> dict[str, Any]:
    return {"keys": [deps.signing_key.jwk()]}


@router.get("/.well-known/openid-configuration", include_in_schema=False)
async def openid_configuration(deps: Deps) -> dict[str, Any]:
    issuer = deps.settings.client_issuer or ""
    return {
        "issuer": issuer,
        "jwks_uri": issuer.rstrip("/") + "/jwks.json",
        "token_endpoint": issuer.rstrip("/") + "/v1/token",
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": [
            "client_secret_basic",
            "client_secret_post",
        ],
        "id_token_signing_alg_values_supported": ["RS256"],
    }
