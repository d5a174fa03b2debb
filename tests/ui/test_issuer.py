"""The development issuer as an OpenID provider: discovery, the sign-in page, code for tokens."""

from __future__ import annotations

import json
import re
import secrets

import pytest
from fastapi.testclient import TestClient

from iris.auth import TokenVerifier, TrustedIssuer
from iris.issuer import create_app, s256
from iris.seed import CLB_STAFF, RESPONSIBLE_A, SCHOOL_A
from iris.settings import Settings

ISSUER = "http://127.0.0.1:18100"
CALLBACK = "http://127.0.0.1:18101/auth/callback"


@pytest.fixture
def settings(tmp_path):
    return Settings(env="test", data_dir=tmp_path, oidc_issuer=ISSUER, client_issuer=None)


@pytest.fixture
def client(settings):
    with TestClient(create_app(settings, clients={"demo": CALLBACK})) as client:
        yield client


@pytest.fixture
def verifier(client, tmp_path):
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps(client.get("/jwks.json").json()))
    return lambda audience="iris": TokenVerifier([TrustedIssuer(ISSUER, jwks.as_uri())], audience)


def authorization(verifier_text: str, **overrides: str) -> dict[str, str]:
    params = {
        "client_id": "demo",
        "redirect_uri": CALLBACK,
        "response_type": "code",
        "scope": "openid profile",
        "state": "state-1",
        "nonce": "nonce-1",
        "code_challenge": s256(verifier_text),
        "code_challenge_method": "S256",
    }
    params.update(overrides)
    return params


def sign_in(client: TestClient, person_insz: str, verifier_text: str, **overrides: str) -> str:
    """Open the sign-in page, click the person; returns the code from the redirect."""
    page = client.get("/authorize", params=authorization(verifier_text, **overrides))
    assert page.status_code == 200
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    answer = client.post(
        "/authorize",
        data={
            **authorization(verifier_text, **overrides),
            "person": person_insz,
            "csrf_token": csrf,
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303
    location = answer.headers["location"]
    assert location.startswith(CALLBACK + "?")
    assert "state=state-1" in location
    return re.search(r"code=([^&]+)", location).group(1)


def exchange(client: TestClient, code: str, verifier_text: str, **overrides: str):
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": CALLBACK,
        "client_id": "demo",
        "code_verifier": verifier_text,
    }
    form.update(overrides)
    return client.post("/token", data=form)


def test_discovery_names_every_endpoint_and_requires_pkce_s256(client):
    metadata = client.get("/.well-known/openid-configuration").json()
    assert metadata["issuer"] == ISSUER
    assert metadata["authorization_endpoint"] == f"{ISSUER}/authorize"
    assert metadata["token_endpoint"] == f"{ISSUER}/token"
    assert metadata["jwks_uri"] == f"{ISSUER}/jwks.json"
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert metadata["response_types_supported"] == ["code"]


def test_the_sign_in_page_lists_the_demo_people_with_their_roles(client):
    page = client.get(
        "/authorize", params=authorization("v" * 43), headers={"accept-language": "en"}
    )
    assert f"Sign in as {RESPONSIBLE_A.name}" in page.text
    assert "school responsible · Basisschool De Regenboog" in page.text
    assert page.headers["cache-control"] == "no-store"


def test_a_code_is_exchanged_for_tokens_that_carry_the_persons_claims(client, verifier):
    verifier_text = secrets.token_urlsafe(48)
    code = sign_in(client, RESPONSIBLE_A.insz, verifier_text)
    answer = exchange(client, code, verifier_text)
    assert answer.status_code == 200, answer.text
    tokens = answer.json()
    assert tokens["token_type"] == "Bearer"

    principal = verifier().verify(tokens["access_token"])
    assert principal.subject == RESPONSIBLE_A.insz
    assert principal.name == RESPONSIBLE_A.name
    assert principal.school_admin_of == {SCHOOL_A}
    identity = verifier("demo").verify(tokens["id_token"])
    assert identity.subject == RESPONSIBLE_A.insz
    assert identity.claims["nonce"] == "nonce-1"
    assert identity.claims["azp"] == "demo"


@pytest.mark.parametrize("method", ["itsme", "eid"])
def test_the_sign_in_page_offers_itsme_and_the_eid_and_the_token_says_which(
    client, verifier, method
):
    verifier_text = secrets.token_urlsafe(48)
    first = client.get(
        "/authorize", params=authorization(verifier_text), headers={"accept-language": "en"}
    )
    assert 'data-testid="method-itsme"' in first.text and "eID card reader" in first.text
    link = re.search(rf'href="([^"]+)" data-testid="method-{method}"', first.text)
    page = client.get(link.group(1).replace("&amp;", "&")) if link else first
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page.text))
    assert hidden["method"] == method
    answer = client.post(
        "/authorize", data={**hidden, "person": RESPONSIBLE_A.insz}, follow_redirects=False
    )
    code = re.search(r"code=([^&]+)", answer.headers["location"]).group(1)
    tokens = exchange(client, code, verifier_text).json()
    assert verifier().verify(tokens["access_token"]).amr == (method,)
    assert verifier("demo").verify(tokens["id_token"]).amr == (method,)


