"""The signed session cookie, CSRF protection and who is signed in.

The session is a cookie signed with `IRIS_SESSION_SECRET` (Starlette's
SessionMiddleware): HttpOnly, SameSite=Lax, Secure unless IRIS_ENV is
development or test. After sign-in it holds the verified claims and the access
token; every request re-verifies the access token, so an expired one signs the
person out.
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request
from starlette.middleware.sessions import SessionMiddleware

from iris.auth import AuthError, Principal
from iris.settings import Settings
from iris.web import app_verifier

SESSION_COOKIE = "iris_session"
DEVELOPMENT_SESSION_SECRET = "iris-development-session-secret"  # noqa: S105
USER_KEY = "user"
CSRF_KEY = "csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


def session_secret(settings: Settings) -> str:
    """The secret that signs session cookies; production refuses the development default."""
    secret = settings.session_secret
    if settings.env == "production" and (secret == DEVELOPMENT_SESSION_SECRET or len(secret) < 32):
        raise RuntimeError(
            "IRIS_SESSION_SECRET must be set to a long random value when IRIS_ENV=production"
        )
    return secret


def install_session(app: FastAPI, settings: Settings, cookie: str = SESSION_COOKIE) -> None:
    """Sign session cookies; services on one host share `iris_session` (one sign-in)."""
    app.add_middleware(
        SessionMiddleware,
        secret_key=session_secret(settings),
        session_cookie=cookie,
        max_age=8 * 3600,
        same_site="lax",
        https_only=settings.env not in ("development", "test"),
    )


# -- CSRF -----------------------------------------------------------------------------------


def csrf_token(request: Request) -> str:
    """The session's CSRF token (made on first use); forms carry it as `csrf_token`."""
    token = request.session.get(CSRF_KEY)
    if not token:
        token = secrets.token_urlsafe(32)
        request.session[CSRF_KEY] = token
    return str(token)


def rotate_csrf_token(request: Request) -> None:
    request.session[CSRF_KEY] = secrets.token_urlsafe(32)


async def require_csrf(request: Request) -> None:
    """403 unless the form field `csrf_token` (or header X-CSRF-Token) matches the session's.

    A request authenticated by a bearer header carries no ambient credentials,
    so it needs no CSRF token.
    """
    if _bearer_token(request) is not None:
        return
    expected = request.session.get(CSRF_KEY)
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.method not in ("GET", "HEAD", "OPTIONS"):
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            value = (await request.form()).get(CSRF_FIELD)
            sent = value if isinstance(value, str) else None
    if not expected or not sent or not secrets.compare_digest(str(expected), sent):
        raise HTTPException(403, "csrf_token: missing or wrong; reload the page and try again")


CsrfProtected = Depends(require_csrf)


# -- who is signed in -----------------------------------------------------------------------


class SignInRequired(Exception):
    """A page needs a signed-in person; answered with a redirect to /auth/login."""


def _bearer_token(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def sign_in(request: Request, principal: Principal, access_token: str) -> None:
    """Keep the verified identity in the session (a new CSRF token with it)."""
    request.session.clear()
    request.session[USER_KEY] = {"claims": principal.claims, "access_token": access_token}
    rotate_csrf_token(request)
    request.state.principal = principal


def sign_out(request: Request) -> None:
    request.session.clear()
    request.state.principal = None


def session_principal(request: Request) -> Principal | None:
    """The person signed in to this session, or None (also when the token has expired)."""
    user: dict[str, Any] | None = request.session.get(USER_KEY)
    if not user or not user.get("access_token"):
        return None
    try:
        return app_verifier(request).verify(str(user["access_token"]))
    except AuthError:
        request.session.pop(USER_KEY, None)
        return None


def session_access_token(request: Request) -> str | None:
    """The signed-in person's access token, to call other IRIS APIs on their behalf."""
    user = request.session.get(USER_KEY) or {}
    token = user.get("access_token")
    return str(token) if token else None


def optional_principal(request: Request) -> Principal | None:
    """From a bearer header (APIs) or the session (pages); None when neither.

    A bearer header that is present but invalid is a 401, never a fallback.
    """
    if hasattr(request.state, "principal"):  # already answered for this request
        known: Principal | None = request.state.principal
        return known
    token = _bearer_token(request)
    principal: Principal | None = None
    if token is not None:
        try:
            principal = app_verifier(request).verify(token)
        except AuthError as exc:
            raise HTTPException(
                401, str(exc), headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}
            ) from exc
    elif "session" in request.scope:
        principal = session_principal(request)
    request.state.principal = principal
    return principal


def principal_known(request: Request) -> bool:
    """Settle `optional_principal` without blocking when the request's bearer token was
    verified lately; True when settled, False when it needs a full verification."""
    if hasattr(request.state, "principal"):
        return True
    token = _bearer_token(request)
    known = app_verifier(request).known(token) if token is not None else None
    if known is None:
        return False
    request.state.principal = known
    return True


def api_or_session_principal(request: Request) -> Principal:
    """401 unless a bearer header or the session names someone."""
    principal = optional_principal(request)
    if principal is None:
        raise HTTPException(401, "sign in first", headers={"WWW-Authenticate": "Bearer"})
    return principal


def page_principal(request: Request) -> Principal:
    """Like `api_or_session_principal`, but a page sends an anonymous visitor to sign in."""
    principal = optional_principal(request)
    if principal is None:
        raise SignInRequired()
    return principal


OptionalPrincipal = Annotated[Principal | None, Depends(optional_principal)]
SessionOrBearerPrincipal = Annotated[Principal, Depends(api_or_session_principal)]
PagePrincipal = Annotated[Principal, Depends(page_principal)]
