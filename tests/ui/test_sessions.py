"""Sessions, CSRF and who is calling: one dependency for bearer APIs and signed-in pages."""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from iris.auth import verifier_for
from iris.settings import Settings
from iris.ui import CsrfProtected, PagePrincipal, SessionOrBearerPrincipal, install_pages
from iris.ui.session import DEVELOPMENT_SESSION_SECRET, session_secret
from iris.web import create_base_app

PRODUCTION = {
    "env": "production",
    "oidc_issuer": "https://idp.example.be",
    "database_url": "postgresql://db/iris",
}


def app_with_pages(settings: Settings) -> FastAPI:
    app = create_base_app("demo")
    app.state.verifier = verifier_for(settings)
    install_pages(app, settings, "demo")

    @app.get("/v1/whoami")
    def whoami(principal: SessionOrBearerPrincipal) -> dict[str, str]:
        return {"subject": principal.subject}

    @app.get("/mine")
    def my_page(principal: PagePrincipal) -> dict[str, str]:
        return {"subject": principal.subject}

    @app.post("/v1/notes", dependencies=[CsrfProtected])
    def add_note(request: Request) -> dict[str, bool]:
        return {"saved": True}

    return app


@pytest.fixture
def settings(issuer, tmp_path) -> Settings:
    return Settings(
        env="test",
        data_dir=tmp_path,
        oidc_issuer=issuer.issuer,
        oidc_jwks_url=issuer.jwks_url,
        client_issuer=None,
    )


@pytest.fixture
def client(settings):
    with TestClient(app_with_pages(settings)) as client:
        yield client


def csrf_of(client: TestClient) -> str:
    page = client.get("/auth/logout", headers={"accept": "text/html"})
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def test_production_refuses_the_development_session_secret():
    with pytest.raises(RuntimeError, match="IRIS_SESSION_SECRET"):
        session_secret(Settings(**PRODUCTION))
    with pytest.raises(RuntimeError, match="IRIS_SESSION_SECRET"):
        session_secret(Settings(**PRODUCTION, session_secret="short"))
    long_secret = "k" * 48
    assert session_secret(Settings(**PRODUCTION, session_secret=long_secret)) == long_secret
    assert session_secret(Settings(env="development")) == DEVELOPMENT_SESSION_SECRET


def test_the_session_cookie_is_http_only_and_same_site_lax_and_secure_outside_development(
    settings,
):
    with TestClient(app_with_pages(settings)) as client:
        cookie = client.get("/auth/logout").headers["set-cookie"].lower()
    assert "iris_session=" in cookie
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "secure" not in cookie

    production = Settings(**PRODUCTION, session_secret="s" * 48)
    with TestClient(app_with_pages(production), base_url="https://demo.example") as client:
        cookie = client.get("/auth/logout").headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "secure" in cookie


def test_an_api_route_takes_a_bearer_token(client, issuer):
    answer = client.get("/v1/whoami", headers=issuer.headers("85081933780"))
    assert answer.status_code == 200
    assert answer.json() == {"subject": "85081933780"}


def test_an_api_route_without_credentials_or_with_a_bad_token_answers_401(client, issuer):
    assert client.get("/v1/whoami").status_code == 401
    bad = client.get("/v1/whoami", headers={"Authorization": "Bearer not-a-token"})
    assert bad.status_code == 401
    assert bad.json()["detail"] == "malformed token"


def test_a_page_sends_an_anonymous_visitor_to_sign_in_and_remembers_where_they_were(client):
    answer = client.get("/mine?tab=2", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"].endswith("/auth/login?next=%2Fmine%3Ftab%3D2")


def test_a_post_without_the_csrf_token_is_refused_and_with_it_accepted(client):
    token = csrf_of(client)
    refused = client.post("/v1/notes", data={"text": "hello"})
    assert refused.status_code == 403
    assert refused.json()["detail"].startswith("csrf_token")
    wrong = client.post("/v1/notes", data={"csrf_token": "guess", "text": "hello"})
    assert wrong.status_code == 403
    assert client.post("/v1/notes", data={"csrf_token": token, "text": "hi"}).status_code == 200
    by_header = client.post("/v1/notes", json={}, headers={"X-CSRF-Token": token})
    assert by_header.status_code == 200


def test_a_browser_sees_the_refusal_as_a_page_in_its_language(client):
    client.get("/auth/logout")
    answer = client.post(
        "/auth/logout",
        data={"next": "/"},
        headers={"accept": "text/html", "accept-language": "en"},
    )
    assert answer.status_code == 403
    assert "<h1>Not allowed</h1>" in answer.text


def test_a_bearer_request_needs_no_csrf_token(client, issuer):
    answer = client.post("/v1/notes", json={}, headers=issuer.headers("85081933780"))
    assert answer.status_code == 200


def test_the_language_switch_remembers_the_choice_and_goes_back(client):
    answer = client.get("/language/en?next=/mine", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/mine"
    assert "iris_lang=en" in answer.headers["set-cookie"]
    home = client.get("/", headers={"accept-language": "nl"})
    assert '<html lang="en">' in home.text
    elsewhere = client.get("/language/en?next=https://elsewhere.example", follow_redirects=False)
    assert elsewhere.headers["location"] == "/"


def test_pages_are_served_with_a_strict_content_security_policy_and_local_styles(client):
    home = client.get("/")
    policy = home.headers["content-security-policy"]
    assert "default-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert 'href="/static/iris/iris.css"' in home.text
    css = client.get("/static/iris/iris.css")
    assert css.status_code == 200
    assert "http" not in css.text


def test_signing_in_while_the_issuer_does_not_answer_shows_a_page_saying_so(tmp_path):
    from tests.browser.rig import free_port

    settings = Settings(
        env="test",
        data_dir=tmp_path,
        oidc_issuer=f"http://127.0.0.1:{free_port()}",
        client_issuer=None,
    )
    with TestClient(app_with_pages(settings)) as client:
        answer = client.get("/auth/login", headers={"accept-language": "en"})
    assert answer.status_code == 503
    assert "Sign-in is unavailable" in answer.text
