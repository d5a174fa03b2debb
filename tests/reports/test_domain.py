import uuid
from datetime import UTC, date, datetime

import pytest

from services.reports import domain
from services.reports.domain import Head, ReportRuleBroken, ReportVersion

PUPIL = "13050601212"
ISSUED = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)


def version(n: int, valid_from: date, withdrawn_on: date | None = None) -> ReportVersion:
    return ReportVersion(
        report_id=uuid.uuid4(),
        pupil_id=PUPIL,
        version=n,
        kind="IAC",
        clb_id="1234",
        valid_from=valid_from,
        issued_at=ISSUED,
        type="9",
        opleidingsvorm=None,
        level="primary",
        issue_sequence=n,
        withdrawn_at=ISSUED if withdrawn_on else None,
        withdrawn_on=withdrawn_on,
        withdraw_sequence=100 + n if withdrawn_on else None,
    )


def broken_field(kind, type_=None, opleidingsvorm=None, level=None) -> str:
    with pytest.raises(ReportRuleBroken) as caught:
        domain.check_placement(kind, type_, opleidingsvorm, level)
    assert caught.value.status == 422
    return caught.value.field


# -- rules by kind -----------------------------------------------------------------------


def test_an_iac_report_in_primary_with_a_type_is_accepted():
    placement = domain.check_placement("IAC", "basisaanbod", None, "primary")
    assert placement == domain.Placement("IAC", "basisaanbod", None, "primary")


@pytest.mark.parametrize("kind", ["V", "IAC", "OV4"])
def test_reports_that_give_access_to_buitengewoon_onderwijs_need_a_type(kind):
    assert broken_field(kind, None, 4 if kind == "OV4" else None) == "type"


@pytest.mark.parametrize("kind", ["GC", "GV"])
def test_common_curriculum_reports_need_no_type(kind):
    assert domain.check_placement(kind, None, None, "secondary").type is None


def test_basisaanbod_is_refused_in_nursery_naming_type():
    assert broken_field("IAC", "basisaanbod", None, "nursery") == "type"
    assert domain.check_placement("IAC", "2", None, "nursery").level == "nursery"


def test_an_ov4_report_goes_only_with_opleidingsvorm_4():
    assert broken_field("OV4", "9", 3) == "opleidingsvorm"
    assert broken_field("OV4", "9", None) == "opleidingsvorm"
    assert domain.check_placement("OV4", "9", 4, None).level == "secondary"


def test_an_ov4_report_is_refused_outside_secondary_naming_level():
    assert broken_field("OV4", "9", None, "primary") == "level"


def test_an_opleidingsvorm_implies_secondary_and_is_refused_elsewhere():
    assert domain.check_placement("IAC", "9", 2, None).level == "secondary"
    assert broken_field("IAC", "9", 2, "primary") == "opleidingsvorm"
    assert broken_field("V", "9", 1, "nursery") == "opleidingsvorm"


def test_an_iac_report_in_secondary_names_an_opleidingsvorm_other_than_4():
    assert broken_field("IAC", "9", None, "secondary") == "opleidingsvorm"
    assert broken_field("IAC", "9", 4, "secondary") == "opleidingsvorm"
    assert domain.check_placement("IAC", "9", 3, "secondary").opleidingsvorm == 3


def test_a_common_curriculum_report_has_no_opleidingsvorm():
    assert broken_field("GC", None, 4, "secondary") == "opleidingsvorm"
    assert broken_field("GV", "9", 2) == "opleidingsvorm"


def test_types_are_accepted_only_in_the_opleidingsvormen_that_organise_them():
    assert domain.check_placement("IAC", "basisaanbod", 3, None).type == "basisaanbod"
    assert broken_field("IAC", "basisaanbod", 1) == "type"
    assert domain.check_placement("IAC", "2", 2, None).type == "2"
    assert broken_field("IAC", "2", 3) == "type"
    assert broken_field("OV4", "2", 4) == "type"
    assert broken_field("OV4", "basisaanbod", 4) == "type"
    assert domain.check_placement("V", "7", 4, "secondary").opleidingsvorm == 4


def test_unknown_kinds_types_and_levels_are_refused_naming_the_field():
    assert broken_field("X", "9") == "kind"
    assert broken_field("IAC", "1") == "type"
    assert broken_field("IAC", "9", 5) == "opleidingsvorm"
    assert broken_field("IAC", "9", None, "university") == "level"


