"""Access HTTP API: a school's responsible manages its grants, access requests and
school-software clients; support networks file requests; clients exchange their
credentials for short-lived tokens. Grants whose period passes are expired here too."""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import date, datetime
from typing import Annotated, Any, Literal
from urllib.parse import parse_qs, unquote
from zoneinfo import ZoneInfo

from fastapi import Depends, FastAPI, HTTPException, Path, Query, Request
from fastapi.responses import JSONResponse
from prometheus_client import Counter
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from iris.auth import Principal, SigningKey, mint, verifier_for
from iris.contracts import IsoDate
from iris.db import transaction
from iris.insz import INSZ, InstitutionNumber
from iris.settings import Settings
from iris.store import ServiceStore
from iris.web import CurrentPrincipal, DbSession, create_base_app
from services.access import clb_api, domain, service, service_clients, support_api, support_pages
from services.access.launch_tickets import install_embedding
from services.access.models import (
    AccessRequestRow,
    AuditRow,
    ClientRow,
    Outbox,
    ServiceClientRow,
)
from services.access.notifications import install_notifications
from services.access.pages import install_access_pages
from services.access.throttle import TokenThrottle

SERVICE = "access"
log = logging.getLogger(__name__)

GRANTS_EXPIRED = Counter("iris_access_grants_expired_total", "Grants marked expired")
CLIENT_TOKENS = Counter(
    "iris_access_client_tokens_total", "Client token requests answered", ["outcome"]
)

Clock = Callable[[], datetime]
BRUSSELS = ZoneInfo("Europe/Brussels")


def brussels_now() -> datetime:
    """Grant periods are Belgian calendar days."""
    return datetime.now(BRUSSELS)


SchoolId = Annotated[InstitutionNumber, Path()]


def get_session(request: Request) -> Any:
    with request.app.state.sessions() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]
RequestStatus = Literal["pending", "approved", "rejected"]


# -- shapes --------------------------------------------------------------------------------


class GrantIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    person_id: INSZ
    role: domain.Role
    valid_from: IsoDate
    valid_until: IsoDate | None = Field(
        None, description="support_worker: at most (and by default) 4 years after valid_from"
    )
    pupil_ids: list[INSZ] | None = Field(
        None, max_length=2000, description="limit the grant to these pupils; null: whole school"
    )


class GrantOut(BaseModel):
    grant_id: str
    school_id: str
    person_id: str
    role: str
    pupil_ids: list[str] | None
    valid_from: date
    valid_until: date
    status: str
    version: int
    changed: bool = Field(description="false when the request repeated the grant as it stood")


def grant_out(grant: domain.Grant, changed: bool = False) -> GrantOut:
    return GrantOut(
        grant_id=str(grant.grant_id),
        school_id=grant.school_id,
        person_id=grant.person_id,
        role=grant.role,
        pupil_ids=list(grant.pupil_ids) if grant.pupil_ids is not None else None,
        valid_from=grant.valid_from,
        valid_until=grant.valid_until,
        status=grant.status,
        version=grant.version,
        changed=changed,
    )


class AccessRequestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    person_id: INSZ
    pupil_ids: list[INSZ] = Field(min_length=1, max_length=500)
    support_network: Annotated[str, Field(min_length=1, max_length=200)]
    motivation: Annotated[str, Field(min_length=1, max_length=4000)]


class ApproveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    valid_until: IsoDate | None = Field(
        None, description="end the grant sooner than 4 years after it starts"
    )


class RejectIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, Field(min_length=1, max_length=1000)]


class AccessRequestOut(BaseModel):
    request_id: str
    school_id: str
    support_network: str
    person_id: str
    pupil_ids: list[str]
    motivation: str
    status: str
    reason: str | None
    grant_id: str | None
    created_at: datetime
    decided_at: datetime | None
    grant: GrantOut | None = None


def request_out(row: AccessRequestRow, grant: GrantOut | None = None) -> AccessRequestOut:
    return AccessRequestOut(
        request_id=row.request_id,
        school_id=row.school_id,
        support_network=row.support_network,
        person_id=row.person_id,
        pupil_ids=json.loads(row.pupil_ids),
        motivation=row.motivation,
        status=row.status,
        reason=row.reason,
        grant_id=row.grant_id,
        created_at=row.created_at,
        decided_at=row.decided_at,
        grant=grant,
    )


class ClientIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=200)]


class ClientOut(BaseModel):
    client_id: str
    school_id: str
    name: str
    status: str
    created_at: datetime
    revoked_at: datetime | None


