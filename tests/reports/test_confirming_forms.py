"""The CLB forms that confirm: issuing shows a review that says when the version takes
effect and what schools see until then; withdrawing asks why, keeps the reason for the
history (never on the topic) and is not offered on a replaced version."""

from __future__ import annotations

import re

import pytest

from tests.reports.conftest import Reports, new_pupil
from tests.reports.test_pages import form, page, staff, statuses

pytestmark = pytest.mark.integration


def review(reports: Reports, pupil: str, headers: dict[str, str], **fields: str):
    answer = reports.client.post(
        f"/clb/pupils/{pupil}/reports", data={**form(**fields), "step": ""}, headers=headers
    )
    assert answer.status_code == 200, answer.text
    return page(answer.text)


def test_issuing_first_shows_a_review_and_issues_nothing(reports: Reports):
    pupil = new_pupil()
    headers = staff(reports, language="nl")
    soup = review(reports, pupil, headers, valid_from="2027-09-01")

    assert soup.h1.get_text(strip=True) == "Versie 1 nakijken voor u ze uitreikt"
    effect = soup.select_one("[data-testid=effect]").get_text(" ", strip=True)
    assert "1 september 2027" in effect
    assert "Tot dan zien scholen geen verslag van deze leerling." in effect
    assert reports.history(pupil) == []
    hidden = {i["name"]: i["value"] for i in soup.select("main form input[type=hidden]")}
    assert hidden["valid_from"] == "2027-09-01" and "step" not in hidden

    issued = reports.client.post(
        f"/clb/pupils/{pupil}/reports",
        data={**hidden, "step": "issue"},
        headers=headers,
        follow_redirects=False,
    )
    assert issued.headers["location"] == f"/clb/pupils/{pupil}?issued=1"
    assert statuses(reports, pupil, headers) == {1: "Gepland"}


def test_the_review_names_the_version_schools_keep_seeing_until_the_new_one_starts(
    reports: Reports,
):
    pupil = new_pupil()
    headers = staff(reports, language="en")
    reports.client.post(f"/clb/pupils/{pupil}/reports", data=form(), headers=headers)

    later = review(reports, pupil, headers, valid_from="2027-01-04", kind="GC", type="")
    effect = later.select_one("[data-testid=effect]").get_text(" ", strip=True)
    assert "It takes effect on 4 January 2027." in effect
    assert re.search(r"keep seeing version 1 \(IAC", effect)

    now = review(reports, pupil, headers, valid_from="2026-11-01", kind="GC", type="")
    effect = now.select_one("[data-testid=effect]").get_text(" ", strip=True)
    assert "as soon as you issue it" in effect and "instead of version 1" in effect


def test_changing_the_report_from_the_review_brings_the_typed_form_back(reports: Reports):
    pupil = new_pupil()
    headers = staff(reports)
    answer = reports.client.post(
        f"/clb/pupils/{pupil}/reports", data=form(step="change"), headers=headers
    )
    soup = page(answer.text)
    assert answer.status_code == 200
    assert soup.find(id="field-needs").get_text() == form()["needs"]
    assert reports.history(pupil) == []


def withdraw_path(reports: Reports, pupil: str, version: int) -> str:
    found = next(v for v in reports.history(pupil) if v["version"] == version)
    return f"/clb/reports/{found['report_id']}/withdraw"


def test_withdrawing_asks_why_and_the_history_shows_the_reason(reports: Reports):
    pupil = new_pupil()
    headers = staff(reports)
    reports.client.post(f"/clb/pupils/{pupil}/reports", data=form(), headers=headers)
    path = withdraw_path(reports, pupil, 1)

    blank = reports.client.post(path, data={"reason": "  "}, headers=headers)
    assert blank.status_code == 422
    soup = page(blank.text)
    assert soup.select_one(".error-summary").has_attr("autofocus")
    assert "Geef aan waarom" in soup.select_one("#reason-error").get_text()
    assert reports.current_version(pupil) == 1

    reason = "Uitgereikt voor de verkeerde leerling."
    done = reports.client.post(
        path, data={"reason": reason}, headers=headers, follow_redirects=False
    )
    assert done.status_code == 303
    history = page(reports.client.get(f"/clb/pupils/{pupil}", headers=headers).text)
    assert reason in history.select_one("[data-testid=reason-1]").get_text()


def test_a_replaced_version_is_not_offered_for_withdrawal(reports: Reports):
    pupil = new_pupil()
    headers = staff(reports, language="en")
    reports.client.post(f"/clb/pupils/{pupil}/reports", data=form(), headers=headers)
    reports.client.post(
        f"/clb/pupils/{pupil}/reports", data=form(valid_from="2026-10-01"), headers=headers
    )
    reports.client.post(
        f"/clb/pupils/{pupil}/reports", data=form(valid_from="2027-03-01"), headers=headers
    )
    assert statuses(reports, pupil, headers) == {3: "Scheduled", 2: "Current", 1: "Superseded"}

    history = page(reports.client.get(f"/clb/pupils/{pupil}", headers=headers).text)
    offered = [a["href"] for a in history.find_all("a", href=re.compile("/withdraw$"))]
    assert offered == [withdraw_path(reports, pupil, 3), withdraw_path(reports, pupil, 2)]

    replaced = withdraw_path(reports, pupil, 1)
    asking = reports.client.get(replaced, headers=headers, follow_redirects=False)
    assert asking.status_code == 303 and asking.headers["location"] == f"/clb/pupils/{pupil}"
    refused = reports.client.post(replaced, data={"reason": "Oud."}, headers=headers)
    assert refused.status_code == 409
    assert statuses(reports, pupil, headers)[1] == "Superseded"


def test_the_reason_for_a_withdrawal_never_reaches_the_topic(reports: Reports):
    pupil = new_pupil()
    headers = staff(reports)
    reports.client.post(f"/clb/pupils/{pupil}/reports", data=form(), headers=headers)
    reason = "Reden-4e1a: het kind verhuist naar het buitenland."
    reports.client.post(withdraw_path(reports, pupil, 1), data={"reason": reason}, headers=headers)

    events = reports.events_of(pupil, 2)
    assert [e["type"] for e in events] == ["ReportIssued", "ReportWithdrawn"]
    published = [
        (m.raw or b"") + b"".join(v for _, v in m.headers) for m in reports.reader.messages
    ]
    assert not any(b"Reden-4e1a" in raw for raw in published), "the reason on the topic"
    assert not any("reason" in e for e in events)
