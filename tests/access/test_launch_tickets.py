"""Embedding at the access service: the origins a school names per school-software client,
and launch tickets that school software obtains for one pupil and the viewer redeems once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import update

from iris.db import make_engine
from iris.insz import make_insz
from services.access.launch_tickets import ticket_hash
from services.access.models import LaunchTicketRow
from tests.access.conftest import Access, school_id

PUPIL = make_insz("2014-05-06", 41)


def register(access: Access, school: str) -> dict[str, Any]:
    answer = access.client.post(
        f"/v1/schools/{school}/clients",
        json={"name": "Schoolsoftware"},
        headers=access.responsible(school),
    )
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def software(access: Access, school: str, client_id: str) -> dict[str, str]:
    return access.issuer.headers(f"client:{client_id}", school_id=school)


def viewer(access: Access) -> dict[str, str]:
    return access.issuer.service("viewer")


def frame_origins(access: Access, school: str, client_id: str, origins: list[str]) -> Any:
    return access.client.put(
        f"/v1/schools/{school}/clients/{client_id}/frame-origins",
        json={"frame_origins": origins},
        headers=access.responsible(school),
    )


def test_the_responsible_names_the_origins_that_may_frame_and_the_viewer_reads_them(
    access: Access,
):
    school = school_id()
    first, second = register(access, school), register(access, school)
    answer = frame_origins(
        access, school, first["client_id"], ["https://School.Example:443/", "http://localhost:8080"]
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["frame_origins"] == ["http://localhost:8080", "https://school.example"]
    frame_origins(access, school, second["client_id"], ["https://other.example"])

    read = access.client.get(f"/internal/schools/{school}/frame-origins", headers=viewer(access))
    assert read.json()["frame_origins"] == [
        "http://localhost:8080",
        "https://other.example",
        "https://school.example",
    ]
    access.client.post(
        f"/v1/schools/{school}/clients/{second['client_id']}/revoke",
        headers=access.responsible(school),
    )
    read = access.client.get(f"/internal/schools/{school}/frame-origins", headers=viewer(access))
    assert "https://other.example" not in read.json()["frame_origins"]
    assert any(e["action"] == "client.frame_origins" for e in access.audit(school))


def test_frame_origins_are_checked_and_only_the_responsible_names_them(access: Access):
    school = school_id()
    client_id = register(access, school)["client_id"]
    for bad in ("http://school.example", "https://school.example/path", "school.example"):
        answer = frame_origins(access, school, client_id, [bad])
        assert answer.status_code == 422, bad
        assert answer.json()["fields"] == ["frame_origins.0"]
    other = access.client.put(
        f"/v1/schools/{school}/clients/{client_id}/frame-origins",
        json={"frame_origins": ["https://evil.example"]},
        headers=access.responsible(school_id()),
    )
    assert other.status_code == 403
    internal = access.client.get(
        f"/internal/schools/{school}/frame-origins", headers=access.issuer.service("reports")
    )
    assert internal.status_code == 403


def test_a_launch_ticket_opens_its_pupil_once_for_the_viewer_only(access: Access):
    school = school_id()
    client_id = register(access, school)["client_id"]
    answer = access.client.post(
        f"/v1/schools/{school}/launch-tickets",
        json={"pupil_id": PUPIL},
        headers=software(access, school, client_id),
    )
    assert answer.status_code == 201, answer.text
    ticket = answer.json()["ticket"]
    assert answer.json()["embed_url"].endswith(f"/embed/launch?ticket={ticket}")
    assert PUPIL not in answer.json()["embed_url"]

    refused = access.client.post(
        "/internal/launch-tickets/redeem", json={"ticket": ticket}, headers=access.network("n")
    )
    assert refused.status_code == 401  # a network's token is not for the internal audience
    redeemed = access.client.post(
        "/internal/launch-tickets/redeem", json={"ticket": ticket}, headers=viewer(access)
    )
    assert redeemed.status_code == 200, redeemed.text
    assert redeemed.json() == {"pupil_id": PUPIL, "school_id": school, "client_id": client_id}
    again = access.client.post(
        "/internal/launch-tickets/redeem", json={"ticket": ticket}, headers=viewer(access)
    )
    assert again.status_code == 404


def test_a_launch_ticket_is_refused_when_expired_or_its_client_revoked(access: Access):
    school = school_id()
    client_id = register(access, school)["client_id"]

    def ticket() -> str:
        answer = access.client.post(
            f"/v1/schools/{school}/launch-tickets",
            json={"pupil_id": PUPIL},
            headers=software(access, school, client_id),
        )
        return str(answer.json()["ticket"])

    expired, of_revoked = ticket(), ticket()
    engine = make_engine(access.settings.database_url_for("access"))
    with engine.begin() as connection:
        connection.execute(
            update(LaunchTicketRow)
            .where(LaunchTicketRow.ticket_hash == ticket_hash(expired))
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    engine.dispose()
    access.client.post(
        f"/v1/schools/{school}/clients/{client_id}/revoke", headers=access.responsible(school)
    )
    for spent in (expired, of_revoked):
        answer = access.client.post(
            "/internal/launch-tickets/redeem", json={"ticket": spent}, headers=viewer(access)
        )
        assert answer.status_code == 404


def test_only_a_school_s_own_software_gets_launch_tickets(access: Access):
    school = school_id()
    client_id = register(access, school)["client_id"]
    asked = [
        (school_id(), software(access, school, client_id)),  # another school
        (school, access.responsible(school)),  # a person
        (school, access.network("ondersteuningsnetwerk")),  # a support network
    ]
    for where, headers in asked:
        answer = access.client.post(
            f"/v1/schools/{where}/launch-tickets", json={"pupil_id": PUPIL}, headers=headers
        )
        assert answer.status_code == 403, answer.text
    bad = access.client.post(
        f"/v1/schools/{school}/launch-tickets",
        json={"pupil_id": "12345678901"},
        headers=software(access, school, client_id),
    )
    assert bad.status_code == 422 and bad.json()["fields"] == ["pupil_id"]


def test_the_responsible_names_the_frame_origins_on_the_clients_page(access: Access):
    school = school_id()
    client_id = register(access, school)["client_id"]
    headers = {**access.responsible(school), "Accept": "text/html", "Accept-Language": "en"}
    clients = access.client.get(f"/schools/{school}/clients", headers=headers)
    page_url = f"/schools/{school}/clients/{client_id}/frame-origins"
    assert page_url in clients.text

    bad = access.client.post(page_url, data={"origins": "http://school.example"}, headers=headers)
    assert bad.status_code == 422 and "https only" in bad.text
    saved = access.client.post(
        page_url,
        data={"origins": "https://school.example\n\nhttps://app.school.example:8443/"},
        headers=headers,
        follow_redirects=False,
    )
    assert saved.status_code == 303
    shown = access.client.get(saved.headers["location"], headers=headers)
    assert "The addresses are saved." in shown.text
    assert "https://app.school.example:8443\nhttps://school.example" in shown.text
    read = access.client.get(f"/internal/schools/{school}/frame-origins", headers=viewer(access))
    assert read.json()["frame_origins"] == [
        "https://app.school.example:8443",
        "https://school.example",
    ]
    elsewhere = {**access.responsible(school_id()), "Accept": "text/html"}
    assert access.client.get(page_url, headers=elsewhere).status_code == 403
