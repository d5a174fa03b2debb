"""The report in school software's frame: `/embed/…`.

School software on another site frames the viewer. Identity providers refuse to be
framed, so a person who is not signed in gets a button that opens the ordinary sign-in
(`/auth/login`, itsme/eID) in a popup window. The popup ends at `/embed/signin/done`,
which hands a short-lived signed code to the frame with `postMessage` (to this origin
only); the frame posts it, with its CSRF token, to `/embed/session`, and the code must
carry the `state` the frame's own session made, so nobody can sign a frame in as someone
else. The frame's session is its own cookie, `iris_embed`, `SameSite=None; Secure;
Partitioned`: sent inside a cross-site frame, and kept apart per embedding site.

Which pages may frame it (`frame-ancestors`): the origins the school names for its
school-software clients at the access service, asked on its internal route and kept for
`ORIGINS_SECONDS`, together with `IRIS_EMBED_ORIGINS`; when the access service cannot say,
only the latter (fail closed).

School software opens the frame at `/embed/launch?ticket=…` with a single-use launch
ticket it obtained from the access service; the viewer redeems it there and goes on to
`/embed/report?launch=…`, whose handle is the pupil and school encrypted, so no INSZ is
in any frame URL. The person is still checked as on every view (`show_report`).
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import secrets
import time
from typing import Annotated, Any
from urllib.parse import urlsplit

import httpx
import itsdangerous
from cryptography.fernet import Fernet, InvalidToken
from fastapi import APIRouter, FastAPI, Form, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from iris.auth import AuthError, Principal
from iris.insz import InstitutionNumber
from iris.settings import Settings
from iris.ui.session import CSRF_HEADER, PagePrincipal, session_access_token, session_secret
from iris.web import app_verifier
from services.viewer.reports_token import ServiceToken, TokenUnavailable
from services.viewer.routes.reports import show_report

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)

EMBED_COOKIE = "iris_embed"
SESSION_SECONDS = 8 * 3600
HANDOFF_SECONDS = 120
ORIGINS_SECONDS = 30.0
NAMES_SECONDS = 300.0
"""How long a school's name, from the register of schools, is kept before it is asked again."""
SCRIPT_POLICY = (
    "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; "
    "img-src 'self' data:; base-uri 'none'; form-action 'none'"
)
State = Annotated[str, Query(min_length=16, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")]


class Embedding:
    """What the /embed routes share: signing, the launch handles, the access service."""

    def __init__(self, settings: Settings, http: httpx.AsyncClient) -> None:
        secret = session_secret(settings)
        self.sessions = itsdangerous.URLSafeTimedSerializer(secret, salt="iris-embed-session")
        self.handoffs = itsdangerous.URLSafeTimedSerializer(secret, salt="iris-embed-handoff")
        key = hashlib.sha256(f"iris-embed-launch:{secret}".encode()).digest()
        self.launches = Fernet(base64.urlsafe_b64encode(key))
        # the access service's own address (its client issuer), else its public one
        self.access_url = (settings.client_issuer or settings.access_url).rstrip("/")
        self.global_origins = list(settings.embed_origins)
        self.http = http
        self.token = ServiceToken(settings, http)
        self._origins: dict[str, tuple[float, list[str]]] = {}
        self._names: dict[str, tuple[float, str]] = {}
        self._names_refused_at = -ORIGINS_SECONDS  # asked in vain: not again for a while

    # -- the frame's session ---------------------------------------------------------------

    def read_session(self, request: Request) -> dict[str, Any]:
        raw = request.cookies.get(EMBED_COOKIE)
        if not raw:
            return {}
        try:
            value = self.sessions.loads(raw, max_age=SESSION_SECONDS)
        except itsdangerous.BadData:
            return {}
        return value if isinstance(value, dict) else {}

    def write_session(self, response: Response, value: dict[str, Any]) -> None:
        # Starlette cannot write `Partitioned` yet: the header is written whole
        cookie = (
            f"{EMBED_COOKIE}={self.sessions.dumps(value)}; Path=/embed; "
            f"Max-Age={SESSION_SECONDS}; HttpOnly; Secure; SameSite=None; Partitioned"
        )
        response.headers.append("Set-Cookie", cookie)

    def principal(self, request: Request, session: dict[str, Any]) -> Principal | None:
        """A bearer header (school software's own tests, API clients) or the frame's session."""
        scheme, _, bearer = request.headers.get("authorization", "").partition(" ")
        token = bearer.strip() if scheme.lower() == "bearer" and bearer.strip() else None
        try:
            if token is not None:
                return app_verifier(request).verify(token)
            if session.get("token"):
                return app_verifier(request).verify(str(session["token"]))
        except AuthError as exc:
            if token is not None:
                raise HTTPException(401, str(exc)) from exc
        return None

    # -- launch handles --------------------------------------------------------------------

    def launch_handle(self, pupil_id: str, school_id: str) -> str:
        plain = json.dumps({"pupil_id": pupil_id, "school_id": school_id}).encode()
        return self.launches.encrypt(plain).decode()

    def launch_of(self, handle: str) -> tuple[str, str] | None:
        try:
            value = json.loads(self.launches.decrypt(handle.encode(), ttl=SESSION_SECONDS))
            return str(value["pupil_id"]), str(value["school_id"])
        except (InvalidToken, ValueError, KeyError, TypeError):
            return None

    # -- the access service ----------------------------------------------------------------

    async def _ask(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {await self.token()}"}
        return await self.http.request(method, self.access_url + path, headers=headers, **kwargs)

    async def redeem(self, ticket: str) -> tuple[str, str] | None:
        """The pupil and school a launch ticket opens; None when it opens nothing."""
        try:
            answer = await self._ask(
                "POST", "/internal/launch-tickets/redeem", json={"ticket": ticket}
            )
            if answer.status_code in (404, 422):
                return None
            answer.raise_for_status()
            body = answer.json()
            return str(body["pupil_id"]), str(body["school_id"])
        except (httpx.HTTPError, TokenUnavailable, ValueError, KeyError) as exc:
            log.warning("launch ticket not redeemed", extra={"error": type(exc).__name__})
            return None

    async def frame_origins(self, school_id: str | None) -> list[str]:
        """The origins that may frame this school's pages (the global ones always)."""
        if school_id is None:
            return self.global_origins
        known = self._origins.get(school_id)
        if known is not None and time.monotonic() - known[0] < ORIGINS_SECONDS:
            return self.global_origins + known[1]
        try:
            answer = await self._ask("GET", f"/internal/schools/{school_id}/frame-origins")
            answer.raise_for_status()
            origins = [str(o) for o in answer.json()["frame_origins"]]
        except (httpx.HTTPError, TokenUnavailable, ValueError, KeyError) as exc:
            log.warning("frame origins unavailable", extra={"error": type(exc).__name__})
            return self.global_origins
        self._origins[school_id] = (time.monotonic(), origins)
        return self.global_origins + origins

    async def school_names(self, schools: list[str]) -> dict[str, str]:
        """The register's names of these schools, those it knows; none while the access
        service cannot say (a page then names a school by its number)."""
        now = time.monotonic()
        fresh = {s: n for s, (at, n) in self._names.items() if now - at < NAMES_SECONDS}
        wanted = sorted(set(schools) - fresh.keys())
        if wanted and now - self._names_refused_at >= ORIGINS_SECONDS:
            try:
                answer = await self._ask(
                    "GET", "/internal/school-names", params={"school_id": wanted}
                )
                answer.raise_for_status()
                names = {str(k): str(v) for k, v in answer.json()["names"].items()}
            except (httpx.HTTPError, TokenUnavailable, ValueError, KeyError) as exc:
                log.warning("school names unavailable", extra={"error": type(exc).__name__})
                self._names_refused_at, names = now, {}
            self._names.update({s: (now, n) for s, n in names.items()})
            fresh.update(names)
        return {s: fresh[s] for s in schools if s in fresh}


def embedding(request: Request) -> Embedding:
    found: Embedding = request.app.state.embedding
    return found


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def framed_elsewhere(request: Request, origins: list[str]) -> bool:
    """A frame whose embedding page says (by `Referer`) that it is not one the school
    allowed: no view is made for it. Without a `Referer`, frame-ancestors alone decides."""
    referer = request.headers.get("referer")
    if request.headers.get("sec-fetch-dest") != "iframe" or not referer:
        return False
    origin = origin_of(referer)
    return origin != origin_of(str(request.base_url)) and origin not in origins


def allow_framing_by(request: Request, origins: list[str]) -> None:
    """The ancestors SecurityHeaders writes for this answer ('none' when empty)."""
    request.state.frame_ancestors = " ".join(origins) or "'none'"


def not_here(request: Request) -> Response:
    log.info("frame refused: embedded by a page the school did not allow")
    return request.app.state.pages.render(  # type: ignore[no-any-return]
        request, "embed_expired.html", status_code=403
    )


async def framed_report(request: Request, pupil_id: str, school_id: str | None) -> Response:
    """The report for the frame's person, or the sign-in button when nobody is signed in."""
    embed = embedding(request)
    origins = await embed.frame_origins(school_id)
    allow_framing_by(request, origins)
    if framed_elsewhere(request, origins):
        return not_here(request)
    session = embed.read_session(request)
    principal = await run_in_threadpool(embed.principal, request, session)
    if principal is not None:
        state = request.app.state
        return await show_report(
            request, pupil_id, school_id, principal, "embedded", state.deps, state.pages
        )
    session.setdefault("csrf", secrets.token_urlsafe(32))
    session.setdefault("state", secrets.token_urlsafe(24))
    request.state.page_policy = SCRIPT_POLICY
    done = request.url_for("embed_signed_in").include_query_params(state=session["state"])
    answer = request.app.state.pages.render(
        request,
        "embed_signin.html",
        {"signin_url": done.path + "?" + done.query, "embed_csrf": session["csrf"]},
    )
    embed.write_session(answer, session)
    return answer


@router.get("/embed/launch")
async def launch(request: Request, ticket: Annotated[str, Query(max_length=200)]) -> Response:
    """School software's frame URL: the ticket is redeemed once, then the report follows."""
    embed = embedding(request)
    opened = await embed.redeem(ticket)
    if opened is None:
        allow_framing_by(request, embed.global_origins)
        return request.app.state.pages.render(request, "embed_expired.html", status_code=404)
    pupil_id, school_id = opened
    origins = await embed.frame_origins(school_id)
    allow_framing_by(request, origins)
    if framed_elsewhere(request, origins):
        return not_here(request)
    target = request.url_for("embed_report").include_query_params(
        launch=embed.launch_handle(pupil_id, school_id)
    )
    return RedirectResponse(target.path + "?" + target.query, status_code=303)


@router.get("/embed/report", name="embed_report", response_class=HTMLResponse)
async def report_of_launch(
    request: Request, launch: Annotated[str, Query(max_length=1000)]
) -> Response:
    """The report of the pupil a launch ticket named (the URL holds no INSZ)."""
    embed = embedding(request)
    opened = embed.launch_of(launch)
    if opened is None:
        allow_framing_by(request, embed.global_origins)
        return request.app.state.pages.render(request, "embed_expired.html", status_code=404)
    return await framed_report(request, *opened)


@router.get("/embed/pupils/{pupil_id}/report", response_class=HTMLResponse)
async def embedded_report(
    request: Request,
    pupil_id: Annotated[str, Path(max_length=20)],
    school_id: Annotated[InstitutionNumber | None, Query()] = None,
) -> Response:
    """The pupil's report for a school-software frame (granted staff)."""
    return await framed_report(request, pupil_id, school_id)


@router.get("/embed/signin/done", name="embed_signed_in", response_class=HTMLResponse)
def signed_in(request: Request, principal: PagePrincipal, state: State) -> Response:
    """The popup's last page: hands the sign-in to the frame that opened it, and closes."""
    token = session_access_token(request)
    if token is None:
        raise HTTPException(401, "sign in first")
    code = embedding(request).handoffs.dumps({"token": token, "state": state})
    allow_framing_by(request, [])
    request.state.page_policy = SCRIPT_POLICY
    return request.app.state.pages.render(  # type: ignore[no-any-return]
        request, "embed_signed_in.html", {"handoff": code}
    )


@router.post("/embed/session", status_code=204)
async def take_sign_in(request: Request, code: Annotated[str, Form(max_length=8000)]) -> Response:
    """The frame keeps the person the popup signed in (its CSRF token and state checked)."""
    embed = embedding(request)
    session = embed.read_session(request)
    sent = request.headers.get(CSRF_HEADER, "")
    expected = str(session.get("csrf", ""))
    if not expected or not secrets.compare_digest(expected, sent):
        raise HTTPException(403, "csrf_token: missing or wrong; reload the frame")
    if request.headers.get("sec-fetch-site", "same-origin") != "same-origin":
        raise HTTPException(403, "origin: only the frame itself may sign it in")
    try:
        handed = embed.handoffs.loads(code, max_age=HANDOFF_SECONDS)
        if not secrets.compare_digest(str(handed["state"]), str(session.get("state", ""))):
            raise HTTPException(403, "state: this sign-in was not started by this frame")
        await run_in_threadpool(app_verifier(request).verify, str(handed["token"]))
    except (itsdangerous.BadData, KeyError, TypeError, AuthError) as exc:
        raise HTTPException(403, "code: not a valid sign-in; sign in again") from exc
    fresh = {"token": handed["token"], "csrf": secrets.token_urlsafe(32)}
    answer = Response(status_code=204)
    embed.write_session(answer, fresh)
    return answer


def install_embedding(app: FastAPI, settings: Settings, http: httpx.AsyncClient) -> None:
    """The viewer's /embed routes."""
    app.state.embedding = Embedding(settings, http)
    app.include_router(router)
