"""The development issuer's authorization codes and the tokens it gives for them
(authorization code flow with PKCE, S256)."""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

from fastapi.responses import JSONResponse

from iris.auth import SigningKey, mint
from iris.seed import Person, claims_of

CODE_TTL_SECONDS = 60
TOKEN_TTL_SECONDS = 3600


@dataclass(frozen=True)
class Grant:
    """An authorization code waiting to be exchanged."""

    client_id: str
    redirect_uri: str
    code_challenge: str
    nonce: str | None
    person: Person
    expires_at: float
    method: str = "itsme"  # how the person signed in: the token's `amr`


class AuthorizationError(Exception):
    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description


class Codes:
    """Authorization codes: single use, short-lived, kept in memory."""

    def __init__(self, ttl: float = CODE_TTL_SECONDS) -> None:
        self.ttl = ttl
        self._grants: dict[str, Grant] = {}
        self._lock = threading.Lock()

    def issue(self, **grant: Any) -> str:
        code = secrets.token_urlsafe(32)
        with self._lock:
            now = time.monotonic()
            self._grants = {c: g for c, g in self._grants.items() if g.expires_at > now}
            self._grants[code] = Grant(expires_at=now + self.ttl, **grant)
        return code

    def redeem(self, code: str) -> Grant:
        with self._lock:
            grant = self._grants.pop(code, None)
        if grant is None or grant.expires_at <= time.monotonic():
            raise AuthorizationError("invalid_grant", "code: unknown, used or expired")
        return grant


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def token_error(exc: AuthorizationError) -> JSONResponse:
    return JSONResponse(
        {"error": exc.error, "error_description": exc.description, "detail": exc.description},
        status_code=400,
        headers={"Cache-Control": "no-store"},
    )


def issue_tokens(key: SigningKey, issuer: str, audience: str, grant: Grant) -> dict[str, Any]:
    claims = {**claims_of(grant.person), "amr": [grant.method]}
    access_token = mint(
        key, issuer, grant.person.insz, audience, ttl_seconds=TOKEN_TTL_SECONDS, **claims
    )
    now = int(time.time())
    id_claims: dict[str, Any] = {
        "iss": issuer,
        "sub": grant.person.insz,
        "aud": [grant.client_id, audience],
        "azp": grant.client_id,
        "iat": now,
        "auth_time": now,
        "exp": now + TOKEN_TTL_SECONDS,
        **claims,
    }
    if grant.nonce:
        id_claims["nonce"] = grant.nonce
    return {
        "access_token": access_token,
        "id_token": key.sign(id_claims),
        "token_type": "Bearer",
        "expires_in": TOKEN_TTL_SECONDS,
        "scope": "openid profile",
    }
