"""The development OIDC issuer: the local stand-in for itsme/eID.

A small OpenID provider for the authorization code flow with PKCE (S256):
`/authorize` shows a sign-in page listing the demo people of `iris.seed`, one
click signs in as that person; `/token` exchanges the single-use, short-lived
code for an `id_token` and an `access_token` (RS256, the person's claims). The
clients are the services, each with its `/auth/callback`. It also serves the
JWKS that services use to verify these tokens and those `iris token` mints from
the same key under IRIS_DATA_DIR. It refuses to start when IRIS_ENV=production.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from iris.auth import (
    SigningKey,
    TokenVerifier,
    TrustedIssuer,
    dev_issuer_key,
    dev_issuer_key_path,
)
from iris.issuer_codes import AuthorizationError, Codes, issue_tokens, s256, token_error
from iris.seed import PEOPLE, SCHOOLS, Person, claims_of
from iris.settings import SERVICE_PORTS, Settings, local_port
from iris.ui import Pages, install_pages, require_csrf
from iris.ui.i18n import N_, gettext_for
from iris.web import create_base_app

CALLBACK_PATH = "/auth/callback"
ISSUER_SESSION_COOKIE = "iris_issuer_session"  # not the services' cookie on a shared host

# The ways a person signs in that the development page stands in for (the token's `amr`).
METHODS = {"itsme": "itsme", "eid": N_("eID card reader")}

ROLE_LABELS = {
    "school responsible": N_("school responsible"),
    "teacher": N_("teacher"),
    "care coordinator": N_("care coordinator"),
    "support worker": N_("support worker"),
    "CLB staff": N_("CLB staff"),
    "parent": N_("parent"),
}


def registered_clients() -> dict[str, str]:
    """Each service is a client whose redirect URI is its `/auth/callback`
    (at `IRIS_<SERVICE>_URL`, else its local port)."""
    clients = {}
    for name, port in SERVICE_PORTS.items():
        base = (
            os.environ.get(f"IRIS_{name.upper()}_URL")
            or f"http://127.0.0.1:{local_port(name, port)}"
        )
        clients[name] = base.rstrip("/") + CALLBACK_PATH
    return clients


def person_by_insz(insz: str) -> Person | None:
    return next((p for p in PEOPLE if p.insz == insz), None)


@dataclass
class Issuer:
    """What the issuer's routes share: its key, address, audience, clients and codes."""

    key: SigningKey
    issuer: str
    audience: str
    clients: dict[str, str]
    codes: Codes
    pages: Pages


def issuer_of(request: Request) -> Issuer:
    found: Issuer = request.app.state.issuer
    return found


Context = Annotated[Issuer, Depends(issuer_of)]
router = APIRouter()


def create_app(settings: Settings | None = None, clients: dict[str, str] | None = None) -> FastAPI:
    settings = settings or Settings()
    key = dev_issuer_key(settings)  # raises in production
    app = create_base_app("issuer", max_body_bytes=settings.max_body_bytes)
    issuer = settings.oidc_issuer.rstrip("/")
    clients = dict(clients if clients is not None else registered_clients())
    # The issuer's own landing page signs people in through the issuer, as any service does.
    clients.setdefault("issuer", issuer + CALLBACK_PATH)
    jwks_file = dev_issuer_key_path(settings).with_name("jwks.json")
    jwks_file.write_text(json.dumps({"keys": [key.jwk()]}))
    app.state.verifier = TokenVerifier(
        [TrustedIssuer(issuer, jwks_file.resolve().as_uri())], settings.audience
    )
    pages = install_pages(
        app,
        settings.model_copy(update={"oidc_client_id": "issuer"}),
        "issuer",
        session_cookie=ISSUER_SESSION_COOKIE,
    )
    app.state.issuer = Issuer(key, issuer, settings.audience, clients, Codes(), pages)
    app.include_router(router)
    return app


@router.get("/.well-known/openid-configuration")
def openid_configuration(ctx: Context) -> dict[str, Any]:
    """OpenID provider metadata."""
    issuer = ctx.issuer
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/authorize",
        "token_endpoint": f"{issuer}/token",
        "jwks_uri": f"{issuer}/jwks.json",
        "scopes_supported": ["openid", "profile"],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["none"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "subject_types_supported": ["public"],
        "claims_supported": [
            "sub",
            "name",
            "amr",
            "school_admin_of",
            "clb_staff_of",
            "parent_of",
        ],
    }


@router.get("/jwks.json")
def jwks(ctx: Context) -> dict[str, Any]:
    """The public keys that sign development tokens."""
    return {"keys": [ctx.key.jwk()]}


def check_request(
    clients: dict[str, str],
    client_id: str | None,
    redirect_uri: str | None,
    response_type: str | None,
    code_challenge: str | None,
    code_challenge_method: str | None,
) -> str | None:
    """Why this authorization request cannot go on, or None."""
    if not client_id or client_id not in clients:
        return "client_id: unknown client"
    if redirect_uri != clients[client_id]:
        return "redirect_uri: not registered for this client"
    if response_type != "code":
        return "response_type: only code is supported"
    if not code_challenge or code_challenge_method != "S256":
        return "code_challenge: PKCE with S256 is required"
    return None


