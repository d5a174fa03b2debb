"""A small, believable demo world for `iris dev`, so a new user sees a working platform.

Two schools served by one CLB, a dozen pupils, and the people who use IRIS.
Each service contributes its part through its public API, as real clients do;
a part whose service is not running is skipped.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from iris.auth import dev_issuer_key, mint
from iris.insz import make_insz


@dataclass(frozen=True)
class Person:
    insz: str
    name: str
    role: str  # what the sign-in page shows


@dataclass(frozen=True)
class Pupil:
    insz: str
    name: str
    school_id: str


CLB_ID = "113001"
SCHOOLS = {"031112": "Basisschool De Regenboog", "047597": "Sint-Jozefscollege"}
SCHOOL_A, SCHOOL_B = SCHOOLS
SPECIAL_SCHOOL = "126151"  # in the register of schools only: no support-worker sight there
REGISTER_OF_SCHOOLS = [
    (SCHOOL_A, SCHOOLS[SCHOOL_A], "mainstream", "Regenbooglaan 1, 9000 Gent", CLB_ID),
    (SCHOOL_B, SCHOOLS[SCHOOL_B], "mainstream", "Collegestraat 12, 2000 Antwerpen", CLB_ID),
    (SPECIAL_SCHOOL, "BuBaO De Brug", "special", "Brugstraat 4, 9000 Gent", CLB_ID),
]

PUPILS = [
    Pupil(make_insz("2016-03-14", 121), "Lotte Peeters", SCHOOL_A),
    Pupil(make_insz("2016-07-02", 233), "Noah Janssens", SCHOOL_A),
    Pupil(make_insz("2017-01-23", 145), "Emma Maes", SCHOOL_A),
    Pupil(make_insz("2015-11-09", 367), "Louis Jacobs", SCHOOL_A),
    Pupil(make_insz("2016-05-30", 412), "Olivia Mertens", SCHOOL_A),
    Pupil(make_insz("2017-09-18", 158), "Arthur Willems", SCHOOL_A),
    Pupil(make_insz("2011-02-27", 271), "Mila Claes", SCHOOL_B),
    Pupil(make_insz("2010-12-05", 389), "Jules Goossens", SCHOOL_B),
    Pupil(make_insz("2011-08-16", 193), "Ella Wouters", SCHOOL_B),
    Pupil(make_insz("2012-04-11", 305), "Finn De Smet", SCHOOL_B),
    Pupil(make_insz("2011-06-21", 127), "Nora Dubois", SCHOOL_B),
    Pupil(make_insz("2012-10-03", 249), "Lucas Hermans", SCHOOL_B),
]

RESPONSIBLE_A = Person(make_insz("1974-04-12", 153), "An Vermeulen", "school responsible")
RESPONSIBLE_B = Person(make_insz("1969-09-30", 287), "Bart Pauwels", "school responsible")
TEACHER = Person(make_insz("1988-02-17", 341), "Sofie Lambrechts", "teacher")
CARE_COORDINATOR = Person(make_insz("1981-06-08", 215), "Kris Verhoeven", "care coordinator")
SUPPORT_WORKER = Person(make_insz("1990-11-25", 179), "Hanne De Wit", "support worker")
CLB_STAFF = Person(make_insz("1979-03-03", 261), "Els Maertens", "CLB staff")
PARENT = Person(make_insz("1985-08-19", 337), "Tom Peeters", "parent")
SUPPORT_NETWORK = "ondersteuningsnetwerk-antwerpen"
SCHOOL_YEAR_START = "2026-09-01"

PEOPLE = [
    RESPONSIBLE_A,
    RESPONSIBLE_B,
    TEACHER,
    CARE_COORDINATOR,
    SUPPORT_WORKER,
    CLB_STAFF,
    PARENT,
]


def claims_of(person: Person) -> dict[str, Any]:
    """The token claims the development issuer gives each demo person."""
    mailbox = re.sub(r"[^a-z]+", ".", person.name.lower()).strip(".")
    claims: dict[str, Any] = {
        "name": person.name,
        "amr": ["itsme"],
        "email": f"{mailbox}@demo.iris.invalid",
    }
    if person is RESPONSIBLE_A:
        claims["school_admin_of"] = [SCHOOL_A]
    elif person is RESPONSIBLE_B:
        claims["school_admin_of"] = [SCHOOL_B]
    elif person is CLB_STAFF:
        claims["clb_staff_of"] = [CLB_ID]
    elif person is PARENT:
        claims["parent_of"] = [PUPILS[0].insz]
    return claims


SeedPart = Callable[["Seeder"], None]


class Seeder:
    """Calls the running services' APIs with tokens from the development issuer."""

    def __init__(self, stack: Any) -> None:
        self.settings = stack.settings()
        self.urls: dict[str, str] = stack.urls
        self.key = dev_issuer_key(self.settings)
        self.http = httpx.Client(timeout=10)

    def token(self, subject: str, **claims: Any) -> str:
        return mint(
            self.key,
            self.settings.oidc_issuer,
            subject,
            self.settings.audience,
            ttl_seconds=600,
            **claims,
        )

    def as_person(self, person: Person) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(person.insz, **claims_of(person))}"}

    def as_school_software(self, school_id: str) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.token(f'client:demo-{school_id}', school_id=school_id)}"
        }

    def post(self, service: str, path: str, headers: dict[str, str], **kwargs: Any) -> Any:
        answer = self.http.post(f"{self.urls[service]}{path}", headers=headers, **kwargs)
        if answer.status_code >= 400:
            raise RuntimeError(f"seeding {service} {path}: {answer.status_code} {answer.text}")
        return answer.json()


