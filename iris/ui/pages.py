"""Server-rendered pages with one shared look.

`Pages` renders Jinja2 templates: a service's own template folder first, then
the shared ones here (`base.html`, `forms.html`, `confirm.html`, ...), with one
environment per language so gettext is always that language's.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jinja2
import markupsafe
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from iris.insz import mask_insz
from iris.ui import i18n
from iris.ui.dates import belgian_date, brussels_moment
from iris.ui.navigation import Navigation
from iris.ui.session import csrf_token, optional_principal

SHARED_TEMPLATES = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"
STATIC_PATH = "/static/iris"

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)


def make_environment(language: str, template_dirs: Sequence[Path] = ()) -> jinja2.Environment:
    """A Jinja2 environment in one language: autoescaping, gettext, the given folders first."""
    loader = jinja2.ChoiceLoader(
        [
            jinja2.FileSystemLoader([str(d) for d in template_dirs]),
            jinja2.FileSystemLoader(str(SHARED_TEMPLATES)),
        ]
    )
    env = jinja2.Environment(
        loader=loader,
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(i18n.translations(language), newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(LANGUAGES=i18n.LANGUAGES, STATIC=STATIC_PATH, language=language)
    env.filters["day"] = lambda value: belgian_date(value, language) if value else ""
    env.filters["moment"] = lambda value: brussels_moment(value, language) if value else ""
    env.filters["masked"] = mask_insz
    return env


def safe_next(target: str | None, default: str = "/") -> str:
    """A local path to go back to; anything that could leave the site becomes `default`."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target:
        return default
    return target


class _CsrfToken:
    """The session's CSRF token, made when a template first writes it: a page without a
    form (the report page) leaves the session alone, so no cookie is set for it."""

    def __init__(self, request: Request) -> None:
        self.request = request

    def __str__(self) -> str:
        return csrf_token(self.request)

    def __html__(self) -> str:
        return str(markupsafe.escape(csrf_token(self.request)))

    def __bool__(self) -> bool:
        return True


class Pages:
    """Renders a service's pages in the request's language.

    pages = Pages([Path(__file__).parent / "templates"])
    return pages.render(request, "pupils.html", {"pupils": pupils})
    """

    def __init__(
        self, template_dirs: Sequence[Path] = (), navigation: Navigation | None = None
    ) -> None:
        self.template_dirs = tuple(template_dirs)
        self.navigation = navigation

    @cached_property
    def environments(self) -> dict[str, jinja2.Environment]:
        return {lang: make_environment(lang, self.template_dirs) for lang in i18n.LANGUAGES}

    def environment(self, language: str) -> jinja2.Environment:
        return self.environments[language]

    def context(self, request: Request) -> dict[str, Any]:
        """What every template may use: request, principal, csrf_token, here, language."""
        has_session = "session" in request.scope
        try:
            principal = optional_principal(request)
        except Exception:
            principal = None
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        nav = self.navigation
        return {
            "navigation": nav.places(request, principal) if nav else [],
            "service_name": nav.service_name(request) if nav else "",
            "request": request,
            "principal": principal,
            "csrf_token": _CsrfToken(request) if has_session else "",
            "here": here,
            "signin_enabled": has_session and getattr(request.app.state, "signin", False),
        }

    def render_text(
        self, request: Request, template: str, values: dict[str, Any] | None = None
    ) -> str:
        env = self.environment(i18n.language_of(request))
        return env.get_template(template).render({**self.context(request), **(values or {})})

    def render(
        self,
        request: Request,
        template: str,
        values: dict[str, Any] | None = None,
        status_code: int = 200,
        headers: dict[str, str] | None = None,
    ) -> HTMLResponse:
        response = HTMLResponse(self.render_text(request, template, values), status_code, headers)
        response.headers.setdefault("Content-Language", i18n.language_of(request))
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Vary", "Cookie, Accept-Language")
        response.headers.setdefault("Cache-Control", "no-store")  # pages name people
        return response

    def confirm(
        self,
        request: Request,
        *,
        title: str,
        question: str,
        action: str,
        confirm_label: str,
        cancel_url: str,
        fields: dict[str, str] | None = None,
        danger: bool = True,
    ) -> HTMLResponse:
        """A page asking to confirm an action: a form POSTing to `action`, and a way back.

        Works without JavaScript: link to this page (GET), the form does the change (POST).
        """
        return self.render(
            request,
            "confirm.html",
            {
                "title": title,
                "question": question,
                "action": action,
                "confirm_label": confirm_label,
                "cancel_url": safe_next(cancel_url),
                "fields": fields or {},
                "danger": danger,
            },
        )


def mount_static(app: FastAPI) -> None:
    """Serve the shared CSS and images at /static/iris (local files only, nothing remote)."""
    app.mount(STATIC_PATH, StaticFiles(directory=str(STATIC_DIR)), name="iris-static")


def wants_html(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "text/html" in accept and not request.url.path.startswith(("/v1/", "/internal/"))
