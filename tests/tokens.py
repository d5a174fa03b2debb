"""Tokens that every service must refuse with 401: forged, misdirected, out of date, or
a person's token that does not say the person signed in with itsme or the eID."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization

from iris.auth import SigningKey
from iris.settings import DEFAULT_AUDIENCE
from tests.support import Issuer

SIGNATURE_CASES = [
    "alg none",
    "HS256 signed with the public key",
    "wrong iss",
    "wrong aud",
    "expired",
    "nbf in the future",
    "tampered payload",
    "unknown kid",
    "removed kid",
]
AMR_CASES = ["no amr", "weak amr"]
MATRIX = SIGNATURE_CASES + AMR_CASES


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unsigned(header: dict[str, Any], body: dict[str, Any]) -> str:
    return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(body).encode())}"


def forged(
    issuer: Issuer, case: str, sub: str, audience: str = DEFAULT_AUDIENCE, **claims: Any
) -> str:
    """A token for `sub` with `claims`, spoiled as `case` says."""
    valid = issuer.token(sub, audience=audience, **claims)
    body = jwt.decode(valid, options={"verify_signature": False})
    kid = issuer.key.kid
    if case == "alg none":
        return _unsigned({"alg": "none", "typ": "JWT", "kid": kid}, body) + "."
    if case == "HS256 signed with the public key":
        private = serialization.load_pem_private_key(issuer.key.private_pem, password=None)
        public = private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        signing_input = _unsigned({"alg": "HS256", "typ": "JWT", "kid": kid}, body)
        signature = hmac.new(public, signing_input.encode(), hashlib.sha256).digest()
        return f"{signing_input}.{_b64(signature)}"
    if case == "wrong iss":
        return issuer.key.sign({**body, "iss": "http://elsewhere.test"})
    if case == "wrong aud":
        return issuer.token(sub, audience="another-service", **claims)
    if case == "expired":
        return issuer.token(sub, audience=audience, ttl=-120, **claims)
    if case == "nbf in the future":
        return issuer.key.sign({**body, "nbf": int(time.time()) + 600})
    if case == "tampered payload":
        header, _payload, signature = valid.split(".")
        changed = {**body, "exp": body["exp"] + 3600, "name": "Someone Else"}
        return f"{header}.{_b64(json.dumps(changed).encode())}.{signature}"
    if case == "unknown kid":
        return SigningKey.generate().sign(body)
    if case == "removed kid":
        return issuer.retired.sign(body)
    if case == "no amr":
        return issuer.token(sub, audience=audience, **{**claims, "amr": None})
    if case == "weak amr":
        return issuer.token(sub, audience=audience, **{**claims, "amr": ["pwd"]})
    raise ValueError(case)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
