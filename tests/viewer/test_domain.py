import random
import uuid

from services.viewer import domain
from services.viewer.domain import may_view
from tests.viewer.events import enrolment, grant, insz, issued, withdrawn

PUPIL, TEACHER = insz(1), insz(501)
SCHOOL, OTHER = "100001", "100002"
TODAY = "2026-11-28"


def world(*extra):
    return domain.fold([enrolment(PUPIL, SCHOOL), grant(SCHOOL, TEACHER), issued(PUPIL), *extra])


def test_a_granted_teacher_sees_the_current_report_of_an_enrolled_pupil():
    decision = may_view(TEACHER, PUPIL, TODAY, world())
    assert decision.allowed
    assert (decision.school_id, decision.role, decision.report.version) == (SCHOOL, "teacher", 1)


def test_a_person_without_a_grant_is_denied():
    decision = may_view(insz(502), PUPIL, TODAY, world())
    assert not decision.allowed and decision.reason == domain.NO_GRANT


def test_a_revoked_or_expired_or_future_grant_is_denied():
    for g in (
        grant(SCHOOL, TEACHER, 2, status="revoked"),
        grant(SCHOOL, TEACHER, 2, valid_until="2026-11-27"),
        grant(SCHOOL, TEACHER, 2, valid_from="2026-11-29"),
    ):
        assert may_view(TEACHER, PUPIL, TODAY, world(g)).reason == domain.GRANT_NOT_ACTIVE


def test_a_grant_limited_to_other_pupils_does_not_cover_this_one():
    state = world(grant(SCHOOL, TEACHER, 2, pupils=[insz(2)]))
    assert may_view(TEACHER, PUPIL, TODAY, state).reason == domain.GRANT_NOT_FOR_PUPIL
    state = world(grant(SCHOOL, TEACHER, 3, pupils=[insz(2), PUPIL]))
    assert may_view(TEACHER, PUPIL, TODAY, state).allowed


def test_the_school_loses_sight_after_the_end_date():
    assert may_view(TEACHER, PUPIL, TODAY, world(enrolment(PUPIL, SCHOOL, 2, end=TODAY))).allowed
    ended = world(enrolment(PUPIL, SCHOOL, 2, end="2026-11-27"))
    assert may_view(TEACHER, PUPIL, TODAY, ended).reason == domain.NOT_ENROLLED


def test_sight_starts_when_the_enrolment_is_registered_also_for_a_later_start_date():
    registered_for_next_year = world(enrolment(PUPIL, SCHOOL, 2, start="2027-09-01"))
    decision = may_view(TEACHER, PUPIL, TODAY, registered_for_next_year)
    assert decision.allowed and decision.school_id == SCHOOL
    listed = domain.pupils_with_report(
        TODAY,
        {PUPIL: registered_for_next_year.enrolments[(PUPIL, SCHOOL)]},
        registered_for_next_year.reports,
        None,
        whole_school=True,
    )
    assert [p.pupil_id for p in listed] == [PUPIL]


def test_a_grant_at_another_school_does_not_show_a_pupil_enrolled_elsewhere():
    state = domain.fold([enrolment(PUPIL, SCHOOL), grant(OTHER, TEACHER), issued(PUPIL)])
    assert may_view(TEACHER, PUPIL, TODAY, state).reason == domain.NOT_ENROLLED


def test_a_future_dated_version_becomes_current_on_its_date():
    state = world(issued(PUPIL, 2, valid_from="2026-12-01", kind="OV4"))
    assert may_view(TEACHER, PUPIL, TODAY, state).report.version == 1
    assert may_view(TEACHER, PUPIL, "2026-12-01", state).report.version == 2


def test_a_withdrawn_report_leaves_the_pupil_without_a_visible_report():
    rid = uuid.uuid4()
    state = domain.fold(
        [
            enrolment(PUPIL, SCHOOL),
            grant(SCHOOL, TEACHER),
            issued(PUPIL, 1),
            issued(PUPIL, 2, report_id=rid, valid_from="2025-01-01"),
            withdrawn(PUPIL, rid, 3, on="2026-01-01"),
        ]
    )
    assert may_view(TEACHER, PUPIL, TODAY, state).reason == domain.NO_CURRENT_REPORT
    state = domain.apply(state, issued(PUPIL, 4, valid_from="2026-11-01"))
    assert may_view(TEACHER, PUPIL, TODAY, state).report.version == 4


def test_a_future_version_withdrawn_before_its_date_never_takes_effect():
    rid = uuid.uuid4()
    state = world(
        issued(PUPIL, 2, report_id=rid, valid_from="2026-12-01"),
        withdrawn(PUPIL, rid, 3, on="2026-11-20"),
    )
    assert may_view(TEACHER, PUPIL, "2026-12-05", state).report.version == 1


def test_a_version_not_newer_than_the_one_held_is_ignored():
    state = domain.fold(
        [enrolment(PUPIL, SCHOOL, 2, end="2021-01-01"), enrolment(PUPIL, SCHOOL, 1)]
    )
    assert state.enrolments[(PUPIL, SCHOOL)].version == 2
    state = domain.fold([grant(SCHOOL, TEACHER, 3, status="revoked"), grant(SCHOOL, TEACHER, 3)])
    assert state.grants[(SCHOOL, TEACHER)].status == "revoked"


def test_report_events_fold_to_the_same_state_in_any_order_and_with_duplicates():
    ids = [uuid.uuid4() for _ in range(8)]
    events = [issued(PUPIL, n + 1, report_id=ids[n], valid_from=f"202{n}-01-01") for n in range(8)]
    events.append(withdrawn(PUPIL, ids[6], 9))
    expected = domain.fold(events)
    assert len(expected.reports[PUPIL].issued) == domain.REPORT_VERSIONS_KEPT
    rng = random.Random(7)
    for _ in range(20):
        shuffled = events + rng.sample(events, 4)
        rng.shuffle(shuffled)
        assert domain.fold(shuffled) == expected


def test_naming_the_school_checks_only_that_school():
    state = world(enrolment(PUPIL, OTHER), grant(OTHER, TEACHER, role="care_coordinator"))
    assert may_view(TEACHER, PUPIL, TODAY, state).school_id == SCHOOL
    decision = may_view(TEACHER, PUPIL, TODAY, state, school_id=OTHER)
    assert (decision.school_id, decision.role) == (OTHER, "care_coordinator")
    assert may_view(TEACHER, PUPIL, TODAY, state, "100009").reason == domain.NO_GRANT


def test_pupils_with_report_lists_only_covered_enrolled_pupils_with_a_current_report():
    other = insz(2)
    state = world(enrolment(other, SCHOOL), enrolment(insz(3), SCHOOL), issued(insz(3)))
    enrolments = {p: e for (p, s), e in state.enrolments.items() if s == SCHOOL}
    limited = domain.grant_of(grant(SCHOOL, TEACHER, pupils=[insz(3)]))
    everyone = domain.pupils_with_report(TODAY, enrolments, state.reports, None, True)
    assert [p.pupil_id for p in everyone] == sorted([PUPIL, insz(3)])
    covered = domain.pupils_with_report(TODAY, enrolments, state.reports, limited, False)
    assert [p.pupil_id for p in covered] == [insz(3)]
    assert domain.pupils_with_report(TODAY, enrolments, state.reports, None, False) == []
