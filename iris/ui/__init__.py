"""The shared web foundation of IRIS's pages: look, languages, sign-in, CSRF.

A service adds pages to its FastAPI app with

    pages = install_pages(app, settings, SERVICE, template_dirs=[HERE / "templates"])

and then writes routes such as

    @app.get("/pupils", response_class=HTMLResponse)
    def pupils_page(request: Request, principal: PagePrincipal) -> HTMLResponse:
        return pages.render(request, "pupils.html", {...})

    @app.post("/grants/{grant_id}/revoke", dependencies=[CsrfProtected])
    def revoke_grant(...): ...

See `iris/ui/templates/` for `base.html` (every page extends it) and
`forms.html` (field, CSRF and confirmation macros).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from iris.errors import RuleBroken
from iris.settings import Settings
from iris.ui import i18n
from iris.ui.home import home_router
from iris.ui.navigation import Navigation
from iris.ui.pages import Pages, mount_static, safe_next, wants_html
from iris.ui.privacy import privacy_router
from iris.ui.session import (
    SESSION_COOKIE,
    CsrfProtected,
    OptionalPrincipal,
    PagePrincipal,
    SessionOrBearerPrincipal,
    SignInRequired,
    csrf_token,
    install_session,
    require_csrf,
    session_access_token,
)
from iris.ui.signin import signin_router
from iris.web import rule_broken_answer

__all__ = [
    "CsrfProtected",
    "OptionalPrincipal",
    "PagePrincipal",
    "Pages",
    "SessionOrBearerPrincipal",
    "csrf_token",
    "install_pages",
    "require_csrf",
    "session_access_token",
]


def install_pages(
    app: FastAPI,
    settings: Settings,
    service: str,
    template_dirs: Sequence[Path] = (),
    signin: bool = True,
    home: bool = True,
    session_cookie: str = SESSION_COOKIE,
) -> Pages:
    """Give `app` the shared look, the language switch, sessions and (optionally) sign-in.

    Adds: the session cookie middleware, /static/iris, /language/{code},
    /auth/login|callback|logout when `signin`, the home page `/` when `home`,
    and HTML error pages for browsers, also for a rule broken (`iris.errors`) that no
    form showed (APIs keep their JSON answers).
    `app.state.verifier` must be set (it verifies the signed-in person's token).
    """
    pages = Pages(template_dirs, Navigation.of(settings, service))
    app.state.pages = pages
    app.state.signin = signin
    install_session(app, settings, session_cookie)
    mount_static(app)
    app.add_api_route("/language/{code}", choose_language, methods=["GET"], include_in_schema=False)
    if signin:
        app.include_router(signin_router(settings, service, pages))
    if home:
        app.include_router(home_router(pages))
    app.include_router(privacy_router(pages, settings))

    app.add_exception_handler(SignInRequired, _sign_in_first)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RuleBroken, _rule_broken)
    return pages


async def _sign_in_first(request: Request, _exc: Exception) -> Response:
    return RedirectResponse(
        str(request.url_for("auth_login").include_query_params(next=_here(request))),
        status_code=303,
    )


async def _error_page(request: Request, status: int) -> Response:
    """The shared error page for `status`, in the visitor's language."""
    pages: Pages = request.app.state.pages
    _ = i18n.gettext_for(request).gettext
    titles = {
        403: _("Not allowed"),
        404: _("Page not found"),
    }
    messages = {
        403: _("You may not do this, or the form had expired. Go back, reload and try again."),
        404: _("This page does not exist."),
    }
    return await run_in_threadpool(
        pages.render,
        request,
        "error.html",
        {
            "title": titles.get(status, _("Something went wrong")),
            "message": messages.get(status, _("Please try again later.")),
        },
        status_code=status,
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if not wants_html(request):
        return JSONResponse(
            {"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers
        )
    return await _error_page(request, exc.status_code)


async def _rule_broken(request: Request, exc: Exception) -> Response:
    """A rule broken that no form showed next to its field: the JSON answer of every
    API, or for a browser the error page of its status."""
    assert isinstance(exc, RuleBroken)
    if not wants_html(request):
        return rule_broken_answer(exc)
    return await _error_page(request, exc.status)


def _here(request: Request) -> str:
    return request.url.path + (f"?{request.url.query}" if request.url.query else "")


def choose_language(request: Request, code: str, next: str | None = None) -> Response:
    """The language switch: remember the choice in a cookie and go back."""
    response = RedirectResponse(safe_next(next), status_code=303)
    if code in i18n.LANGUAGES:
        response.set_cookie(
            i18n.LANGUAGE_COOKIE,
            code,
            max_age=365 * 24 * 3600,
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
        )
    return response
