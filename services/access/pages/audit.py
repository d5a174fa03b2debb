"""The school's audit trail: every change, newest first, in the visitor's language."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from iris.insz import mask_insz
from iris.ui.i18n import N_
from iris.ui.labels import ROLE_LABELS
from services.access import domain, service
from services.access.pages.shared import (
    REQUEST_STATUS_LABELS,
    STATUS_LABELS,
    PageDep,
    SchoolResponsible,
)

router = APIRouter()

ACTION_LABELS = {
    "grant.created": N_("Access granted"),
    "grant.updated": N_("Access changed"),
    "grant.revoked": N_("Access revoked"),
    "grant.expired": N_("Access expired"),
    "request.filed": N_("Access requested"),
    "request.approved": N_("Request approved"),
    "request.rejected": N_("Request rejected"),
    "client.registered": N_("School software registered"),
    "client.revoked": N_("School software revoked"),
    "support.sent": N_("Support request sent"),
    "support.accepted": N_("Support request accepted by the network"),
    "support.declined": N_("Support request declined by the network"),
    "support.granted": N_("Support request: access granted"),
    "support.refused": N_("Support request: access refused"),
}
CHANGE_FIELDS = {
    "role": N_("Role"),
    "pupil_ids": N_("Pupils"),
    "valid_from": N_("From"),
    "valid_until": N_("Until"),
    "status": N_("Status"),
    "name": N_("Name"),
    "grant_id": N_("Access"),
}


@router.get("/schools/{school_id}/audit", response_class=HTMLResponse)
def audit_page(page: PageDep, school_id: str, responsible: SchoolResponsible) -> HTMLResponse:
    """Every change at the school, newest first."""
    _ = page.gettext
    with page.deps.reading() as repo:
        entries = [
            {
                "at": r.at,
                "actor": r.actor if not r.actor.isdigit() else mask_insz(r.actor),
                "action": _(ACTION_LABELS.get(r.action, r.action)),
                "person_id": r.person_id or "",
                "change": describe_change(r.before, r.after, _),
            }
            for r in service.audit_at(repo, school_id, 500)
        ]
    return page.render("access_audit.html", school_id, "audit", {"entries": entries})


def describe_change(before: str | None, after: str | None, _: Callable[[str], str]) -> str:
    """What changed, as `field: old → new` for the fields that changed, translated."""
    old = json.loads(before) if before else {}
    new = json.loads(after) if after else {}
    parts = []
    for key in sorted(set(old) | set(new)):
        if key == "version" or old.get(key) == new.get(key):
            continue
        label = _(CHANGE_FIELDS[key]) if key in CHANGE_FIELDS else key
        now = _shown(key, new.get(key), _)
        if key not in old:
            parts.append(f"{label}: {now}")
        else:
            parts.append(f"{label}: {_shown(key, old[key], _)} → {now}")
    return "; ".join(parts)


def _shown(key: str, value: Any, _: Callable[[str], str]) -> str:
    if value is None:
        return _("Whole school") if key == "pupil_ids" else "-"
    if key == "valid_until" and value == domain.OPEN_ENDED.isoformat():
        return _("no end date")
    labels = {**ROLE_LABELS, **STATUS_LABELS, **REQUEST_STATUS_LABELS}
    if key in ("role", "status") and value in labels:
        return _(labels[value])
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)
