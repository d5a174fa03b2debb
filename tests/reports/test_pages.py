"""The CLB staff's pages, in-process: finding a pupil, issuing with the rules checked
next to each field, the history (metadata only), withdrawing after confirming, CSRF."""

from __future__ import annotations

import json
import logging
import re
from base64 import b64encode
from typing import Any

import itsdangerous
import pytest
from bs4 import BeautifulSoup

from iris.ui.session import SESSION_COOKIE
from tests.reports.conftest import CLB, OTHER_CLB, STAFF, Reports, new_pupil

pytestmark = pytest.mark.integration

HTML = {"Accept": "text/html"}
SECRET_NEEDS = "Zeer-persoonlijke-noden-7c1e: angst bij overgangen en prikkels."
SECRET_ADVICE = "Advies-9d2f: een vaste plek vooraan en een visueel dagschema."


def form(**overrides: str) -> dict[str, str]:
    fields = {
        "clb_id": CLB,
        "kind": "IAC",
        "level": "primary",
        "type": "9",
        "opleidingsvorm": "",
        "valid_from": "2026-09-01",
        "needs": SECRET_NEEDS,
        "advice": SECRET_ADVICE,
        "measures_taken": "Time-timer en koptelefoon.",
        "reasoning": "De aanpassingen volstaan niet.",
        # no access service runs here: no school registered the pupil, so issuing asks to confirm
        "confirm_pupil": "yes",
        # past the review step: these tests issue at once (test_confirming_forms.py reviews)
        "step": "issue",
    }
    fields.update(overrides)
    return fields


def staff(reports: Reports, *clbs: str, language: str = "nl") -> dict[str, str]:
    token = reports.issuer.token(STAFF, clb_staff_of=list(clbs or (CLB,)), name="Els Maertens")
    return {**HTML, "Authorization": f"Bearer {token}", "Accept-Language": language}


def page(html: str) -> BeautifulSoup:
    return BeautifulSoup(html, "html.parser")


def error_next_to(soup: BeautifulSoup, field: str) -> str:
    """The error message a screen reader announces with the field (aria-describedby)."""
    control = soup.find(id=f"field-{field}")
    assert control is not None, f"no field {field}"
    assert control.get("aria-invalid") == "true", f"{field} is not marked invalid"
    described = control.get("aria-describedby", "").split()
    errors = [soup.find(id=i) for i in described if i.endswith("-error")]
    assert errors, f"{field} has no error tied to it"
    return str(errors[0].get_text(" ", strip=True))


def statuses(reports: Reports, pupil: str, headers: dict[str, str]) -> dict[int, str]:
    soup = page(reports.client.get(f"/clb/pupils/{pupil}", headers=headers).text)
    rows = soup.select("tbody tr")
    return {
        int(row.th.get_text(strip=True)): row.select_one(".status").get_text(strip=True)
        for row in rows
    }


