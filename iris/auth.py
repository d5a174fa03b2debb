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
import logging
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

from iris.jwks import JWKS
from iris.settings import Settings

ALGORITHM = "RS256"
log = logging.getLogger(__name__)


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

    def public_key(self) -> Any:
        """The key that checks this key's signatures."""
        if self._private is None:
            self._private = serialization.load_pem_private_key(self.private_pem, password=None)
        return self._private.public_key()

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
    jwks_url: str | None = None  # None: the `jwks_uri` of the issuer's OIDC discovery
    clients_only: bool = False  # an issuer that may only vouch for school-software clients


DEFAULT_AMR = ("itsme", "eid")


class TokenVerifier:
    """Verifies RS256 bearer tokens from trusted issuers for one audience.

    A person's token must say how the person signed in (`amr`, one of `accepted_amr`);
    school-software clients, support networks and services are not people and keep
    their own rules. `leeway` is the clock skew tolerated on `exp` and `nbf`.
    """

    def __init__(
        self,
        issuers: list[TrustedIssuer],
        audience: str,
        remember_seconds: float | None = None,
        remember_at_most: int = 4096,
        accepted_amr: tuple[str, ...] | list[str] = DEFAULT_AMR,
        leeway: float = 5.0,
        refresh_seconds: float = 300.0,
    ) -> None:
        self.issuers = {i.issuer: i for i in issuers}
        self.audience = audience
        self.accepted_amr = frozenset(accepted_amr)
        self.leeway = leeway
        self._keys = {
            i.issuer: JWKS(i.issuer, i.jwks_url, refresh_seconds=refresh_seconds) for i in issuers
        }
        # tokens verified lately: token -> (trusted until, principal); see `verify`
        # by default as long as the keys that verified a token count as current: school
        # software sends one token with thousands of submissions while it lives
        self.remember_seconds = refresh_seconds if remember_seconds is None else remember_seconds
        self.remember_at_most = remember_at_most
        self._verified: OrderedDict[str, tuple[float, Principal, JWKS, int]] = OrderedDict()
        self._verified_lock = threading.Lock()

    def known(self, token: str) -> Principal | None:
        """The principal of a token verified lately, while it is still trusted; else None.

        A verified token is remembered (by its exact text) for `remember_seconds` at most
        (by default the keys' refresh period),
        never past its own expiry and never past the freshness of the keys that verified
        it, so a repeated request costs no signature check and a removed key is refused
        as soon as its issuer's keys are refreshed.
        """
        now = time.time()
        with self._verified_lock:
            entry = self._verified.get(token)
            if entry is None:
                return None
            until, principal, keys, generation = entry
            if now >= until or keys.generation != generation:
                del self._verified[token]
                return None
            return principal

    def verify(self, token: str, at: float | None = None) -> Principal:
        """The principal of a valid token (signature, issuer, audience, its times, and `amr`
        for a person); else AuthError. Tokens verified lately are answered from memory.

        `at` (epoch seconds) is the moment at which the token's times are judged, now when
        None: a message's token may be judged when a broker appended the message."""
        principal = self.known(token)
        if principal is not None:
            # what is remembered holds whenever the token is used; its times are judged anew
            self._check_times(principal.claims, at)
            return principal
        principal, keys, generation = self._verify(token, at)
        self._remember(token, principal, keys, generation)
        return principal

    def _remember(self, token: str, principal: Principal, keys: JWKS, generation: int) -> None:
        """Keep a verified token, by the wall clock, never past its `exp` nor its keys'
        freshness, whatever moment its times were judged at."""
        expires = principal.claims.get("exp")
        now = time.time()
        until = min(now + self.remember_seconds, keys.fresh_until)
        if isinstance(expires, int | float):
            until = min(until, float(expires))
        if until > now:
            with self._verified_lock:
                self._verified[token] = (until, principal, keys, generation)
                while len(self._verified) > self.remember_at_most:
                    self._verified.popitem(last=False)

    def _check_times(self, claims: dict[str, Any], at: float | None) -> None:
        """The token's times at `at` (now when None), within the clock leeway: not expired
        (`exp`), not valid only later (`nbf`), not issued later (`iat`)."""
        moment = time.time() if at is None else at
        try:
            expires = int(claims["exp"])
            starts = [int(claims[name]) for name in ("nbf", "iat") if name in claims]
        except (TypeError, ValueError, OverflowError) as exc:
            raise AuthError("token claims malformed") from exc
        if expires <= moment - self.leeway:
            raise AuthError("token expired")
        if any(start > moment + self.leeway for start in starts):
            raise AuthError("token not yet valid")

    def _verify(self, token: str, at: float | None) -> tuple[Principal, JWKS, int]:
        """The principal, the issuer's keys and their generation before the key was read
        (a key removed meanwhile makes the remembered token be verified again)."""
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
        keys = self._keys[issuer.issuer]
        generation = keys.generation
        claims = self._decode(token, header, issuer, keys)
        self._check_times(claims, at)
        client_claims = ("school_id", "service", "support_network")
        if issuer.clients_only and not any(claims.get(c) for c in client_claims):
            raise AuthError(
                "this issuer may only vouch for clients: school software, services, networks"
            )
        try:
            principal = Principal.from_claims(claims)
        except (TypeError, ValueError) as exc:
            raise AuthError("token claims malformed") from exc
        if principal.is_person and not self.accepted_amr.intersection(principal.amr):
            raise AuthError(
                "amr: sign in with " + " or ".join(sorted(self.accepted_amr)) + " to continue"
            )
        return principal, keys, generation

    def _decode(
        self, token: str, header: dict[str, Any], issuer: TrustedIssuer, keys: JWKS
    ) -> dict[str, Any]:
        """The claims of a token signed by one of the issuer's keys, for this audience
        (its times are `_check_times`'s)."""
        try:
            signing_key = keys.key(header.get("kid"))
            claims: dict[str, Any] = jwt.decode(
                token,
                signing_key.key,
                algorithms=[ALGORITHM],
                audience=self.audience,
                issuer=issuer.issuer,
                # PyJWT would judge the times by the clock alone; `_check_times` judges
                # them at the moment the caller names
                options={
                    "require": ["exp", "iss", "aud", "sub"],
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                },
            )
        except jwt.InvalidAudienceError as exc:
            raise AuthError("token is not meant for this service") from exc
        except jwt.PyJWKClientError as exc:
            raise AuthError("token signed by a key the issuer does not publish") from exc
        except jwt.PyJWTError as exc:
            raise AuthError(f"token rejected: {type(exc).__name__}") from exc
        return claims


def verifier_for(
    settings: Settings, audience: str | None = None, remember_at_most: int = 4096
) -> TokenVerifier:
    """The verifier of a service: the configured issuer (its JWKS by discovery unless
    IRIS_OIDC_JWKS_URL names it) and the access service's client issuer."""
    issuers = [TrustedIssuer(settings.oidc_issuer, settings.jwks_url)]
    if settings.client_issuer:
        issuers.append(TrustedIssuer(settings.client_issuer, None, clients_only=True))
    return TokenVerifier(
        issuers,
        audience or settings.audience,
        remember_at_most=remember_at_most,
        accepted_amr=settings.accepted_amr,
        leeway=settings.token_leeway_seconds,
        refresh_seconds=settings.jwks_refresh_seconds,
    )
