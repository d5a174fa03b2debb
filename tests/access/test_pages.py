"""The school responsible's pages, over HTTP in-process: the forms change what the JSON
API changes (and publish it), refuse others, and answer bad values by the field."""

from __future__ import annotations

import re

from iris.insz import show_insz
from tests.access.conftest import person, published, pupil, school_id

HTML = {"Accept": "text/html"}


def page_headers(access, school: str, language: str = "nl") -> dict[str, str]:
    return {**access.responsible(school), **HTML, "Accept-Language": language}


def test_a_grant_made_with_the_form_is_published_limited_to_the_pupils_typed(access, grants_topic):
    school, teacher = school_id(), person(11)
    answer = access.client.post(
        f"/schools/{school}/grants/new",
        data={
            "person_name": "Sofie  Lambrechts",
            "person_id": show_insz(teacher),
            "role": "teacher",
            "valid_from": "2026-09-01",
            "valid_until": "",
            "pupil_ids": f"{pupil(1)}\n{pupil(2)}, {pupil(1)}",
        },
        headers=page_headers(access, school),
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/schools/{school}/grants?notice=granted"
    [event] = published(grants_topic, school, 1)
    assert event["person_id"] == teacher
    assert event["pupil_ids"] == sorted([pupil(1), pupil(2)])
    listing = access.client.get(answer.headers["location"], headers=page_headers(access, school))
    assert "De toegang is bewaard." in listing.text and "Sofie Lambrechts" in listing.text
    assert teacher not in listing.text, "the list names the person, not their number"


def test_pupils_are_ticked_by_name_and_none_ticked_says_what_to_do(access, grants_topic):
    school, teacher = school_id(), person(14)
    form = {"person_name": "Jan Peeters", "person_id": teacher, "role": "teacher"}
    form |= {"valid_from": "2026-09-01", "scope": "pupils"}
    refused = access.client.post(
        f"/schools/{school}/grants/new", data=form, headers=page_headers(access, school, "en")
    )
    assert refused.status_code == 422
    assert re.search(r'id="pupil_ids-error">.*Tick at least one pupil', refused.text)
    answer = access.client.post(
        f"/schools/{school}/grants/new",
        data={**form, "pupil_ids": [pupil(3), pupil(4)]},
        headers=page_headers(access, school),
        follow_redirects=False,
    )
    assert answer.status_code == 303
    [event] = published(grants_topic, school, 1)
    assert event["pupil_ids"] == sorted([pupil(3), pupil(4)])
    found = access.client.get(
        f"/schools/{school}/grants/new?find=peeters", headers=page_headers(access, school)
    )
    assert "Jan Peeters kiezen" in found.text and teacher not in found.text


def test_bad_values_come_back_next_to_their_field_in_the_visitors_language(access):
    school = school_id()
    answer = access.client.post(
        f"/schools/{school}/grants/new",
        data={"person_id": "12345", "role": "janitor", "valid_from": "", "pupil_ids": "x"},
        headers=page_headers(access, school, "en"),
    )
    assert answer.status_code == 422
    html = answer.text
    assert re.search(r'id="person_id-error">.*has 11 digits, for example 85.07.30-123.35', html)
    assert re.search(r'id="role-error">.*Choose one of the options', html)
    assert re.search(r'id="valid_from-error">.*This field is required', html)
    assert re.search(r'id="pupil_ids-error">.*one per line or separated by commas', html)
    assert 'aria-describedby="person_id-hint person_id-error"' in html
    assert access.grants(school) == []


def test_an_access_rule_broken_is_shown_next_to_the_date_it_concerns(access):
    school = school_id()
    answer = access.client.post(
        f"/schools/{school}/grants/new",
        data={
            "person_id": person(12),
            "role": "support_worker",
            "valid_from": "2026-09-01",
            "valid_until": "2031-09-01",
        },
        headers=page_headers(access, school),
    )
    assert answer.status_code == 422
    assert re.search(r'id="valid_until-error">.*ten laatste 4 jaar', answer.text)


def test_only_the_schools_responsible_sees_its_pages(access):
    school, other = school_id(), school_id()
    for path in ("grants", "grants/new", "requests", "clients", "audit"):
        answer = access.client.get(f"/schools/{school}/{path}", headers=page_headers(access, other))
        assert answer.status_code == 403
        assert "Niet toegestaan" in answer.text
    anonymous = access.client.get(f"/schools/{school}/grants", headers=HTML, follow_redirects=False)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"].startswith("http://testserver/auth/login?next=")


def test_a_grant_is_revoked_after_the_confirmation_page_and_filters_find_it(access):
    school, teacher = school_id(), person(13)
    grant_id = access.grant(
        school,
        person_id=teacher,
        person_name="Kris Verhoeven",
        role="teacher",
        valid_from="2026-09-01",
    ).json()["grant_id"]
    path = f"/schools/{school}/grants/{grant_id}/revoke"
    confirm = access.client.get(path, headers=page_headers(access, school))
    assert "Toegang intrekken" in confirm.text and f'action="{path}"' in confirm.text
    assert "Kris Verhoeven" in confirm.text
    assert [g["status"] for g in access.grants(school)] == ["active"]
    done = access.client.post(path, headers=page_headers(access, school), follow_redirects=False)
    assert done.status_code == 303
    assert [g["status"] for g in access.grants(school)] == ["revoked"]
    revoked = access.client.get(
        f"/schools/{school}/grants?status=revoked", headers=page_headers(access, school)
    )
    active = access.client.get(
        f"/schools/{school}/grants?status=active", headers=page_headers(access, school)
    )
    assert "Kris Verhoeven" in revoked.text and "Kris Verhoeven" not in active.text


def test_registered_school_software_sees_its_secret_once_and_it_buys_a_token(access):
    school = school_id()
    created = access.client.post(
        f"/schools/{school}/clients",
        data={"name": "Smartschool"},
        headers=page_headers(access, school),
    )
    assert created.status_code == 200
    client_id = re.search(r'data-testid="client-id">([^<]+)<', created.text)
    secret = re.search(r'data-testid="client-secret">([^<]+)<', created.text)
    assert client_id and secret
    again = access.client.get(f"/schools/{school}/clients", headers=page_headers(access, school))
    assert secret.group(1) not in again.text and "Smartschool" in again.text
    token = access.client.post(
        "/v1/token",
        data={
            "grant_type": "client_credentials",
            "client_id": client_id.group(1),
            "client_secret": secret.group(1),
        },
    )
    assert token.status_code == 200
    nameless = access.client.post(
        f"/schools/{school}/clients", data={"name": " "}, headers=page_headers(access, school)
    )
    assert nameless.status_code == 422
    assert re.search(r'id="name-error">.*Geef de schoolsoftware een naam', nameless.text)


def test_a_request_is_rejected_with_a_reason_and_another_approved_into_a_grant(access):
    school = school_id()
    network = access.network("netwerk-gent")

    def file(worker: str) -> str:
        answer = access.client.post(
            f"/v1/schools/{school}/access-requests",
            json={
                "person_id": worker,
                "pupil_ids": [pupil(5)],
                "support_network": "netwerk-gent",
                "motivation": "Begeleiding in de klas.",
            },
            headers=network,
        )
        assert answer.status_code == 201, answer.text
        return str(answer.json()["request_id"])

    rejected, approved = file(person(21)), file(person(22))
    page = access.client.get(f"/schools/{school}/requests", headers=page_headers(access, school))
    assert "Begeleiding in de klas." in page.text
    no_reason = access.client.post(
        f"/schools/{school}/requests/{rejected}/reject",
        data={"reason": ""},
        headers=page_headers(access, school),
    )
    assert no_reason.status_code == 422
    assert re.search(r'id="reason-error">.*Geef de reden', no_reason.text)
    access.client.post(
        f"/schools/{school}/requests/{rejected}/reject",
        data={"reason": "Geen leerling van onze school."},
        headers=page_headers(access, school),
    )
    access.client.post(
        f"/schools/{school}/requests/{approved}/approve",
        data={"valid_until": ""},
        headers=page_headers(access, school),
    )
    [grant] = access.grants(school)
    assert grant["person_id"] == person(22) and grant["role"] == "support_worker"
    assert grant["pupil_ids"] == [pupil(5)]
    decided = access.client.get(f"/schools/{school}/requests", headers=page_headers(access, school))
    assert "Geen leerling van onze school." in decided.text
    assert "Er wacht geen aanvraag." in decided.text
    audit = access.client.get(f"/schools/{school}/audit", headers=page_headers(access, school))
    assert "Aanvraag geweigerd" in audit.text and "Aanvraag goedgekeurd" in audit.text
    assert "Status: In behandeling → Geweigerd" in audit.text
    assert "Rol: Ondersteuner; Status: Actief; Vanaf: 2026-11-28; Tot: 2030-11-28" in audit.text


def test_the_home_page_sends_a_responsible_to_their_school_and_shows_others_who_they_are(
    access, issuer
):
    school = school_id()
    home = access.client.get("/", headers=page_headers(access, school), follow_redirects=False)
    assert home.status_code == 303 and home.headers["location"] == "/schools"
    schools = access.client.get(
        "/schools", headers=page_headers(access, school), follow_redirects=False
    )
    assert schools.headers["location"] == f"/schools/{school}/grants"
    visitor = access.client.get("/", headers={**HTML, "Accept-Language": "nl"})
    assert visitor.status_code == 200 and "Welkom bij IRIS" in visitor.text


def test_a_person_responsible_at_several_schools_picks_one(access, issuer):
    first, second = sorted([school_id(), school_id()])
    headers = {
        **issuer.headers(access.responsible_id, school_admin_of=[second, first]),
        **HTML,
        "Accept-Language": "en",
    }
    page = access.client.get("/schools", headers=headers)
    assert page.status_code == 200 and "Choose a school" in page.text
    assert page.text.index(f'href="/schools/{first}/grants"') < page.text.index(
        f'href="/schools/{second}/grants"'
    )


def test_an_unknown_grant_request_or_client_is_the_not_found_page_and_json_for_an_api(access):
    school = school_id()
    unknown = "00000000-0000-4000-8000-000000000000"
    for path in (
        f"/schools/{school}/grants/{unknown}/edit",
        f"/schools/{school}/requests/{unknown}/reject",
        f"/schools/{school}/clients/iris-unknown/revoke",
    ):
        page = access.client.get(path, headers=page_headers(access, school))
        assert page.status_code == 404, path
        assert "Pagina niet gevonden" in page.text
    api = access.client.get(
        f"/v1/schools/{school}/grants/{unknown}", headers=access.responsible(school)
    )
    assert (api.status_code, api.json()["fields"]) == (404, ["grant_id"])


def test_the_frame_origins_page_saves_the_origins_and_refuses_one_outside_https(access):
    school = school_id()
    client = access.client.post(
        f"/v1/schools/{school}/clients",
        json={"name": "Smartschool"},
        headers=access.responsible(school),
    ).json()
    path = f"/schools/{school}/clients/{client['client_id']}/frame-origins"
    bad = access.client.post(
        path, data={"origins": "http://school.example"}, headers=page_headers(access, school, "en")
    )
    assert bad.status_code == 422 and "(https only)" in bad.text
    saved = access.client.post(
        path,
        data={"origins": "https://School.example/\n"},
        headers=page_headers(access, school),
        follow_redirects=False,
    )
    assert saved.status_code == 303 and saved.headers["location"] == f"{path}?saved=1"
    page = access.client.get(path, headers=page_headers(access, school))
    assert page.status_code == 200
    assert "Smartschool" in page.text and "https://school.example" in page.text