def test_finding_a_pupil_checks_the_number_and_leads_to_the_pupils_history(reports: Reports):
    headers = staff(reports)
    pupil = new_pupil()
    wrong = pupil[:-1] + str((int(pupil[-1]) + 1) % 10)

    answer = reports.client.get("/clb/pupils", params={"insz": wrong}, headers=headers)
    assert answer.status_code == 422
    said = error_next_to(page(answer.text), "insz")
    assert "controlecijfers" in said and "85.07.30-123.35" in said

    answer = reports.client.get("/clb/pupils", params={"insz": "1234"}, headers=headers)
    assert "11 cijfers, bijvoorbeeld 85.07.30-123.35" in error_next_to(page(answer.text), "insz")

    typed = f"{pupil[:2]}.{pupil[2:4]}.{pupil[4:6]}-{pupil[6:9]}.{pupil[9:]}"
    answer = reports.client.get(
        "/clb/pupils", params={"insz": typed}, headers=headers, follow_redirects=False
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/clb/pupils/{pupil}"
    history = reports.client.get(answer.headers["location"], headers=headers)
    assert history.status_code == 200
    assert "Nog geen verslag" in history.text


def test_a_broken_rule_is_shown_next_to_its_field_and_nothing_is_issued(reports: Reports):
    pupil = new_pupil()
    before = reports.counts()
    answer = reports.client.post(
        f"/clb/pupils/{pupil}/reports",
        data=form(level="secondary", opleidingsvorm="4"),
        headers=staff(reports),
    )
    assert answer.status_code == 422
    soup = page(answer.text)
    assert "OV4" in error_next_to(soup, "opleidingsvorm")
    assert soup.find(id="field-needs").get_text() == SECRET_NEEDS  # kept for the person typing
    assert reports.counts() == before


def test_every_missing_or_wrong_field_gets_its_own_message_at_once(reports: Reports):
    pupil = new_pupil()
    answer = reports.client.post(
        f"/clb/pupils/{pupil}/reports",
        data=form(kind="", valid_from="1 september", advice="  ", reasoning="x" * 20_001),
        headers=staff(reports, language="en"),
    )
    assert answer.status_code == 422
    soup = page(answer.text)
    assert error_next_to(soup, "kind") == "Error: Choose one of the options."
    assert "day/month/year" in error_next_to(soup, "valid_from")
    assert "may not be empty" in error_next_to(soup, "advice")
    assert "20,000" in error_next_to(soup, "reasoning")
    summary = [a["href"] for a in soup.select(".error-summary a")]
    assert summary == ["#field-kind", "#field-valid_from", "#field-advice", "#field-reasoning"]


def test_the_rules_by_kind_are_those_of_the_register(reports: Reports):
    pupil = new_pupil()
    cases = {
        ("GC", "secondary", "", "2"): ("opleidingsvorm", "gemeenschappelijk curriculum"),
        ("IAC", "nursery", "basisaanbod", ""): ("type", "kleuteronderwijs"),
        ("OV4", "primary", "9", ""): ("level", "secundair onderwijs"),
        ("V", "primary", "", ""): ("type", "buitengewoon-onderwijstype"),
    }
    for (kind, level, type_, vorm), (field, words) in cases.items():
        answer = reports.client.post(
            f"/clb/pupils/{pupil}/reports",
            data=form(kind=kind, level=level, type=type_, opleidingsvorm=vorm),
            headers=staff(reports),
        )
        assert answer.status_code == 422, (kind, level)
        assert words in error_next_to(page(answer.text), field), (kind, level)


def test_staff_issue_two_versions_and_the_history_shows_metadata_only(reports: Reports):
    pupil = new_pupil()
    headers = staff(reports)
    answer = reports.client.post(
        f"/clb/pupils/{pupil}/reports", data=form(), headers=headers, follow_redirects=False
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/clb/pupils/{pupil}?issued=1"
    assert statuses(reports, pupil, headers) == {1: "Huidig"}

    reports.client.post(
        f"/clb/pupils/{pupil}/reports",
        data=form(valid_from="2026-11-01", kind="GC", type=""),
        headers=headers,
    )
    history = reports.client.get(f"/clb/pupils/{pupil}?issued=2", headers=headers)
    assert "Versie 2 is uitgereikt." in history.text
    assert statuses(reports, pupil, headers) == {2: "Huidig", 1: "Vervangen"}
    assert "Els Maertens" in history.text
    assert SECRET_NEEDS not in history.text and SECRET_ADVICE not in history.text
    assert reports.current_version(pupil) == 2


def test_a_version_dated_ahead_is_listed_as_scheduled(reports: Reports):
    pupil = new_pupil()
    headers = staff(reports, language="en")
    reports.client.post(f"/clb/pupils/{pupil}/reports", data=form(), headers=headers)
    reports.client.post(
        f"/clb/pupils/{pupil}/reports", data=form(valid_from="2027-02-01"), headers=headers
    )
    assert statuses(reports, pupil, headers) == {2: "Scheduled", 1: "Current"}


def test_withdrawing_asks_first_and_then_leaves_no_current_report(reports: Reports):
    pupil = new_pupil()
    headers = staff(reports)
    reports.client.post(f"/clb/pupils/{pupil}/reports", data=form(), headers=headers)
    report_id = reports.history(pupil)[0]["report_id"]

    confirm = page(reports.client.get(f"/clb/reports/{report_id}/withdraw", headers=headers).text)
    assert confirm.h1.get_text(strip=True) == "Versie 1 opheffen?"
    action = confirm.select_one("main form")["action"]
    assert action == f"/clb/reports/{report_id}/withdraw"
    assert reports.current_version(pupil) == 1  # asking changed nothing

    reason = {"reason": "Verkeerde leerling gekozen."}
    answer = reports.client.post(action, data=reason, headers=headers, follow_redirects=False)
    assert answer.headers["location"] == f"/clb/pupils/{pupil}?withdrawn=1"
    assert statuses(reports, pupil, headers) == {1: "Opgeheven"}
    assert reports.current_version(pupil) is None
    again = reports.client.post(action, data=reason, headers=headers, follow_redirects=False)
    assert again.status_code == 303  # a second time changes nothing
    assert len(reports.events_of(pupil, 2)) == 2


def test_only_staff_of_the_issuing_clb_may_withdraw(reports: Reports):
    pupil = new_pupil()
    reports.client.post(f"/clb/pupils/{pupil}/reports", data=form(), headers=staff(reports))
    report_id = reports.history(pupil)[0]["report_id"]
    other = staff(reports, OTHER_CLB)

    history = page(reports.client.get(f"/clb/pupils/{pupil}", headers=other).text)
    assert history.find("a", href=re.compile("/withdraw$")) is None
    asking = reports.client.get(f"/clb/reports/{report_id}/withdraw", headers=other)
    assert asking.status_code == 403
    refused = reports.client.post(f"/clb/reports/{report_id}/withdraw", headers=other)
    assert refused.status_code == 403
    assert "Niet toegestaan" in refused.text
    assert reports.current_version(pupil) == 1


def test_staff_of_two_clbs_choose_the_issuing_clb(reports: Reports):
    pupil = new_pupil()
    headers = staff(reports, CLB, OTHER_CLB)
    soup = page(reports.client.get(f"/clb/pupils/{pupil}/reports/new", headers=headers).text)
    options = [o["value"] for o in soup.select("#field-clb_id option")]
    assert options == ["", *sorted([CLB, OTHER_CLB])]

    answer = reports.client.post(
        f"/clb/pupils/{pupil}/reports", data=form(clb_id=""), headers=headers
    )
    assert "Kies het CLB" in error_next_to(page(answer.text), "clb_id")
    reports.client.post(
        f"/clb/pupils/{pupil}/reports", data=form(clb_id=OTHER_CLB), headers=headers
    )
    assert [v["clb_id"] for v in reports.history(pupil)] == [OTHER_CLB]


def test_a_clb_cannot_be_chosen_that_the_person_does_not_work_for(reports: Reports):
    pupil = new_pupil()
    answer = reports.client.post(
        f"/clb/pupils/{pupil}/reports", data=form(clb_id=OTHER_CLB), headers=staff(reports)
    )
    assert answer.status_code == 422
    assert reports.history(pupil) == []


def test_people_who_are_not_clb_staff_are_refused(reports: Reports):
    pupil = new_pupil()
    teacher = {**HTML, **reports.issuer.headers(STAFF, school_admin_of=["031112"])}
    for path in ("/clb/pupils", f"/clb/pupils/{pupil}", f"/clb/pupils/{pupil}/reports/new"):
        assert reports.client.get(path, headers=teacher).status_code == 403
    posted = reports.client.post(f"/clb/pupils/{pupil}/reports", data=form(), headers=teacher)
    assert posted.status_code == 403


def test_a_visitor_who_is_not_signed_in_is_sent_to_sign_in(reports: Reports):
    answer = reports.client.get("/clb/pupils", headers=HTML, follow_redirects=False)
    assert answer.status_code == 303
    assert "/auth/login?next=%2Fclb%2Fpupils" in answer.headers["location"]


def test_report_content_is_in_no_log_record_and_no_url(
    reports: Reports, caplog: pytest.LogCaptureFixture
):
    pupil = new_pupil()
    headers = staff(reports)
    locations = []
    with caplog.at_level(logging.DEBUG):
        for data in (form(level="nursery", type="basisaanbod"), form()):
            answer = reports.client.post(
                f"/clb/pupils/{pupil}/reports", data=data, headers=headers, follow_redirects=False
            )
            locations.append(answer.headers.get("location", ""))
    logged = "\n".join(
        record.getMessage() + json.dumps(vars(record), default=str) for record in caplog.records
    )
    assert "report issued" in logged
    for secret in (SECRET_NEEDS, SECRET_ADVICE, "Zeer-persoonlijke", "Advies-9d2f"):
        assert secret not in logged
        assert all(secret not in location for location in locations)


# -- CSRF: a signed-in browser session must send the form's token ---------------------------


def session_cookie(reports: Reports, csrf: str, **claims: Any) -> str:
    """The signed session cookie a browser holds after signing in (as Starlette signs it)."""
    token = reports.issuer.token(STAFF, **claims)
    data = {"user": {"claims": {}, "access_token": token}, "csrf": csrf}
    signer = itsdangerous.TimestampSigner(reports.settings.session_secret)
    return signer.sign(b64encode(json.dumps(data).encode())).decode()


def test_every_form_refuses_a_post_without_its_csrf_token(reports: Reports):
    pupil = new_pupil()
    reports.client.cookies.set(
        SESSION_COOKIE, session_cookie(reports, "the-token", clb_staff_of=[CLB])
    )
    try:
        issue_path = f"/clb/pupils/{pupil}/reports"
        new_form = page(reports.client.get(f"{issue_path}/new", headers=HTML).text)
        assert new_form.select_one("input[name=csrf_token]")["value"] == "the-token"

        refused = reports.client.post(issue_path, data=form(), headers=HTML)
        assert refused.status_code == 403
        wrong = reports.client.post(issue_path, data={**form(), "csrf_token": "x"}, headers=HTML)
        assert wrong.status_code == 403
        assert reports.history(pupil) == []

        accepted = reports.client.post(
            issue_path,
            data={**form(), "csrf_token": "the-token"},
            headers=HTML,
            follow_redirects=False,
        )
        assert accepted.status_code == 303
        report_id = reports.history(pupil)[0]["report_id"]

        withdraw_path = f"/clb/reports/{report_id}/withdraw"
        confirm = page(reports.client.get(withdraw_path, headers=HTML).text)
        assert confirm.select_one("main form input[name=csrf_token]")["value"] == "the-token"
        assert reports.client.post(withdraw_path, headers=HTML).status_code == 403
        assert reports.current_version(pupil) == 1
        done = reports.client.post(
            withdraw_path,
            data={"csrf_token": "the-token", "reason": "Dubbel uitgereikt."},
            headers=HTML,
            follow_redirects=False,
        )
        assert done.status_code == 303
        assert reports.current_version(pupil) is None
    finally:
        reports.client.cookies.clear()


def test_the_pages_run_no_inline_script_and_only_scripts_of_their_own(reports: Reports):
    pupil = new_pupil()
    headers = staff(reports)
    for path in ("/clb/pupils", f"/clb/pupils/{pupil}", f"/clb/pupils/{pupil}/reports/new"):
        answer = reports.client.get(path, headers=headers)
        assert "script-src 'self'" in answer.headers["content-security-policy"]
        assert answer.headers["cache-control"] == "no-store"
        scripts = page(answer.text).find_all("script")
        assert all(s.get("src", "").startswith("/static/") and not s.string for s in scripts)
        for script in scripts:
            assert reports.client.get(script["src"]).status_code == 200


def test_the_start_page_sends_clb_staff_to_find_a_pupil_and_shows_others_who_they_are(
    reports: Reports,
):
    to_find = reports.client.get("/", headers=staff(reports), follow_redirects=False)
    assert to_find.status_code == 303
    assert to_find.headers["location"] == "/clb/pupils"

    responsible = {**HTML, **reports.issuer.headers(STAFF, school_admin_of=["031112"])}
    home = reports.client.get("/", headers=responsible)
    assert home.status_code == 200
    assert "Schoolverantwoordelijke bij 031112" in home.text
    anonymous = page(reports.client.get("/", headers=HTML).text)
    assert anonymous.select_one("main a[href='/auth/login?next=/']") is not None
