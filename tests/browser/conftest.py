"""Fixtures for browser tests: Chromium, a development issuer and a small service on real ports."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import pytest
from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse

from iris.auth import verifier_for
from iris.issuer import CALLBACK_PATH
from iris.issuer import create_app as create_issuer
from iris.settings import Settings
from iris.ui import CsrfProtected, PagePrincipal, install_pages
from iris.web import create_base_app
from tests.browser.rig import (
    AXE_JS,
    CHROMIUM,
    CHROMIUM_ARGS,
    Steps,
    axe_violations,
    chromium_available,
    free_port,
    live_server,
)

TEMPLATES = Path(__file__).parent / "templates"


@dataclass
class WebStack:
    issuer_url: str
    service_url: str


def demo_service(settings: Settings) -> FastAPI:
    """A tiny service with pages, built as the real services build theirs."""
    app = create_base_app("demo")
    app.state.verifier = verifier_for(settings)
    pages = install_pages(app, settings, "demo", template_dirs=[TEMPLATES])

    @app.get("/private", response_class=HTMLResponse)
    def private_page(request: Request, principal: PagePrincipal) -> HTMLResponse:
        return pages.render(request, "demo_private.html")

    @app.get("/secret", response_class=HTMLResponse)
    def secret_page(request: Request) -> HTMLResponse:
        return pages.render(request, "demo_secret.html")

    @app.get("/note", response_class=HTMLResponse)
    def note_form(request: Request, principal: PagePrincipal) -> HTMLResponse:
        return pages.render(request, "demo_note.html", {"errors": {}, "values": {}, "saved": False})

    @app.post("/note", response_class=HTMLResponse, dependencies=[CsrfProtected])
    def save_note(
        request: Request, principal: PagePrincipal, title: Annotated[str, Form()] = ""
    ) -> HTMLResponse:
        errors = {} if title.strip() else {"title": "A title is required."}
        return pages.render(
            request,
            "demo_note.html",
            {"errors": errors, "values": {"title": title}, "saved": not errors},
            status_code=422 if errors else 200,
        )

    return app


@pytest.fixture(scope="session")
def web_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebStack]:
    issuer_port, service_port = free_port(), free_port()
    issuer_url = f"http://127.0.0.1:{issuer_port}"
    service_url = f"http://127.0.0.1:{service_port}"
    settings = Settings(
        env="test",
        data_dir=tmp_path_factory.mktemp("web-stack"),
        oidc_issuer=issuer_url,
        client_issuer=None,
        oidc_client_id="demo",
    )
    issuer = create_issuer(settings, clients={"demo": service_url + CALLBACK_PATH})
    with live_server(issuer, issuer_port), live_server(demo_service(settings), service_port):
        yield WebStack(issuer_url, service_url)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium for one test module. Playwright's sync API keeps its event loop marked as
    running in this thread while it is open, so asyncio.run() fails meanwhile: keep browser
    tests in modules of their own, and the browser no longer than one module."""
    if not chromium_available():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing (.ci/run installs the chromium package)")
        pytest.skip(f"{CHROMIUM} is missing: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser: Any) -> Iterator[Callable[..., Any]]:
    """Open a page in a fresh browser context (own cookies); `locale` sets Accept-Language."""
    contexts = []

    def open_page(locale: str = "nl-BE") -> Any:
        # bypass_csp lets the test inject axe-core into pages whose policy forbids inline scripts
        context = browser.new_context(locale=locale, bypass_csp=True)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def steps(artifacts: Path, request: pytest.FixtureRequest) -> Callable[..., Steps]:
    """`shots = steps(page)`, then `shots.shot("signed in")` after each step;
    `steps(page, role="teacher")` also keeps them per role (IRIS_SCREENSHOTS=1)."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name)
    return lambda page, role=None: Steps(page, artifacts / "browser" / name, role)


@pytest.fixture(scope="session")
def axe() -> Callable[[Any], list[dict[str, Any]]]:
    """`axe(page)`: the serious and critical accessibility violations on the page."""
    if not AXE_JS.exists():
        pytest.fail(f"{AXE_JS} is missing: run `npm ci` (scripts/bootstrap.sh does)")
    return axe_violations