def bad_request(pages: Pages, request: Request, problem: str) -> HTMLResponse:
    _ = gettext_for(request).gettext
    return pages.render(
        request,
        "error.html",
        {"title": _("Sign-in request refused"), "message": problem},
        status_code=400,
    )


@router.get("/authorize", response_class=HTMLResponse)
def authorize(
    request: Request,
    ctx: Context,
    client_id: str | None = None,
    redirect_uri: str | None = None,
    response_type: str | None = None,
    scope: str = "",
    state: str = "",
    nonce: str = "",
    code_challenge: str | None = None,
    code_challenge_method: str | None = None,
    method: str = "itsme",
) -> HTMLResponse:
    """The sign-in page: choose how (itsme or the eID), then one of the demo people."""
    problem = check_request(
        ctx.clients, client_id, redirect_uri, response_type, code_challenge, code_challenge_method
    )
    if problem:
        return bad_request(ctx.pages, request, problem)
    _ = gettext_for(request).gettext
    people = []
    for person in PEOPLE:
        claims = claims_of(person)
        places = [SCHOOLS.get(s, s) for s in claims.get("school_admin_of", [])]
        places += [f"CLB {c}" for c in claims.get("clb_staff_of", [])]
        people.append(
            {
                "insz": person.insz,
                "name": person.name,
                "role": _(ROLE_LABELS.get(person.role, person.role)),
                "places": places,
            }
        )
    carried = {
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "response_type": response_type,
        "scope": scope,
        "state": state,
        "nonce": nonce,
        "code_challenge": code_challenge,
        "code_challenge_method": code_challenge_method,
    }
    method = method if method in METHODS else "itsme"
    methods = [
        {
            "value": value,
            "label": _(label),
            "chosen": value == method,
            "href": "/authorize?" + urlencode({**carried, "method": value}),
        }
        for value, label in METHODS.items()
    ]
    return ctx.pages.render(
        request,
        "issuer/signin.html",
        {
            "people": people,
            "carried": {**carried, "method": method},
            "client_id": client_id,
            "methods": methods,
            "method_label": _(METHODS[method]),
        },
        headers={"Cache-Control": "no-store"},
    )


@router.post("/authorize", dependencies=[Depends(require_csrf)])
def choose_person(
    request: Request,
    ctx: Context,
    person: Annotated[str, Form()],
    client_id: Annotated[str, Form()],
    redirect_uri: Annotated[str, Form()],
    response_type: Annotated[str, Form()],
    code_challenge: Annotated[str, Form()],
    code_challenge_method: Annotated[str, Form()],
    state: Annotated[str, Form()] = "",
    nonce: Annotated[str, Form()] = "",
    scope: Annotated[str, Form()] = "",
    method: Annotated[str, Form()] = "itsme",
) -> Response:
    """Sign in as the chosen person: back to the client with a code."""
    problem = check_request(
        ctx.clients, client_id, redirect_uri, response_type, code_challenge, code_challenge_method
    )
    if method not in METHODS:
        problem = problem or "method: itsme or eid"
    chosen = person_by_insz(person)
    if problem or chosen is None:
        return bad_request(ctx.pages, request, problem or "person: not one of the demo people")
    code = ctx.codes.issue(
        client_id=client_id,
        redirect_uri=redirect_uri,
        code_challenge=code_challenge,
        nonce=nonce or None,
        person=chosen,
        method=method,
    )
    query = {"code": code, **({"state": state} if state else {})}
    return RedirectResponse(f"{redirect_uri}?{urlencode(query)}", status_code=303)


@router.post("/token")
def token(
    ctx: Context,
    grant_type: Annotated[str, Form()] = "",
    code: Annotated[str, Form()] = "",
    redirect_uri: Annotated[str, Form()] = "",
    client_id: Annotated[str, Form()] = "",
    code_verifier: Annotated[str, Form()] = "",
) -> Response:
    """Exchange an authorization code (with its PKCE verifier) for tokens."""
    try:
        if grant_type != "authorization_code":
            raise AuthorizationError(
                "unsupported_grant_type", "grant_type: only authorization_code"
            )
        grant = ctx.codes.redeem(code)
        if client_id != grant.client_id:
            raise AuthorizationError("invalid_grant", "client_id: not the code's client")
        if redirect_uri != grant.redirect_uri:
            raise AuthorizationError("invalid_grant", "redirect_uri: not the code's")
        if not code_verifier or not secrets.compare_digest(
            s256(code_verifier), grant.code_challenge
        ):
            raise AuthorizationError("invalid_grant", "code_verifier: does not match")
    except AuthorizationError as exc:
        return token_error(exc)
    return JSONResponse(
        issue_tokens(ctx.key, ctx.issuer, ctx.audience, grant),
        headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
    )
