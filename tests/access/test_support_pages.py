"""The support request's pages over HTTP in-process: the care coordinator sends one
for a pupil picked by name, and the school follows it until the access is granted."""

from __future__ import annotations

import re

from tests.access.conftest import Access, person, pupil
from tests.access.test_support_requests import (
    NETWORK,
    QUESTION,
    care_coordinator,
    register_pupil,
    school_of_kind,
)

HTML = {"Accept": "text/html", "Accept-Language": "nl"}


def test_the_care_coordinator_sends_by_page_and_the_school_follows_each_step(access: Access):
    school, noor, worker = school_of_kind(access, "mainstream"), pupil(81), person(81)
    register_pupil(access, school, noor)
    coordinator = {**care_coordinator(access, school, 82), **HTML}
    home = access.client.get("/", headers=coordinator).text
    assert f'href="/schools/{school}/support-requests"' in home
    assert f"Ondersteuningsvragen van school {school}" in home
    form = access.client.get(f"/schools/{school}/support-requests", headers=coordinator)
    assert form.status_code == 200
    assert f'<option value="{noor}">Noor Peeters (…{noor[-2:]})</option>' in form.text
    assert noor not in re.sub(r'value="\d{11}"', "", form.text), "the INSZ shows only 2 digits"

    sent = access.client.post(
        f"/schools/{school}/support-requests",
        data={"pupil_id": noor, "support_network": NETWORK, "question": QUESTION},
        headers=coordinator,
        follow_redirects=False,
    )
    assert sent.status_code == 303, sent.text
    followed = access.client.get(sent.headers["location"], headers=coordinator).text
    assert "De ondersteuningsvraag is verstuurd." in followed
    assert "Verstuurd, wacht op het ondersteuningsnetwerk" in followed

    [asked] = access.client.get(
        f"/v1/support-networks/{NETWORK}/support-requests", headers=access.network(NETWORK)
    ).json()
    access.client.post(
        f"/v1/support-networks/{NETWORK}/support-requests/{asked['support_request_id']}/accept",
        json={"support_workers": [worker]},
        headers=access.network(NETWORK),
    )
    page = access.client.get(f"/schools/{school}/support-requests", headers=coordinator).text
    assert "Aanvaard; toegang wacht op de schoolverantwoordelijke" in page
    assert f"…{worker[-2:]} (wachtend)" in page

    responsible = {**access.responsible(school), **HTML}
    [pending] = access.client.get(
        f"/v1/schools/{school}/access-requests", headers=access.responsible(school)
    ).json()
    approved = access.client.post(
        f"/schools/{school}/requests/{pending['request_id']}/approve",
        data={"valid_until": ""},
        headers=responsible,
        follow_redirects=False,
    )
    assert approved.status_code == 303, approved.text
    page = access.client.get(f"/schools/{school}/support-requests", headers=responsible).text
    assert "Toegang verleend" in page and f"…{worker[-2:]} (goedgekeurd)" in page


def test_a_teacher_may_not_open_the_support_requests_and_bad_values_name_the_field(
    access: Access,
):
    school, noor = school_of_kind(access, "mainstream"), pupil(83)
    register_pupil(access, school, noor)
    teacher = person(83)
    access.grant(school, person_id=teacher, role="teacher", valid_from="2026-09-01")
    page = access.client.get(
        f"/schools/{school}/support-requests", headers={**access.issuer.headers(teacher), **HTML}
    )
    assert page.status_code == 403

    answer = access.client.post(
        f"/schools/{school}/support-requests",
        data={"pupil_id": noor, "support_network": NETWORK, "question": ""},
        headers={**access.responsible(school), **HTML},
    )
    assert answer.status_code == 422
    assert re.search(r'id="question-error">', answer.text)
