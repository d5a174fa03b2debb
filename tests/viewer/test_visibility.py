"""Claims of enrolment made visible: the pupil and the parents see which schools can see
the report now, since when, and who at each. Any school can register any pupil and
grant itself access; this is where the family notices."""

from __future__ import annotations

import pytest

from iris.insz import mask_insz
from tests.viewer.events import enrolment, grant, insz, issued

pytestmark = pytest.mark.integration

SCHOOL, INTRUDER, FORMER = "100051", "100052", "100053"
PUPIL, OTHER_PUPIL = insz(71), insz(72)
TEACHER, LIMITED, REVOKED, SELF_GRANTED, PARENT = (insz(n) for n in (771, 772, 773, 774, 775))
CLB = "900071"
REPORT = issued(PUPIL, 1, valid_from="2024-09-01", clb=CLB)


@pytest.fixture
def world(cache_state):
    cache_state(
        enrolment(PUPIL, SCHOOL, start="2024-09-01"),
        enrolment(PUPIL, INTRUDER, start="2025-01-06"),
        enrolment(PUPIL, FORMER, start="2020-09-01", end="2023-06-30"),
        REPORT,
        grant(SCHOOL, TEACHER, pupils=[PUPIL]),
        grant(SCHOOL, LIMITED, pupils=[OTHER_PUPIL]),
        grant(SCHOOL, REVOKED, status="revoked", version=2),
        grant(INTRUDER, SELF_GRANTED, role="care_coordinator"),
        grant(FORMER, insz(776)),
    )


def test_the_parent_sees_every_school_that_can_see_the_report_and_who_there(viewer, issuer, world):
    answer = viewer.get(
        f"/v1/pupils/{PUPIL}/visibility", headers=issuer.headers(PARENT, parent_of=[PUPIL])
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    sights = {s["school_id"]: s for s in answer.json()}
    assert set(sights) == {SCHOOL, INTRUDER}  # not the school the pupil left
    assert sights[INTRUDER]["enrolled_since"] == "2025-01-06"
    assert [(p["person_id"], p["role"]) for p in sights[INTRUDER]["people"]] == [
        (SELF_GRANTED, "care_coordinator")
    ]
    assert [p["person_id"] for p in sights[SCHOOL]["people"]] == [TEACHER]


def test_only_the_pupil_a_parent_and_the_reports_clb_may_ask(viewer, issuer, world):
    path = f"/v1/pupils/{PUPIL}/visibility"
    assert viewer.get(path, headers=issuer.headers(PUPIL)).status_code == 200
    clb_staff = viewer.get(path, headers=issuer.headers(insz(779), clb_staff_of=[CLB]))
    assert clb_staff.status_code == 200
    assert {s["school_id"] for s in clb_staff.json()} == {SCHOOL, INTRUDER}
    for stranger in (
        issuer.headers(insz(777)),
        issuer.headers(insz(778), school_admin_of=[SCHOOL]),
        issuer.headers(insz(780), clb_staff_of=["900072"]),
        issuer.school_client(SCHOOL),
    ):
        assert viewer.get(path, headers=stranger).status_code == 403


def test_the_parents_page_names_the_schools_and_the_people_masked(viewer, issuer, world):
    headers = {
        **issuer.headers(PARENT, parent_of=[PUPIL]),
        "Accept": "text/html",
        "Accept-Language": "en",
    }
    page = viewer.get("/my/views", headers=headers)
    assert page.status_code == 200
    assert "Who can see the report now" in page.text
    assert f"School {INTRUDER}, enrolled since 6 January 2025" in page.text
    assert mask_insz(SELF_GRANTED) in page.text and SELF_GRANTED not in page.text
    assert f"School {FORMER}" not in page.text
