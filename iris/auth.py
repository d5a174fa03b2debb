"""Bearer JWTs: the development issuer and verification against trusted issuers' JWKS.

Every service verifies issuer, audience, expiry and signature, RS256 only.
Claims: `sub` (the person's INSZ), `name`, `amr`, `school_admin_of`,
`clb_staff_of`, `parent_of`; a school-software client carries `school_id`;
a support network `support_network`; a service identity `service`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt import PyJWKClient

from iris.settings import Settings

ALGORITHM = "RS256"


class AuthError(Exception):
    """The request carries no usable credentials (HTTP 401)."""


@dataclass(frozen=True)
class Principal:
    """Who is calling, from a verified token."""

    subject: str
    name: str | None = None
    amr: tuple[str, ...] = ()
    school_admin_of: frozenset[str] = frozenset()
    clb_staff_of: frozenset[str] = frozenset()
    parent_of: frozenset[str] = frozenset()
    school_client_of: str | None = None
    support_network: str | None = None
    service: str | None = None
    claims: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def is_person(self) -> bool:
        return (
            self.school_client_of is None and self.service is None and self.support_network is None
        )

    @classmethod
    def from_claims(cls, claims: dict[str, Any]) -> Principal:
        def strings(name: str) -> frozenset[str]:
            value = claims.get(name) or []
            if isinstance(value, str):
                value = [value]
            return frozenset(str(v) for v in value)

        amr = claims.get("amr") or []
        return cls(
            subject=str(claims["sub"]),
            name=claims.get("name"),
            amr=tuple(amr if isinstance(amr, list) else [amr]),
            school_admin_of=strings("school_admin_of"),
            clb_staff_of=strings("clb_staff_of"),
            parent_of=strings("parent_of"),
            school_client_of=claims.get("school_id"),
            support_network=claims.get("support_network"),
            service=claims.get("service"),
            claims=claims,
        )


# -- signing keys ---------------------------------------------------------------------------


@dataclass
class SigningKey:
    private_pem: bytes
    kid: str
    _private: Any = field(default=None, repr=False, compare=False)

    @classmethod
    def generate(cls) -> SigningKey:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return cls.from_pem(pem)

    @classmethod
    def from_pem(cls, pem: bytes) -> SigningKey:
        public = serialization.load_pem_private_key(pem, password=None).public_key()
        der = public.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        kid = base64.urlsafe_b64encode(hashlib.sha256(der).digest()[:12]).decode().rstrip("=")
        return cls(pem, kid)

    @classmethod
    def load_or_create(cls, path: Path) -> SigningKey:
        """The key pair at `path`, made on first use (mode 0600)."""
        if path.exists():
            return cls.from_pem(path.read_bytes())
        path.parent.mkdir(parents=True, exist_ok=True)
        key = cls.generate()
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(key.private_pem)
        tmp.chmod(0o600)
        tmp.replace(path)
        return key

    def jwk(self) -> dict[str, Any]:
        private = serialization.load_pem_private_key(self.private_pem, password=None)
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key()))  # type: ignore[arg-type]
        jwk.update({"kid": self.kid, "use": "sig", "alg": ALGORITHM})
        return dict(jwk)

    def sign(self, claims: dict[str, Any]) -> str:
        # the parsed key is kept: parsing and checking a PEM costs more than signing
        if self._private is None:
            self._private = serialization.load_pem_private_key(self.private_pem, password=None)
        return jwt.encode(claims, self._private, algorithm=ALGORITHM, headers={"kid": self.kid})  # type: ignore[arg-type]


def mint(
    key: SigningKey,
    issuer: str,
    subject: str,
    audience: str,
    ttl_seconds: int = 3600,
    **claims: Any,
) -> str:
    now = int(time.time())
    body: dict[str, Any] = {
        "iss": issuer,
        "sub": subject,
        "aud": audience,
        "iat": now,
        "nbf": now - 5,
        "exp": now + ttl_seconds,
        "jti": str(uuid.uuid4()),
    }
    body.update({k: v for k, v in claims.items() if v not in (None, [], ())})
    return key.sign(body)


def dev_issuer_key_path(settings: Settings) -> Path:
    return settings.data_dir / "issuer" / "signing-key.pem"


def dev_issuer_key(settings: Settings) -> SigningKey:
    if settings.env == "production":
        raise RuntimeError("the development issuer does not run when IRIS_ENV=production")
    return SigningKey.load_or_create(dev_issuer_key_path(settings))


# -- verification ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TrustedIssuer:
    issuer: str
    jwks_url: str
    clients_only: bool = False  # an issuer that may only vouch for school-software clients


class TokenVerifier:
    """Verifies RS256 bearer tokens from trusted issuers for one audience."""

    def __init__(
        self,
        issuers: list[TrustedIssuer],
        audience: str,
        remember_seconds: float = 60.0,
        remember_at_most: int = 4096,
    ) -> None:
        self.issuers = {i.issuer: i for i in issuers}
        self.audience = audience
        self._keys = {i.issuer: _jwks_source(i.jwks_url) for i in issuers}
        # tokens verified lately: token -> (trusted until, principal); see `verify`
        self.remember_seconds = remember_seconds
        self.remember_at_most = remember_at_most
        self._verified: OrderedDict[str, tuple[float, Principal]] = OrderedDict()
        self._verified_lock = threading.Lock()

    def known(self, token: str) -> Principal | None:
        """The principal of a token verified lately, while it is still trusted; else None.

        A verified token is remembered (by its exact text) for `remember_seconds` at most
        and never past its own expiry, so a repeated request costs no signature check.
        """
        now = time.time()
        with self._verified_lock:
            entry = self._verified.get(token)
            if entry is None:
                return None
            if now >= entry[0]:
                del self._verified[token]
                return None
            return entry[1]

    def verify(self, token: str) -> Principal:
        """The principal of a valid token (signature, issuer, audience, expiry); else
        AuthError. Tokens verified lately are answered from memory (see `known`)."""
        principal = self.known(token)
        if principal is not None:
            return principal
        principal = self._verify(token)
        expires = principal.claims.get("exp")
        now = time.time()
        until = now + self.remember_seconds
        if isinstance(expires, int | float):
            until = min(until, float(expires))
        if until > now:
            with self._verified_lock:
                self._verified[token] = (until, principal)
                while len(self._verified) > self.remember_at_most:
                    self._verified.popitem(last=False)
        return principal

    def _verify(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError as exc:
            raise AuthError("malformed token") from exc
        if header.get("alg") != ALGORITHM:
            raise AuthError("only RS256 tokens are accepted")
        issuer = self.issuers.get(str(unverified.get("iss")))
        if issuer is None:
            raise AuthError("token from an untrusted issuer")
        try:
            signing_key = self._keys[issuer.issuer].get_signing_key_from_jwt(token)
            claims = jwt.decode(
                token,
                signing_key.key,
                algorithms=[ALGORITHM],
                audience=self.audience,
                issuer=issuer.issuer,
                options={"require": ["exp", "iss", "aud", "sub"]},
                leeway=5,
            )
        except jwt.ExpiredSignatureError as exc:
            raise AuthError("token expired") from exc
        except jwt.InvalidAudienceError as exc:
            raise AuthError("token is not meant for this service") from exc
        except (jwt.PyJWTError, jwt.PyJWKClientError) as exc:
            raise AuthError(f"token rejected: {type(exc).__name__}") from exc
        if issuer.clients_only and not (claims.get("school_id") or claims.get("service")):
            raise AuthError("this issuer may only vouch for school-software and service clients")
        return Principal.from_claims(claims)


class _FileJWKS:
    """A JWKS kept in a file (a mounted secret, or the tests' issuer); re-read when it changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: float | None = None
        self._set: jwt.PyJWKSet | None = None

    def get_signing_key_from_jwt(self, token: str) -> jwt.PyJWK:
        stamp = self.path.stat().st_mtime
        if self._set is None or stamp != self._stamp:
            self._set = jwt.PyJWKSet.from_json(self.path.read_text())
            self._stamp = stamp
        kid = jwt.get_unverified_header(token).get("kid")
        for key in self._set.keys:
            if key.key_id == kid:
                return key
        raise jwt.PyJWKClientError(f"no key with kid {kid!r} in {self.path}")


def _jwks_source(url: str) -> PyJWKClient | _FileJWKS:
    if url.startswith("file://"):
        from urllib.parse import unquote, urlparse

        return _FileJWKS(Path(unquote(urlparse(url).path)))
    return PyJWKClient(url, cache_keys=True, lifespan=300, timeout=5)


def verifier_for(settings: Settings, audience: str | None = None) -> TokenVerifier:
    issuers = [TrustedIssuer(settings.oidc_issuer, settings.jwks_url)]
    if settings.client_issuer:
        issuers.append(
            TrustedIssuer(
                settings.client_issuer,
                settings.client_issuer.rstrip("/") + "/jwks.json",
                clients_only=True,
            )
        )
    return TokenVerifier(issuers, audience or settings.audience)
