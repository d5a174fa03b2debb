"""Which schools can see a pupil's current report, and who at each, as the viewer knows
it: shown to the CLB on the pupil's page. Enrolment is the school's word, so a school
that registered a pupil it does not teach shows up here too.

The viewer answers `GET /v1/pupils/{pupil_id}/visibility` for staff of the CLB that
issued the current report; the page asks with the signed-in person's own token.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx
from fastapi import Request

from iris.insz import mask_insz
from iris.settings import Settings
from iris.ui import session_access_token
from iris.ui.i18n import gettext_for
from iris.ui.labels import ROLE_LABELS

log = logging.getLogger(__name__)


def callers_token(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return session_access_token(request)


def schools_that_see(settings: Settings, request: Request, pupil_id: str) -> list[Any] | None:
    """Rows for the page, or None when the viewer cannot tell now (down, not ready)."""
    token = callers_token(request)
    if token is None:
        return None
    try:
        answer = httpx.get(
            f"{settings.viewer_url.rstrip('/')}/v1/pupils/{pupil_id}/visibility",
            headers={"Authorization": f"Bearer {token}"},
            timeout=3.0,
        )
    except httpx.HTTPError as exc:
        log.warning("viewer unavailable", extra={"error": type(exc).__name__})
        return None
    if answer.status_code == 403:
        return []  # the caller's CLB issued the current report: no school sees it
    if answer.status_code != 200:
        log.warning("viewer refused", extra={"status": answer.status_code})
        return None
    _ = gettext_for(request).gettext
    return [
        {
            "school_id": sight["school_id"],
            "since": sight["enrolled_since"],
            "people": [
                {
                    "person": mask_insz(str(p["person_id"])),
                    "role": _(ROLE_LABELS.get(p["role"], p["role"])),
                    "since": p["valid_from"],
                    "until": p["valid_until"],
                }
                for p in sight["people"]
            ],
        }
        for sight in answer.json()
    ]
