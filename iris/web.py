"""What every service's FastAPI app has: health, readiness, metrics, request ids,
errors that name the field without echoing input, and bearer authentication."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from iris import logs
from iris.auth import AuthError, Principal, TokenVerifier
from iris.errors import RuleBroken

log = logging.getLogger(__name__)

HTTP_REQUESTS = Counter(
    "iris_http_requests_total", "HTTP requests answered", ["service", "method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "iris_http_request_duration_seconds",
    "HTTP request latency",
    ["service", "method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
OUTBOX_BACKLOG = Gauge("iris_outbox_backlog", "Outbox rows not yet published", ["service"])
OUTBOX_PUBLISHED = Gauge(
    "iris_outbox_published_total", "Outbox rows published by this process", ["service"]
)

ReadinessCheck = Callable[[], Awaitable[str | None]]


def field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    """Validation errors naming the field, without the submitted value (it may be private)."""
    errors = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ())]
        field = ".".join(p for p in loc if p not in ("body", "query", "path", "header"))
        errors.append(
            {
                "field": field or ".".join(loc),
                "loc": loc,
                "msg": err.get("msg"),
                "type": err.get("type"),
            }
        )
    return errors


def rule_broken_answer(exc: RuleBroken) -> JSONResponse:
    return JSONResponse(status_code=exc.status, content=exc.body())


async def _rule_broken(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RuleBroken)
    return rule_broken_answer(exc)


class _HttpMiddleware:
    """Plain ASGI middleware that acts on HTTP requests (`http`); anything else (lifespan,
    websockets) passes through untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self.http(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise NotImplementedError


class RequestContext(_HttpMiddleware):
    """Request id (from `X-Request-Id` or new) for the logs and the response, and the
    request metrics. Plain ASGI: it wraps `send` instead of running the app in a task."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        super().__init__(app)
        self.service = service

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        rid = Headers(scope=scope).get("x-request-id") or uuid.uuid4().hex
        token = logs.request_id.set(rid)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)["x-request-id"] = rid
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            template = getattr(scope.get("route"), "path", "unmatched")
            method = scope["method"]
            HTTP_REQUESTS.labels(self.service, method, template, str(status)).inc()
            HTTP_LATENCY.labels(self.service, method, template).observe(
                time.perf_counter() - started
            )
            logs.request_id.reset(token)


class BodyLimit(_HttpMiddleware):
    """413 for a request body larger than `max_bytes`, before any route reads it: told by
    Content-Length, else (a chunked upload) read here up to the limit and handed on."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        super().__init__(app)
        self.max_bytes = max_bytes

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        declared = Headers(scope=scope).get("content-length")
        if declared is not None:
            if not declared.isdigit() or int(declared) > self.max_bytes:
                await self._refuse(scope, send)
            else:
                await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        received = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                await self._refuse(scope, send)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": b"".join(chunks), "more_body": False}

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        response = JSONResponse(
            {"detail": f"body: larger than {self.max_bytes} bytes"},
            status_code=413,
            headers={"Connection": "close"},
        )
        await response(scope, _no_body, send)


async def _no_body() -> Message:
    return {"type": "http.disconnect"}


def create_base_app(
    service: str,
    readiness: list[tuple[str, ReadinessCheck]] | None = None,
    max_body_bytes: int = 1_048_576,
    **kwargs: Any,
) -> FastAPI:
    app = FastAPI(title=f"IRIS {service}", **kwargs)
    app.state.service = service
    checks = list(readiness or [])
    app.state.readiness = checks

    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)
    app.add_middleware(RequestContext, service=service)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = field_errors(exc)
        return JSONResponse(
            status_code=422,
            content={"detail": errors, "fields": sorted({e["field"] for e in errors})},
        )

    app.add_exception_handler(RuleBroken, _rule_broken)

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    @app.exception_handler(SQLAlchemyTimeoutError)
    async def _database_unavailable(_request: Request, exc: Exception) -> JSONResponse:
        log.warning("database unavailable", extra={"error": type(exc).__name__})
        return JSONResponse(
            status_code=503,
            content={"detail": "the service's database is not available; try again shortly"},
            headers={"Retry-After": "2"},
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(
            status_code=exc.status_code, content={"detail": exc.detail}, headers=exc.headers
        )

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": service}

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> JSONResponse:
        """Ready or not, and which part is not: the exception goes to the log only (its
        text may name hosts, users or paths)."""
        problems = {}
        for name, check in app.state.readiness:
            try:
                problem = await check()
            except Exception:
                log.warning("readiness check failed", extra={"check": name}, exc_info=True)
                problem = "unavailable"
            if problem:
                problems[name] = problem
        if problems:
            return JSONResponse({"status": "not ready", "problems": problems}, status_code=503)
        return JSONResponse({"status": "ready", "service": service})

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> PlainTextResponse:
        for hook in getattr(app.state, "metrics_hooks", []):
            await hook()
        return PlainTextResponse(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return app


def bearer_principal(
    verifier_of: Callable[[Request], TokenVerifier],
) -> Callable[..., Awaitable[Principal]]:
    """A dependency that answers 401 unless the request carries a valid bearer token."""

    from fastapi import HTTPException

    async def dependency(request: Request) -> Principal:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise HTTPException(401, "missing bearer token", headers={"WWW-Authenticate": "Bearer"})
        verifier = verifier_of(request)
        # a token verified lately is answered at once; a new one is verified in a worker
        # thread (fetching an issuer's keys may block)
        known = verifier.known(token.strip())
        if known is not None:
            return known
        try:
            return await run_in_threadpool(verifier.verify, token.strip())
        except AuthError as exc:
            raise HTTPException(
                401, str(exc), headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}
            ) from exc

    return dependency


def app_verifier(request: Request) -> TokenVerifier:
    verifier: TokenVerifier = request.app.state.verifier
    return verifier


CurrentPrincipal = Annotated[Principal, Depends(bearer_principal(app_verifier))]


def request_session(request: Request) -> Iterator[Session]:
    """A database session of the service's `app.state.sessions`, closed after the request."""
    with request.app.state.sessions() as session:
        yield session


DbSession = Annotated[Session, Depends(request_session)]
