"""Which of a pupil's report versions may go: only a run from the oldest, each replaced
before the cutoff, so that what remains yields the same current report."""

from __future__ import annotations

from datetime import date

from services.reports.purge import Kept, purgeable

BEFORE = date(2030, 1, 1)


def version(n: int, valid_from: date, withdrawn: date | None = None) -> Kept:
    return Kept(f"r{n}", n, valid_from, withdrawn, withdrawn, "pupil")


def versions_of(run: list[Kept]) -> list[int]:
    return [v.version for v in run]


def test_superseded_versions_go_the_current_one_stays() -> None:
    history = [
        version(1, date(2020, 9, 1)),
        version(2, date(2021, 9, 1)),
        version(3, date(2022, 9, 1)),
    ]
    assert versions_of(purgeable(history, BEFORE)) == [1, 2]


def test_a_version_superseded_after_the_cutoff_stays_and_so_do_the_newer() -> None:
    history = [
        version(1, date(2020, 9, 1)),
        version(2, date(2031, 9, 1)),
        version(3, date(2032, 1, 1)),
    ]
    assert versions_of(purgeable(history, BEFORE)) == []


def test_a_withdrawn_newest_version_goes_only_with_the_ones_it_superseded() -> None:
    # v2 superseded v1 when it took effect, then was lifted: the pupil has no current report
    history = [version(1, date(2020, 9, 1)), version(2, date(2021, 9, 1), date(2022, 1, 1))]
    assert versions_of(purgeable(history, BEFORE)) == [1, 2]
    # lifted after the cutoff: v1 (superseded long ago) goes, v2 stays and still says that
    # the pupil has no current report
    late = [version(1, date(2020, 9, 1)), version(2, date(2021, 9, 1), date(2031, 1, 1))]
    assert versions_of(purgeable(late, BEFORE)) == [1]


def test_a_version_cancelled_before_its_start_replaces_nothing() -> None:
    # v2 was withdrawn before it took effect: v1 stays current, so v1 and v2 both stay
    history = [version(1, date(2020, 9, 1)), version(2, date(2021, 9, 1), date(2021, 5, 1))]
    assert versions_of(purgeable(history, BEFORE)) == []