def test_a_code_is_single_use(client):
    verifier_text = secrets.token_urlsafe(48)
    code = sign_in(client, CLB_STAFF.insz, verifier_text)
    assert exchange(client, code, verifier_text).status_code == 200
    second = exchange(client, code, verifier_text)
    assert second.status_code == 400
    assert second.json()["error"] == "invalid_grant"


def test_a_code_past_its_lifetime_is_refused(client):
    client.app.state.issuer.codes.ttl = 0
    verifier_text = secrets.token_urlsafe(48)
    code = sign_in(client, CLB_STAFF.insz, verifier_text)
    answer = exchange(client, code, verifier_text)
    assert answer.status_code == 400
    assert "expired" in answer.json()["detail"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"code_verifier": "not-the-verifier-" + "x" * 30}, "code_verifier"),
        ({"code_verifier": ""}, "code_verifier"),
        ({"redirect_uri": "http://127.0.0.1:18101/elsewhere"}, "redirect_uri"),
        ({"client_id": "viewer"}, "client_id"),
    ],
)
def test_a_code_is_refused_with_the_wrong_verifier_client_or_redirect(client, overrides, field):
    verifier_text = secrets.token_urlsafe(48)
    code = sign_in(client, CLB_STAFF.insz, verifier_text)
    answer = exchange(client, code, verifier_text, **overrides)
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_grant"
    assert answer.json()["detail"].startswith(field)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"client_id": "stranger"}, "client_id"),
        ({"redirect_uri": "https://attacker.example/callback"}, "redirect_uri"),
        ({"code_challenge_method": "plain"}, "code_challenge"),
        ({"response_type": "token"}, "response_type"),
    ],
)
def test_an_authorization_request_from_an_unregistered_client_or_without_pkce_is_refused(
    client, overrides, field
):
    page = client.get("/authorize", params=authorization("v" * 43, **overrides))
    assert page.status_code == 400
    assert field in page.text
    assert "csrf_token" not in page.text


def test_choosing_a_person_without_the_pages_csrf_token_is_refused(client):
    client.get("/authorize", params=authorization("v" * 43))
    answer = client.post(
        "/authorize",
        data={**authorization("v" * 43), "person": RESPONSIBLE_A.insz},
        follow_redirects=False,
    )
    assert answer.status_code == 403


def test_the_token_endpoint_refuses_other_grant_types(client):
    answer = client.post("/token", data={"grant_type": "password", "client_id": "demo"})
    assert answer.status_code == 400
    assert answer.json()["error"] == "unsupported_grant_type"