class NewClientOut(ClientOut):
    client_secret: str = Field(description="shown once; only a hash of it is kept")


def client_out(row: ClientRow) -> ClientOut:
    return ClientOut(
        client_id=row.client_id,
        school_id=row.school_id,
        name=row.name,
        status=row.status,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


class AuditOut(BaseModel):
    at: datetime
    actor: str
    action: str
    subject: str
    person_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None


def audit_out(row: AuditRow) -> AuditOut:
    return AuditOut(
        at=row.at,
        actor=row.actor,
        action=row.action,
        subject=row.subject,
        person_id=row.person_id,
        before=json.loads(row.before) if row.before else None,
        after=json.loads(row.after) if row.after else None,
    )


# -- who may do what -----------------------------------------------------------------------


def responsible_at(principal: Principal, school_id: str) -> str:
    """The acting responsible's INSZ; 403 for anyone who is not this school's responsible."""
    if not principal.is_person or school_id not in principal.school_admin_of:
        raise HTTPException(403, "school_id: you are not the responsible of this school")
    return principal.subject


def network_of(principal: Principal) -> str:
    if principal.support_network is None:
        raise HTTPException(403, "only a support network may file access requests")
    return principal.support_network


def signing_key_for(settings: Settings) -> SigningKey:
    if settings.access_signing_key_file is not None:
        return SigningKey.from_pem(settings.access_signing_key_file.read_bytes())
    if settings.env == "production":
        raise RuntimeError("IRIS_ACCESS_SIGNING_KEY_FILE must name the key in production")
    return SigningKey.load_or_create(settings.data_dir / "access" / "signing-key.pem")


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


# -- the app -------------------------------------------------------------------------------


def create_app(settings: Settings | None = None, clock: Clock | None = None) -> FastAPI:
    settings = settings or Settings()
    now = clock or brussels_now
    store = ServiceStore.open(SERVICE, settings, Outbox)
    sessions, relay = store.sessions, store.relay
    key = signing_key_for(settings)
    throttle = TokenThrottle(
        settings.token_attempts_per_minute,
        settings.token_failures_before_lockout,
        settings.token_lockout_seconds,
    )

    def today() -> date:
        return now().date()

    def expire_once() -> int:
        total = 0
        while True:
            with transaction(sessions) as session:
                expired = service.expire_due(session, today())
            if expired:
                relay.notify()
                total += len(expired)
                GRANTS_EXPIRED.inc(len(expired))
            if len(expired) < 1000:
                return total

    async def expire_periodically() -> None:
        while True:
            try:
                await asyncio.to_thread(expire_once)
            except Exception as exc:  # database away: try again next period
                log.warning("grant expiry paused", extra={"error": repr(exc)})
            await asyncio.sleep(settings.access_expiry_period_seconds)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        async with store.running():
            expiry_task = asyncio.create_task(expire_periodically())
            try:
                yield
            finally:
                expiry_task.cancel()
                await asyncio.gather(expiry_task, return_exceptions=True)

    app = create_base_app(
        SERVICE,
        readiness=[("database", store.database_ready)],
        max_body_bytes=settings.max_body_bytes,
        lifespan=lifespan,
    )
    app.state.verifier = verifier_for(settings)
    app.state.sessions = sessions
    app.state.relay = relay
    app.state.expire_once = expire_once
    app.state.metrics_hooks = [store.update_metrics]

    write = store.write
    app.state.write = write
    app.state.today = today

    app.state.pages = install_access_pages(app, settings, SERVICE, sessions, write, today)
    app.state.viewer_url = settings.viewer_url.rstrip("/")
    app.include_router(support_api.router)
    app.include_router(support_pages.router)
    app.include_router(clb_api.router)
    install_embedding(app, settings)
    install_notifications(app, sessions)

    @app.exception_handler(domain.AccessRuleBroken)
    async def _rule_broken(_request: Request, exc: domain.AccessRuleBroken) -> JSONResponse:
        return JSONResponse(
            status_code=exc.status,
            content={"detail": [{"field": exc.field, "msg": exc.message}], "fields": [exc.field]},
        )

    # -- grants ----------------------------------------------------------------------------

    @app.post("/v1/schools/{school_id}/grants", response_model=GrantOut)
    def grant_access(school_id: SchoolId, body: GrantIn, principal: CurrentPrincipal) -> GrantOut:
        """Grant a person access at the school, or change the grant they hold."""
        actor = responsible_at(principal, school_id)
        outcome: service.Outcome = write(
            lambda s: service.grant(
                s,
                school_id,
                body.person_id,
                body.role,
                body.valid_from,
                body.valid_until,
                body.pupil_ids,
                actor,
                today(),
            )
        )
        return grant_out(outcome.grant, outcome.changed)

    @app.post("/v1/schools/{school_id}/grants/{grant_id}/revoke", response_model=GrantOut)
    def revoke_grant(school_id: SchoolId, grant_id: str, principal: CurrentPrincipal) -> GrantOut:
        """Revoke a grant at once; revoking a grant that gives no access changes nothing."""
        actor = responsible_at(principal, school_id)
        outcome: service.Outcome = write(lambda s: service.revoke(s, school_id, grant_id, actor))
        return grant_out(outcome.grant, outcome.changed)

    @app.get("/v1/schools/{school_id}/grants", response_model=list[GrantOut])
    def list_grants(
        school_id: SchoolId,
        principal: CurrentPrincipal,
        session: DbSession,
        role: Annotated[domain.Role | None, Query()] = None,
        status: Annotated[domain.Status | None, Query()] = None,
    ) -> list[GrantOut]:
        """The grants at the school, by role and status if asked."""
        responsible_at(principal, school_id)
        return [grant_out(g) for g in service.grants_at(session, school_id, role, status)]

    @app.get("/v1/schools/{school_id}/grants/{grant_id}", response_model=GrantOut)
    def read_grant(
        school_id: SchoolId, grant_id: str, principal: CurrentPrincipal, session: DbSession
    ) -> GrantOut:
        """One grant at the school."""
        responsible_at(principal, school_id)
        return grant_out(service.grant_row(session, school_id, grant_id).to_domain())

    # -- access requests -------------------------------------------------------------------

    @app.post(
        "/v1/schools/{school_id}/access-requests",
        response_model=AccessRequestOut,
        status_code=201,
    )
    def file_access_request(
        school_id: SchoolId, body: AccessRequestIn, principal: CurrentPrincipal
    ) -> AccessRequestOut:
        """A support network asks access for a support worker to the pupils they support."""
        network = network_of(principal)
        if body.support_network != network:
            raise HTTPException(
                403, "support_network: a network may only file requests in its own name"
            )
        row = write(
            lambda s: service.file_request(
                s,
                school_id,
                network,
                principal.subject,
                body.person_id,
                body.pupil_ids,
                body.motivation,
            )
        )
        return request_out(row)

    @app.get("/v1/schools/{school_id}/access-requests", response_model=list[AccessRequestOut])
    def list_access_requests(
        school_id: SchoolId,
        principal: CurrentPrincipal,
        session: DbSession,
        status: Annotated[RequestStatus | None, Query()] = None,
    ) -> list[AccessRequestOut]:
        """The school's access requests (pending ones with `?status=pending`)."""
        responsible_at(principal, school_id)
        return [request_out(r) for r in service.requests_at(session, school_id, status)]

    @app.post(
        "/v1/schools/{school_id}/access-requests/{request_id}/approve",
        response_model=AccessRequestOut,
    )
    def approve_access_request(
        school_id: SchoolId,
        request_id: str,
        principal: CurrentPrincipal,
        body: ApproveIn | None = None,
    ) -> AccessRequestOut:
        """Approve: the support worker gets (or extends) a grant limited to these pupils."""
        actor = responsible_at(principal, school_id)
        until = body.valid_until if body is not None else None
        row, outcome = write(
            lambda s: service.approve(s, school_id, request_id, actor, today(), until)
        )
        return request_out(row, grant_out(outcome.grant, outcome.changed))

    @app.post(
        "/v1/schools/{school_id}/access-requests/{request_id}/reject",
        response_model=AccessRequestOut,
    )
    def reject_access_request(
        school_id: SchoolId, request_id: str, body: RejectIn, principal: CurrentPrincipal
    ) -> AccessRequestOut:
        """Reject, with the reason the support network will read."""
        actor = responsible_at(principal, school_id)
        row = write(lambda s: service.reject(s, school_id, request_id, body.reason, actor))
        return request_out(row)

    @app.get("/v1/access-requests/{request_id}", response_model=AccessRequestOut)
    def read_access_request(
        request_id: str, principal: CurrentPrincipal, session: DbSession
    ) -> AccessRequestOut:
        """The outcome of a request, for the network that filed it or the school's responsible."""
        row = service.request_row(session, request_id)
        own_network = principal.support_network is not None and (
            principal.support_network == row.support_network
        )
        responsible = principal.is_person and row.school_id in principal.school_admin_of
        if not (own_network or responsible):
            raise HTTPException(403, "request_id: this access request is not yours")
        return request_out(row)

    # -- school-software clients -----------------------------------------------------------

    @app.post("/v1/schools/{school_id}/clients", response_model=NewClientOut, status_code=201)
    def register_client(
        school_id: SchoolId, body: ClientIn, principal: CurrentPrincipal
    ) -> NewClientOut:
        """Register school software; its secret is shown in this answer only."""
        actor = responsible_at(principal, school_id)
        row, secret = write(lambda s: service.register_client(s, school_id, body.name, actor))
        return NewClientOut(**client_out(row).model_dump(), client_secret=secret)

    @app.get("/v1/schools/{school_id}/clients", response_model=list[ClientOut])
    def list_clients(
        school_id: SchoolId, principal: CurrentPrincipal, session: DbSession
    ) -> list[ClientOut]:
        """The school's software clients (never their secrets)."""
        responsible_at(principal, school_id)
        return [client_out(r) for r in service.clients_at(session, school_id)]

    @app.post("/v1/schools/{school_id}/clients/{client_id}/revoke", response_model=ClientOut)
    def revoke_client(
        school_id: SchoolId, client_id: str, principal: CurrentPrincipal
    ) -> ClientOut:
        """Revoke a client: its secret buys no more tokens."""
        actor = responsible_at(principal, school_id)
        return client_out(write(lambda s: service.revoke_client(s, school_id, client_id, actor)))

    @app.post("/v1/token")
    async def issue_client_token(request: Request) -> JSONResponse:
        """OAuth2 client credentials: a short-lived token naming the client's school."""
        if not settings.client_issuer:
            return JSONResponse(
                {"detail": "this access service issues no client tokens (no client_issuer)"},
                status_code=503,
            )
        form = parse_qs((await request.body()).decode(errors="replace"))

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
        source = request.client.host if request.client else "unknown"
        wait = throttle.admit(source, credentials[0])
        if wait is not None:
            CLIENT_TOKENS.labels("throttled").inc()
            log.warning("client token attempts throttled", extra={"client_id": credentials[0]})
            answer = oauth_error(429, "slow_down", "too many attempts; try again later")
            answer.headers["Retry-After"] = str(wait)
            return answer

        def authenticate() -> ClientRow | ServiceClientRow | None:
            with sessions() as session:
                if session.get(ServiceClientRow, credentials[0]) is not None:
                    return service_clients.authenticate(session, *credentials)
                return service.authenticate_client(session, *credentials)

        client = await asyncio.to_thread(authenticate)
        if client is None:
            throttle.failed(source, credentials[0])
            CLIENT_TOKENS.labels("invalid_client").inc()
            return oauth_error(401, "invalid_client", "unknown client, wrong secret or revoked")
        throttle.succeeded(client.client_id)
        ttl = settings.access_client_token_ttl_seconds
        if isinstance(client, ServiceClientRow):
            # a service of the platform (a token for the internal APIs only), or a support
            # network's software (its network named in the token)
            subject, internal, claims = service_clients.token_claims(client)
            audience = settings.internal_audience if internal else settings.audience
            token = mint(key, settings.client_issuer, subject, audience, ttl_seconds=ttl, **claims)
        else:
            token = mint(
                key,
                settings.client_issuer,
                f"client:{client.client_id}",
                settings.audience,
                ttl_seconds=ttl,
                school_id=client.school_id,
                client_name=client.name,
            )
        CLIENT_TOKENS.labels("issued").inc()
        return JSONResponse(
            {"access_token": token, "token_type": "Bearer", "expires_in": ttl},
            headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
        )

    @app.get("/jwks.json", include_in_schema=False)
    async def jwks() -> dict[str, Any]:
        return {"keys": [key.jwk()]}

    @app.get("/.well-known/openid-configuration", include_in_schema=False)
    async def openid_configuration() -> dict[str, Any]:
        issuer = settings.client_issuer or ""
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

    # -- audit -----------------------------------------------------------------------------

    @app.get("/v1/schools/{school_id}/audit", response_model=list[AuditOut])
    def read_audit(
        school_id: SchoolId,
        principal: CurrentPrincipal,
        session: DbSession,
        limit: Annotated[int, Query(ge=1, le=5000)] = 500,
    ) -> list[AuditOut]:
        """Every change at the school, newest first: who, what, when, before and after."""
        responsible_at(principal, school_id)
        return [audit_out(r) for r in service.audit_at(session, school_id, limit)]

    return app
