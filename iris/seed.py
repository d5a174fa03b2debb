"""A small demo world for `iris dev`, so a new user sees a working platform at once."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx

from iris.auth import dev_issuer_key, mint
from iris.insz import make_insz

DEV_CLB = "105262"
DEV_CLB_STAFF = make_insz("1979-06-21", 33)  # made-up people
DEV_PUPIL = make_insz("2015-03-14", 41)


def seed_demo_world(stack: Any) -> None:
    """Seed what the running services support; each service adds its part as it lands."""
    if "reports" in stack.urls:
        seed_reports(stack.urls["reports"], stack.settings(), stack.say)


def seed_reports(url: str, settings: Any, say: Any = print) -> None:
    """A CLB with one staff member, and a pupil whose report has two versions (v2 current)."""
    token = mint(
        dev_issuer_key(settings),
        settings.oidc_issuer,
        DEV_CLB_STAFF,
        settings.audience,
        name="Development CLB staff",
        amr=["itsme"],
        clb_staff_of=[DEV_CLB],
    )
    headers = {"Authorization": f"Bearer {token}"}
    existing = httpx.get(f"{url}/v1/pupils/{DEV_PUPIL}/reports", headers=headers, timeout=10)
    existing.raise_for_status()
    if not existing.json():
        this_year = date.today().year
        for version, (valid_from, advice) in enumerate(
            [
                (date(this_year - 1, 9, 1), "Werk met een visueel dagschema."),
                (date(this_year - 1, 11, 1), "Visueel dagschema en een vaste prikkelarme plek."),
            ],
            start=1,
        ):
            answer = httpx.post(
                f"{url}/v1/pupils/{DEV_PUPIL}/reports",
                json={
                    "kind": "IAC",
                    "clb_id": DEV_CLB,
                    "valid_from": valid_from.isoformat(),
                    "type": "9",
                    "level": "primary",
                    "content": {
                        "needs": "Nood aan voorspelbaarheid en duidelijke overgangen.",
                        "advice": advice,
                        "measures_taken": f"Versie {version}: time-timer en koptelefoon; "
                        "onvoldoende in drukke lessen.",
                        "reasoning": "Diagnose ASS; de redelijke aanpassingen volstaan niet.",
                    },
                },
                headers={**headers, "Idempotency-Key": f"seed-{DEV_PUPIL}-{version}"},
                timeout=10,
            )
            answer.raise_for_status()
    say(
        f"reports: CLB {DEV_CLB}, staff {DEV_CLB_STAFF} "
        f"(iris token --sub {DEV_CLB_STAFF} --clb-staff-of {DEV_CLB}); "
        f"pupil {DEV_PUPIL} has a current IAC report (version 2)"
    )
