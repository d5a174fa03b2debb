"""Who may call the enrolment API: the JWT matrix, key rotation under the running
service, and one school ending another school's enrolment."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from iris.insz import make_insz
from services.enrolment.api import create_app
from tests.enrolment.test_api import OTHER_SCHOOL, SCHOOL
from tests.support import JWKS_PATH, issuer_over_http, wait_until
from tests.tokens import AMR_CASES, MATRIX, bearer, forged

PUPIL = make_insz("2014-02-03", 555)


@pytest.fixture
def api(make_settings) -> Iterator[TestClient]:
    settings = make_settings("enrolment")
    with TestClient(create_app(settings)) as client:
        yield client


RESPONSIBLE = make_insz("1970-05-05", 55)


def enrolments(client: TestClient, token: str) -> int:
    return client.get(f"/v1/pupils/{PUPIL}/enrolments", headers=bearer(token)).status_code


@pytest.mark.parametrize("case", MATRIX)
def test_every_forged_misdirected_stale_or_weak_token_is_refused_with_401(api, issuer, case):
    client = api
    if case in AMR_CASES:
        # a person: allowed in (then refused as no client, 403) only with itsme or eID
        assert enrolments(client, issuer.token(RESPONSIBLE, school_admin_of=[SCHOOL])) == 403
        token = forged(issuer, case, RESPONSIBLE, school_admin_of=[SCHOOL])
    else:
        assert enrolments(client, issuer.token(f"client:{SCHOOL}", school_id=SCHOOL)) == 200
        token = forged(issuer, case, f"client:{SCHOOL}", school_id=SCHOOL)
    answer = client.get(f"/v1/pupils/{PUPIL}/enrolments", headers=bearer(token))
    assert answer.status_code == 401, answer.text
    assert answer.headers["www-authenticate"].startswith("Bearer")


def test_a_school_cannot_end_another_schools_enrolment(api, issuer):
    client = api
    body = {"pupil_id": PUPIL, "school_id": OTHER_SCHOOL, "start_date": "2026-09-01"}
    mine = client.post("/v1/enrolments", json=body, headers=issuer.school_client(OTHER_SCHOOL))
    assert mine.status_code == 200, mine.text
    end = {"pupil_id": PUPIL, "school_id": OTHER_SCHOOL, "end_date": "2026-12-31"}
    refused = client.post("/v1/enrolments/end", json=end, headers=issuer.school_client(SCHOOL))
    assert refused.status_code == 403
    assert "school_id" in refused.json()["detail"]
    still = client.get(
        f"/v1/pupils/{PUPIL}/enrolments", headers=issuer.school_client(OTHER_SCHOOL)
    ).json()
    assert [e["end_date"] for e in still] == [None]


@pytest.fixture
def discovered(make_settings, tmp_path) -> Iterator[tuple[TestClient, object, list[str]]]:
    """The enrolment API trusting an issuer found by OIDC discovery, keys kept 1 s."""
    with issuer_over_http(tmp_path / "idp") as (idp, requested):
        settings = make_settings(
            "enrolment", oidc_issuer=idp.issuer, oidc_jwks_url=None, jwks_refresh_seconds=1.0
        )
        with TestClient(create_app(settings)) as client:
            yield client, idp, requested


def test_keys_are_found_by_oidc_discovery_and_a_removed_key_is_refused_after_a_refresh(
    discovered,
):
    client, idp, requested = discovered
    old_token = idp.token(f"client:{SCHOOL}", school_id=SCHOOL)
    assert enrolments(client, old_token) == 200
    assert "/.well-known/openid-configuration" in requested and JWKS_PATH in requested

    idp.rotate()  # the issuer signs with a new key and no longer publishes the old one
    new_token = idp.token(f"client:{SCHOOL}", school_id=SCHOOL)
    wait_until(
        lambda: enrolments(client, new_token) == 200,
        timeout=15,
        message="the new key fetched for its unknown kid",
    )
    wait_until(
        lambda: enrolments(client, old_token) == 401,
        timeout=15,
        message="the removed key refused after the next refresh",
    )
    assert enrolments(client, new_token) == 200


def test_the_keys_are_fetched_once_per_refresh_interval_not_per_token(make_settings, tmp_path):
    with issuer_over_http(tmp_path / "idp") as (idp, requested):
        settings = make_settings("enrolment", oidc_issuer=idp.issuer, oidc_jwks_url=None)
        with TestClient(create_app(settings)) as client:
            for n in range(20):
                token = idp.token(f"client:{SCHOOL}", school_id=SCHOOL, client_name=str(n))
                assert enrolments(client, token) == 200
    assert requested.count(JWKS_PATH) == 1
