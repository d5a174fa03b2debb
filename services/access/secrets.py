"""Client secrets: generated once, kept only as a salted scrypt hash, compared in constant time."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets

_N, _R, _P, _LEN = 2**14, 8, 1, 32


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def new_client_id() -> str:
    return "iris-" + secrets.token_hex(12)


def new_credentials() -> tuple[str, dict[str, str]]:
    """A new active client's secret (handed out once, never stored) and the columns its
    row keeps: a fresh client id, the secret's hash, the status."""
    secret = new_secret()
    return secret, {
        "client_id": new_client_id(),
        "secret_hash": hash_secret(secret),
        "status": "active",
    }


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def hash_secret(secret: str) -> str:
    salt = os.urandom(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=_LEN)
    return f"scrypt${_N}${_R}${_P}${_b64(salt)}${_b64(digest)}"


def verify_secret(secret: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(
            secret.encode(),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)