def seed_enrolments(seeder: Seeder) -> None:
    for pupil in PUPILS:
        seeder.post(
            "enrolment",
            "/v1/enrolments",
            seeder.as_school_software(pupil.school_id),
            json={
                "pupil_id": pupil.insz,
                "school_id": pupil.school_id,
                "start_date": SCHOOL_YEAR_START,
                "display_name": pupil.name,
            },
        )


DEMO_REPORTS: list[tuple[Pupil, dict[str, Any]]] = [
    (PUPILS[0], {"kind": "IAC", "type": "9", "level": "primary", "valid_from": "2025-10-01"}),
    (PUPILS[0], {"kind": "IAC", "type": "9", "level": "primary", "valid_from": "2026-09-01"}),
    (PUPILS[2], {"kind": "GC", "level": "primary", "valid_from": "2026-03-15"}),
    (
        PUPILS[4],
        {"kind": "V", "type": "basisaanbod", "level": "primary", "valid_from": "2022-09-01"},
    ),
    (
        PUPILS[6],
        {
            "kind": "OV4",
            "type": "9",
            "opleidingsvorm": "4",
            "level": "secondary",
            "valid_from": "2026-09-01",
        },
    ),
    (
        PUPILS[8],
        {
            "kind": "IAC",
            "type": "3",
            "opleidingsvorm": "1",
            "level": "secondary",
            "valid_from": "2026-01-20",
        },
    ),
]


def demo_content(pupil: Pupil, version: int) -> dict[str, str]:
    first = pupil.name.split()[0]
    return {
        "needs": f"{first} heeft nood aan voorspelbaarheid, duidelijke overgangen en een "
        "prikkelarme werkplek.",
        "advice": "Werk met een visueel dagschema en kondig wijzigingen vooraf aan "
        f"(versie {version}).",
        "measures_taken": "Time-timer, koptelefoon en extra instructie in kleine groep; "
        "onvoldoende in drukke lessen en op uitstappen.",
        "reasoning": "De redelijke aanpassingen volstaan niet om het gemeenschappelijk "
        "curriculum te volgen; een individueel aangepast curriculum is aangewezen.",
    }


def seed_reports(seeder: Seeder) -> None:
    headers = seeder.as_person(CLB_STAFF)
    for pupil in {p.insz: p for p, _ in DEMO_REPORTS}.values():
        existing = seeder.http.get(
            f"{seeder.urls['reports']}/v1/pupils/{pupil.insz}/reports", headers=headers
        )
        if existing.status_code == 200 and existing.json():
            continue
        versions = [fields for p, fields in DEMO_REPORTS if p is pupil]
        for version, fields in enumerate(versions, start=1):
            seeder.post(
                "reports",
                f"/v1/pupils/{pupil.insz}/reports",
                {**headers, "Idempotency-Key": f"demo-{pupil.insz}-{version}"},
                json={"clb_id": CLB_ID, **fields, "content": demo_content(pupil, version)},
            )


def seed_schools(seeder: Seeder) -> None:
    """The register of schools, as `iris schools import` loads it (it has no HTTP API)."""
    from iris.store import in_one_transaction
    from services.access.schools import School, import_schools

    schools = [School(*fields) for fields in REGISTER_OF_SCHOOLS]
    in_one_transaction("access", seeder.settings, lambda s: import_schools(s, schools))


def seed_access(seeder: Seeder) -> None:
    """The register of schools, grants at both schools and one support-network request
    waiting for a decision."""
    seed_schools(seeder)
    grants = [
        (RESPONSIBLE_A, SCHOOL_A, TEACHER, "teacher", [PUPILS[0].insz, PUPILS[2].insz]),
        (RESPONSIBLE_A, SCHOOL_A, CARE_COORDINATOR, "care_coordinator", None),
        (RESPONSIBLE_B, SCHOOL_B, TEACHER, "teacher", None),
    ]
    for responsible, school, person, role, pupils in grants:
        seeder.post(
            "access",
            f"/v1/schools/{school}/grants",
            seeder.as_person(responsible),
            json={
                "person_id": person.insz,
                "person_name": person.name,
                "role": role,
                "valid_from": SCHOOL_YEAR_START,
                "pupil_ids": pupils,
            },
        )
    pending = seeder.http.get(
        f"{seeder.urls['access']}/v1/schools/{SCHOOL_A}/access-requests",
        params={"status": "pending"},
        headers=seeder.as_person(RESPONSIBLE_A),
    )
    if pending.status_code == 200 and pending.json():
        return
    network = {
        "Authorization": "Bearer "
        + seeder.token(f"network:{SUPPORT_NETWORK}", support_network=SUPPORT_NETWORK)
    }
    seeder.post(
        "access",
        f"/v1/schools/{SCHOOL_A}/access-requests",
        network,
        json={
            "person_id": SUPPORT_WORKER.insz,
            "person_name": SUPPORT_WORKER.name,
            "pupil_ids": [PUPILS[0].insz, PUPILS[1].insz],
            "support_network": SUPPORT_NETWORK,
            "motivation": "Ondersteuning bij de overgang naar het eerste leerjaar.",
        },
    )


PARTS: dict[str, SeedPart] = {
    "enrolment": seed_enrolments,
    "reports": seed_reports,
    "access": seed_access,
}


def seed_demo_world(stack: Any) -> list[str]:
    """Seed every part whose service runs; returns the parts seeded."""
    seeder = Seeder(stack)
    seeded = []
    for service, part in PARTS.items():
        if service in seeder.urls:
            part(seeder)
            seeded.append(service)
    return seeded
