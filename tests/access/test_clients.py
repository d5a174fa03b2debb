from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import jwt
from fastapi.testclient import TestClient
from sqlalchemy import select

from iris.auth import SigningKey
from iris.db import make_engine
from iris.insz import make_insz
from iris.settings import Settings
from services.access.api import create_app
from services.access.models import ClientRow
from services.enrolment.api import create_app as create_enrolment_app
from tests.access.conftest import (
    Access,
    Clock,
    access_settings,
    free_port,
    school_id,
    serve,
    stop,
)
from tests.support import Issuer

ENROLMENT_MIGRATIONS = Path(__file__).resolve().parents[2] / "services/enrolment/migrations"


def register(access: Access, school: str, name: str = "school administration") -> Any:
    answer = access.client.post(
        f"/v1/schools/{school}/clients", json={"name": name}, headers=access.responsible(school)
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


def token(access: Access, client_id: str, secret: str, **extra: str) -> Any:
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    return access.client.post("/v1/token", data={**form, **extra})


def test_a_registered_client_exchanges_its_secret_for_a_short_lived_token_naming_its_school(
    access: Access,
):
    school = school_id()
    client = register(access, school)
    answer = token(access, client["client_id"], client["client_secret"])
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["token_type"], body["expires_in"]) == ("Bearer", 900)
    assert answer.headers["cache-control"] == "no-store"

    jwks = access.client.get("/jwks.json").json()
    key = jwt.PyJWK(jwks["keys"][0]).key
    claims = jwt.decode(
        body["access_token"],
        key,
        algorithms=["RS256"],
        audience="iris",
        issuer="http://access.test",
    )
    assert claims["sub"] == f"client:{client['client_id']}"
    assert claims["school_id"] == school
    assert claims["exp"] - claims["iat"] == 900
    config = access.client.get("/.well-known/openid-configuration").json()
    assert config["issuer"] == "http://access.test"
    assert config["jwks_uri"] == "http://access.test/jwks.json"


def test_http_basic_credentials_are_accepted_too(access: Access):
    client = register(access, school_id())
    basic = base64.b64encode(f"{client['client_id']}:{client['client_secret']}".encode()).decode()
    answer = access.client.post(
        "/v1/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert answer.status_code == 200, answer.text


def test_the_secret_is_shown_once_and_kept_only_as_a_salted_hash(access: Access):
    school = school_id()
    client = register(access, school)
    listed = access.client.get(
        f"/v1/schools/{school}/clients", headers=access.responsible(school)
    ).json()
    assert [c["client_id"] for c in listed] == [client["client_id"]]
    assert "client_secret" not in listed[0]
    assert client["client_secret"] not in str(listed)
    engine = make_engine(access.settings.database_url_for("access"))
    with engine.connect() as connection:
        stored = connection.execute(
            select(ClientRow.secret_hash).where(ClientRow.client_id == client["client_id"])
        ).scalar_one()
    engine.dispose()
    assert stored.startswith("scrypt$") and client["client_secret"] not in stored


def test_a_wrong_secret_an_unknown_client_and_a_revoked_client_get_invalid_client(
    access: Access,
):
    school = school_id()
    client = register(access, school)
    wrong = token(access, client["client_id"], client["client_secret"] + "x")
    unknown = token(access, "iris-unknown", client["client_secret"])
    assert [wrong.status_code, unknown.status_code] == [401, 401]
    assert wrong.json()["error"] == unknown.json()["error"] == "invalid_client"
    assert client["client_secret"] not in wrong.text

    assert token(access, client["client_id"], client["client_secret"]).status_code == 200
    revoked = access.client.post(
        f"/v1/schools/{school}/clients/{client['client_id']}/revoke",
        headers=access.responsible(school),
    )
    assert revoked.json()["status"] == "revoked"
    after = token(access, client["client_id"], client["client_secret"])
    assert (after.status_code, after.json()["error"]) == (401, "invalid_client")
    assert [e["action"] for e in access.audit(school)] == ["client.revoked", "client.registered"]


def test_only_the_client_credentials_grant_is_offered(access: Access):
    client = register(access, school_id())
    answer = token(access, client["client_id"], client["client_secret"], grant_type="password")
    assert (answer.status_code, answer.json()["error"]) == (400, "unsupported_grant_type")
    missing = access.client.post("/v1/token", data={"client_id": client["client_id"]})
    assert (missing.status_code, missing.json()["error"]) == (400, "invalid_request")


def test_a_responsible_of_another_school_cannot_revoke_a_client(access: Access):
    school_a, school_b = school_id(), school_id()
    client = register(access, school_b)
    refused = access.client.post(
        f"/v1/schools/{school_b}/clients/{client['client_id']}/revoke",
        headers=access.responsible(school_a),
    )
    not_found = access.client.post(
        f"/v1/schools/{school_a}/clients/{client['client_id']}/revoke",
        headers=access.responsible(school_a),
    )
    assert [refused.status_code, not_found.status_code] == [403, 404]
    assert token(access, client["client_id"], client["client_secret"]).status_code == 200


def test_a_client_token_for_one_school_is_refused_by_the_enrolment_api_for_another(
    make_settings: Callable[..., Settings], issuer: Issuer
):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = access_settings(make_settings, client_issuer=url)
    served = serve(create_app(settings, clock=Clock()), port)
    try:
        school_a, school_b = school_id(), school_id()
        responsible = issuer.headers(make_insz("1970-01-01", 900), school_admin_of=[school_a])
        client = httpx.post(
            f"{url}/v1/schools/{school_a}/clients", json={"name": "admin"}, headers=responsible
        ).json()
        issued = httpx.post(
            f"{url}/v1/token",
            data={
                "grant_type": "client_credentials",
                "client_id": client["client_id"],
                "client_secret": client["client_secret"],
            },
        )
        assert issued.status_code == 200, issued.text
        bearer = {"Authorization": f"Bearer {issued.json()['access_token']}"}

        enrolment_settings = make_settings("enrolment", client_issuer=url, outbox_relay=False)
        with TestClient(create_enrolment_app(enrolment_settings)) as enrolment:
            pupil = make_insz("2014-05-06", 40)
            body = {"pupil_id": pupil, "start_date": "2026-09-01"}
            at_a = enrolment.post(
                "/v1/enrolments", json={**body, "school_id": school_a}, headers=bearer
            )
            at_b = enrolment.post(
                "/v1/enrolments", json={**body, "school_id": school_b}, headers=bearer
            )
            assert at_a.status_code == 200, at_a.text
            assert at_b.status_code == 403
    finally:
        stop(served)


def test_a_key_file_named_in_the_settings_signs_the_client_tokens(
    make_settings: Callable[..., Settings], tmp_path: Path
):
    key = SigningKey.generate()
    key_file = tmp_path / "client-signing-key.pem"
    key_file.write_bytes(key.private_pem)
    settings = access_settings(make_settings, access_signing_key_file=key_file)
    with TestClient(create_app(settings, clock=Clock())) as client:
        assert [k["kid"] for k in client.get("/jwks.json").json()["keys"]] == [key.kid]
    assert not (settings.data_dir / "access" / "signing-key.pem").exists()