def test_rule_messages_never_quote_what_was_submitted():
    with pytest.raises(ReportRuleBroken) as caught:
        domain.check_placement("Distinctive-Kind", None, None, None)
    assert "Distinctive" not in caught.value.message


# -- sections ------------------------------------------------------------------------------


def test_a_section_of_plain_text_up_to_the_limit_is_accepted():
    assert domain.section_problem("Lotte heeft nood aan\n\tstructuur.") is None
    assert domain.section_problem("x" * domain.SECTION_MAX_CHARS) is None


def test_an_empty_oversize_or_binary_section_is_refused_without_quoting_it():
    assert domain.section_problem("   ") is not None
    oversize = "Geheim" * domain.SECTION_MAX_CHARS
    problem = domain.section_problem(oversize)
    assert problem is not None and "Geheim" not in problem
    assert domain.section_problem("nul\x00byte") is not None


# -- versions and the current report ---------------------------------------------------------


def test_the_head_hands_out_versions_and_sequences_without_gaps():
    head = Head()
    head = head.issue()
    assert head == Head(1, 1)
    head = head.issue().withdraw()
    assert head == Head(2, 3)


def test_a_newer_version_supersedes_the_older_once_it_takes_effect():
    v1, v2 = version(1, date(2026, 9, 1)), version(2, date(2026, 10, 1))
    assert domain.current([v1, v2], date(2026, 9, 30)) == v1
    assert domain.current([v1, v2], date(2026, 10, 1)) == v2


def test_a_future_version_leaves_the_previous_current_until_its_date():
    v1, v2, v3 = (
        version(1, date(2026, 9, 1)),
        version(2, date(2026, 9, 2)),
        version(3, date(2027, 1, 1)),
    )
    today = date(2026, 12, 31)
    assert domain.current([v1, v2, v3], today) == v2
    assert domain.status_of(v3, [v1, v2, v3], today) == "scheduled"
    assert domain.status_of(v1, [v1, v2, v3], today) == "superseded"
    assert domain.current([v1, v2, v3], date(2027, 1, 1)) == v3


def test_withdrawing_the_current_version_leaves_no_current_report():
    v1 = version(1, date(2026, 9, 1))
    v2 = version(2, date(2026, 9, 2), withdrawn_on=date(2026, 9, 20))
    assert domain.current([v1, v2], date(2026, 10, 1)) is None
    assert domain.status_of(v1, [v1, v2], date(2026, 10, 1)) == "superseded"
    assert domain.status_of(v2, [v1, v2], date(2026, 10, 1)) == "withdrawn"


def test_a_future_version_withdrawn_before_its_date_never_takes_effect():
    v1 = version(1, date(2026, 9, 1))
    v2 = version(2, date(2027, 1, 1), withdrawn_on=date(2026, 12, 1))
    assert domain.current([v1, v2], date(2026, 12, 1)) == v1
    assert domain.current([v1, v2], date(2027, 2, 1)) == v1


def test_a_version_withdrawn_on_or_after_its_date_took_effect_and_leaves_nothing():
    v1 = version(1, date(2026, 9, 1))
    v2 = version(2, date(2027, 1, 1), withdrawn_on=date(2027, 1, 1))
    assert domain.current([v1, v2], date(2027, 2, 1)) is None


def test_a_later_version_with_an_earlier_date_wins_once_both_have_started():
    v1, v2 = version(1, date(2026, 10, 1)), version(2, date(2026, 9, 1))
    assert domain.current([v1, v2], date(2026, 9, 15)) == v2
    assert domain.current([v1, v2], date(2026, 10, 15)) == v2


def test_no_version_is_current_before_the_first_takes_effect():
    assert domain.current([version(1, date(2027, 1, 1))], date(2026, 12, 31)) is None
    assert domain.current([], date(2026, 12, 31)) is None


def test_only_staff_of_the_issuing_clb_may_withdraw():
    v1 = version(1, date(2026, 9, 1))
    assert domain.may_withdraw(v1, frozenset({"1234", "99"}))
    assert not domain.may_withdraw(v1, frozenset({"99"}))


def test_changes_come_out_in_sequence_order_per_pupil():
    v1 = version(1, date(2026, 9, 1), withdrawn_on=date(2026, 9, 3))
    v2 = version(2, date(2026, 9, 2))
    order = [(seq, what, v.version) for seq, what, v in domain.changes_in_order([v2, v1])]
    assert order == [(1, "issued", 1), (2, "issued", 2), (101, "withdrawn", 1)]
