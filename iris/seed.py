"""A small demo world for `iris dev`, so a new user sees a working platform at once."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx

from iris.auth import dev_issuer_key, mint
from iris.insz import make_insz

DEV_SCHOOL = "123456"
DEV_RESPONSIBLE = make_insz("1980-01-01", 191)  # made-up people
DEV_TEACHER = make_insz("1985-03-15", 12)


def seed_demo_world(stack: Any) -> None:
    """Seed what the running services support; each service adds its part as it lands."""
    if "access" in stack.urls:
        seed_access(stack.urls["access"], stack.settings(), stack.say)


def school_year_start(today: date) -> date:
    return date(today.year if today.month >= 9 else today.year - 1, 9, 1)


def seed_access(url: str, settings: Any, say: Any = print) -> None:
    """A development school, its responsible, and one teacher granted the whole school."""
    token = mint(
        dev_issuer_key(settings),
        settings.oidc_issuer,
        DEV_RESPONSIBLE,
        settings.audience,
        name="Development responsible",
        amr=["itsme"],
        school_admin_of=[DEV_SCHOOL],
    )
    answer = httpx.post(
        f"{url}/v1/schools/{DEV_SCHOOL}/grants",
        json={
            "person_id": DEV_TEACHER,
            "role": "teacher",
            "valid_from": school_year_start(date.today()).isoformat(),
        },
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    answer.raise_for_status()
    say(
        f"access: development school {DEV_SCHOOL}, responsible {DEV_RESPONSIBLE} "
        f"(iris token --sub {DEV_RESPONSIBLE} --school-admin-of {DEV_SCHOOL}), "
        f"teacher {DEV_TEACHER} granted"
    )
