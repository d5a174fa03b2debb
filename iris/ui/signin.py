"""Signing in with OpenID Connect: authorization code flow with PKCE (S256), via authlib.

A service mounts `signin_router(settings, service)`; it serves
`/auth/login?next=/path`, `/auth/callback`, `/auth/logout` (GET asks to
confirm, POST with the CSRF token signs out) and `/auth/signed-out`, where signing out
lands: a page of the service itself that needs nobody signed in, so the browser leaves
the page it signed out from even where the content security policy allows forms to post
to this origin only (`form-action 'self'` also governs the redirects after a post: one
on to the sign-in service would be blocked, and the page would stay on screen).

The access token is verified with the app's `TokenVerifier` (issuer, audience "iris",
expiry, RS256) before it is kept in the session, together with its claims.
"""

from __future__ import annotations

import logging
from typing import Annotated
from urllib.parse import urlencode

import httpx
from authlib.integrations.starlette_client import OAuth, OAuthError
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from iris.auth import AuthError
from iris.settings import Settings
from iris.ui.i18n import gettext_for
from iris.ui.pages import Pages, safe_next
from iris.ui.session import require_csrf, sign_in, sign_out
from iris.web import app_verifier

log = logging.getLogger(__name__)
NEXT_KEY = "next"


def _issuer_unreachable() -> tuple[type[Exception], ...]:
    """The errors of the HTTP client authlib talks to the issuer with: httpx2 where it is
    installed (authlib prefers it), else httpx."""
    try:
        import httpx2
    except ImportError:
        return (httpx.HTTPError,)
    return (httpx.HTTPError, httpx2.HTTPError)


ISSUER_UNREACHABLE = _issuer_unreachable()
CLIENT = "iris"


def oauth_client(settings: Settings, service: str) -> OAuth:
    oauth = OAuth()
    issuer = settings.oidc_issuer.rstrip("/")
    oauth.register(
        name=CLIENT,
        client_id=settings.oidc_client_id or service,
        client_secret=settings.oidc_client_secret,
        server_metadata_url=f"{issuer}/.well-known/openid-configuration",
        client_kwargs={
            "scope": "openid profile",
            "code_challenge_method": "S256",
            "token_endpoint_auth_method": (
                "client_secret_post" if settings.oidc_client_secret else "none"
            ),
        },
    )
    return oauth


async def error_page(
    pages: Pages, request: Request, title: str, message: str, status: int
) -> Response:
    """The error page of a sign-in that could not be done (rendered off the event loop)."""
    values = {"title": title, "message": message}
    response: Response = await run_in_threadpool(
        pages.render, request, "error.html", values, status_code=status
    )
    return response


def signin_router(settings: Settings, service: str, pages: Pages) -> APIRouter:
    oauth = oauth_client(settings, service)
    router = APIRouter(prefix="/auth", include_in_schema=False)

    @router.get("/login", name="auth_login")
    async def login(request: Request, next: str | None = None) -> Response:
        """Send the browser to the issuer's sign-in page."""
        request.session[NEXT_KEY] = safe_next(next)
        client = oauth.create_client(CLIENT)
        redirect_uri = str(request.url_for("auth_callback"))
        try:
            response: Response = await client.authorize_redirect(request, redirect_uri)
        except ISSUER_UNREACHABLE as exc:
            log.warning("the sign-in service did not answer: %s", type(exc).__name__)
            _ = gettext_for(request).gettext
            return await error_page(
                pages,
                request,
                _("Sign-in is unavailable"),
                _("The sign-in service does not answer. Please try again later."),
                503,
            )
        return response

    @router.get("/callback", name="auth_callback")
    async def callback(request: Request) -> Response:
        """Exchange the code, verify the token, keep the identity in the session."""
        _ = gettext_for(request).gettext
        client = oauth.create_client(CLIENT)
        try:
            token = await client.authorize_access_token(request)
            # verification may fetch the issuer's JWKS: keep it off the event loop
            principal = await run_in_threadpool(
                app_verifier(request).verify, str(token["access_token"])
            )
        except (OAuthError, AuthError, KeyError) as exc:
            log.warning("sign-in failed: %s", type(exc).__name__)
            return await error_page(
                pages,
                request,
                _("Sign-in failed"),
                _("Signing in did not succeed. Please try again."),
                400,
            )
        target = safe_next(request.session.get(NEXT_KEY))
        sign_in(request, principal, str(token["access_token"]))
        on_sign_in = getattr(request.app.state, "on_sign_in", None)
        if on_sign_in is not None:  # a service keeping something of the sign-in (an address)
            await run_in_threadpool(on_sign_in, principal)
        return RedirectResponse(target, status_code=303)

    @router.get("/logout", name="auth_logout")
    def confirm_logout(request: Request) -> Response:
        """Ask to confirm signing out (the form posts back here)."""
        _ = gettext_for(request).gettext
        return pages.confirm(
            request,
            title=_("Sign out"),
            question=_("Do you want to sign out of IRIS?"),
            action=str(request.url_for("auth_logout_post").path),
            confirm_label=_("Sign out"),
            cancel_url="/",
            danger=False,
        )

    @router.post("/logout", name="auth_logout_post", dependencies=[Depends(require_csrf)])
    async def logout(request: Request, next: Annotated[str | None, Form()] = None) -> Response:
        """Forget the session's identity; land on this service's signed-out page."""
        sign_out(request)
        target = str(request.url_for("auth_signed_out").path)
        return RedirectResponse(f"{target}?{urlencode({'next': safe_next(next)})}", 303)

    @router.get("/signed-out", name="auth_signed_out")
    def signed_out(request: Request, next: str | None = None) -> Response:
        """Say that the person is signed out, with the way to sign in again."""
        again = f"{request.url_for('auth_login').path}?{urlencode({'next': safe_next(next)})}"
        return pages.render(request, "signed_out.html", {"sign_in_again": again})

    return router
