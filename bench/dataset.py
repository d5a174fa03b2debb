"""A realistic, seeded data set at the scale of Flanders (scale 1.0).

1,180,000 pupils in 3,722 schools served by 72 CLBs; 100,000 pupils with a
report (1.3 versions on average, 5% withdrawn, some dated in the future);
150,000 grants (about 10% support workers limited to a few pupils, some
expired, some revoked); 3% of pupils changing school during the year.
Everything scales linearly with `scale`; the same seed gives the same set.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path

from iris.insz import make_insz

FULL = {
    "pupils": 1_180_000,
    "schools": 3_722,
    "clbs": 72,
    "pupils_with_report": 100_000,
    "grants": 150_000,
}
VERSIONS_PER_REPORT = 1.3
WITHDRAWN_SHARE = 0.05
FUTURE_SHARE = 0.03
SUPPORT_WORKER_SHARE = 0.10
EXPIRED_SHARE = 0.04
REVOKED_SHARE = 0.03
MOVER_SHARE = 0.03
KINDS = [("IAC", 0.45), ("OV4", 0.10), ("GC", 0.15), ("V", 0.20), ("GV", 0.10)]
TYPES = ["basisaanbod", "2", "3", "4", "6", "7", "9"]
ROLES = [("teacher", 0.62), ("care_coordinator", 0.16), ("pupil_counsellor", 0.12)]


@dataclass(frozen=True)
class School:
    school_id: str
    clb_id: str
    level: str  # primary or secondary


@dataclass(frozen=True)
class EnrolmentFact:
    pupil_id: str
    school_id: str
    start_date: str
    end_date: str | None = None
    display_name: str | None = None


@dataclass(frozen=True)
class ReportFact:
    pupil_id: str
    clb_id: str
    kind: str
    valid_from: str
    type: str | None
    opleidingsvorm: str | None
    level: str
    withdraw: bool = False


@dataclass(frozen=True)
class GrantFact:
    school_id: str
    person_id: str
    role: str
    valid_from: str
    valid_until: str
    pupil_ids: list[str] | None = None
    revoke: bool = False


@dataclass
class Dataset:
    scale: float
    seed: int
    today: str
    schools: list[School] = field(default_factory=list)
    enrolments: list[EnrolmentFact] = field(default_factory=list)
    reports: list[ReportFact] = field(default_factory=list)
    grants: list[GrantFact] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        pupils = {e.pupil_id for e in self.enrolments}
        return {
            "schools": len(self.schools),
            "clbs": len({s.clb_id for s in self.schools}),
            "pupils": len(pupils),
            "enrolment_facts": len(self.enrolments),
            "pupils_with_report": len({r.pupil_id for r in self.reports}),
            "report_versions": len(self.reports),
            "withdrawals": sum(r.withdraw for r in self.reports),
            "grants": len(self.grants),
            "support_worker_grants": sum(g.role == "support_worker" for g in self.grants),
            "revoked_grants": sum(g.revoke for g in self.grants),
        }

    def write(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        meta = {
            "scale": self.scale,
            "seed": self.seed,
            "today": self.today,
            "counts": self.counts(),
        }
        (folder / "dataset.json").write_text(json.dumps(meta, indent=2))
        for name in ("schools", "enrolments", "reports", "grants"):
            with (folder / f"{name}.jsonl").open("w") as out:
                for item in getattr(self, name):
                    out.write(json.dumps(asdict(item), separators=(",", ":")) + "\n")


def _weighted(rng: random.Random, choices: list[tuple[str, float]]) -> str:
    return rng.choices([c for c, _ in choices], [w for _, w in choices])[0]


def _unique_insz(rng: random.Random, first: date, last: date, taken: set[str]) -> Iterator[str]:
    span = (last - first).days
    while True:
        birth = first + timedelta(days=rng.randrange(span))
        insz = make_insz(birth.isoformat(), rng.randrange(1, 998))
        if insz not in taken:
            taken.add(insz)
            yield insz


@dataclass
class _Plan:
    """What the steps of `generate` share: the generator, the dates and the counts."""

    rng: random.Random
    today: date
    year_start: date
    n: dict[str, int]
    taken: set[str] = field(default_factory=set)


def generate(scale: float = 1.0, seed: int = 20261128, today: date | None = None) -> Dataset:
    rng = random.Random(seed)
    today = today or date(2027, 2, 1)
    year_start = date(today.year if today.month >= 9 else today.year - 1, 9, 1)
    n = {k: max(1, round(v * scale)) for k, v in FULL.items()}
    data = Dataset(scale, seed, today.isoformat())
    plan = _Plan(rng, today, year_start, n)
    weights = _add_schools(plan, data)
    school_of = _add_enrolments(plan, data, weights)
    _add_reports(plan, data, school_of)
    _add_grants(plan, data, weights, school_of)
    return data


def _add_schools(plan: _Plan, data: Dataset) -> list[float]:
    """The schools, each served by a CLB; returns their relative sizes."""
    rng = plan.rng
    clbs = [f"{100000 + 37 * i}" for i in range(plan.n["clbs"])]
    for i in range(plan.n["schools"]):
        level = "primary" if rng.random() < 0.62 else "secondary"
        data.schools.append(School(f"{10000 + 53 * i:06d}", clbs[i % len(clbs)], level))
    # school sizes vary: a few large colleges, many small village schools
    return [rng.lognormvariate(0, 0.6) for _ in data.schools]


def _add_enrolments(plan: _Plan, data: Dataset, weights: list[float]) -> dict[str, School]:
    """Every pupil's enrolment, two for a pupil who moves; returns each pupil's school now."""
    rng, today, year_start = plan.rng, plan.today, plan.year_start
    young = _unique_insz(rng, date(2008, 9, 1), date(2021, 12, 31), plan.taken)
    pupils: list[str] = []
    school_of: dict[str, School] = {}
    for school in rng.choices(data.schools, weights, k=plan.n["pupils"]):
        pupil = next(young)
        pupils.append(pupil)
        school_of[pupil] = school
    movers = set(rng.sample(pupils, round(len(pupils) * MOVER_SHARE)))
    for i, pupil in enumerate(pupils):
        school = school_of[pupil]
        name = f"Leerling {i + 1}"
        if pupil in movers:
            move = year_start + timedelta(
                days=rng.randrange(30, max(31, (today - year_start).days))
            )
            new_school = rng.choice(data.schools)
            while new_school.school_id == school.school_id:
                new_school = rng.choice(data.schools)
            data.enrolments.append(
                EnrolmentFact(
                    pupil,
                    school.school_id,
                    year_start.isoformat(),
                    (move - timedelta(days=1)).isoformat(),
                    name,
                )
            )
            data.enrolments.append(
                EnrolmentFact(pupil, new_school.school_id, move.isoformat(), None, name)
            )
            school_of[pupil] = new_school
        else:
            data.enrolments.append(
                EnrolmentFact(pupil, school.school_id, year_start.isoformat(), None, name)
            )
    return school_of


def _add_reports(plan: _Plan, data: Dataset, school_of: dict[str, School]) -> None:
    """Report versions for a sample of the pupils, some withdrawn, some dated ahead."""
    rng, today = plan.rng, plan.today
    pupils = list(school_of)
    with_report = rng.sample(pupils, plan.n["pupils_with_report"])
    extra_versions = round(len(with_report) * (VERSIONS_PER_REPORT - 1))
    versions = {p: 1 for p in with_report}
    for pupil in rng.sample(with_report, extra_versions):
        versions[pupil] += 1
    for pupil in with_report:
        school = school_of[pupil]
        kind = _weighted(rng, KINDS)
        if school.level == "primary" and kind == "OV4":
            kind = "IAC"
        issued = date(2024, 9, 1) + timedelta(days=rng.randrange(600))
        count = versions[pupil]
        for v in range(count):
            last = v == count - 1
            valid_from = issued + timedelta(days=120 * v)
            if last and rng.random() < FUTURE_SHARE:
                valid_from = today + timedelta(days=rng.randrange(1, 60))
            if valid_from > today and not last:
                valid_from = today - timedelta(days=count - v)
            secondary = school.level == "secondary"
            needs_type = kind in ("IAC", "OV4", "V")
            bo_type = rng.choice(TYPES[1:]) if needs_type else None
            form = (
                ("4" if kind == "OV4" else rng.choice("123")) if secondary and needs_type else None
            )
            if bo_type == "2" and form in ("3", "4"):
                bo_type = "9"  # type 2 is organised in opleidingsvorm 1 and 2 only
            data.reports.append(
                ReportFact(
                    pupil,
                    school.clb_id,
                    kind,
                    valid_from.isoformat(),
                    bo_type,
                    form,
                    school.level,
                    withdraw=last and rng.random() < WITHDRAWN_SHARE,
                )
            )


def _add_grants(
    plan: _Plan, data: Dataset, weights: list[float], school_of: dict[str, School]
) -> None:
    """Grants to school staff and to support workers limited to a few pupils; some expired,
    some to be revoked."""
    rng, today, year_start = plan.rng, plan.today, plan.year_start
    staff = _unique_insz(rng, date(1960, 1, 1), date(2001, 12, 31), plan.taken)
    pupils_at: dict[str, list[str]] = {}
    for pupil, school in school_of.items():
        pupils_at.setdefault(school.school_id, []).append(pupil)
    for school in rng.choices(data.schools, weights, k=plan.n["grants"]):
        person = next(staff)
        valid_from = year_start - timedelta(days=rng.randrange(0, 700))
        if rng.random() < SUPPORT_WORKER_SHARE and pupils_at.get(school.school_id):
            own = pupils_at[school.school_id]
            scope = rng.sample(own, min(len(own), rng.randint(1, 5)))
            until = valid_from + timedelta(days=365 * 2)
            data.grants.append(
                GrantFact(
                    school.school_id,
                    person,
                    "support_worker",
                    valid_from.isoformat(),
                    until.isoformat(),
                    scope,
                )
            )
            continue
        until = valid_from + timedelta(days=365 * 4)
        if rng.random() < EXPIRED_SHARE:
            valid_from = year_start - timedelta(days=rng.randrange(300, 700))
            until = today - timedelta(days=rng.randrange(1, 150))
        data.grants.append(
            GrantFact(
                school.school_id,
                person,
                _weighted(rng, ROLES),
                valid_from.isoformat(),
                until.isoformat(),
                None,
                revoke=rng.random() < REVOKED_SHARE,
            )
        )
