"""The school's audit trail: every change, newest first, in the visitor's language."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from iris.ui import PagePrincipal
from iris.ui.i18n import N_
from iris.ui.labels import ROLE_LABELS
from services.access import domain, service
from services.access.pages.grant_people import Names, names_at
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
def audit_page(
    page: PageDep, school_id: str, responsible: SchoolResponsible, principal: PagePrincipal
) -> HTMLResponse:
    """Every change at the school, newest first: who acted and to whom by name."""
    _ = page.gettext
    with page.deps.sessions() as session:
        names = names_at(session, school_id)
    if isinstance(principal.name, str) and principal.name:
        names.people.setdefault(responsible, principal.name)
    with page.deps.reading() as repo:
        entries = [
            {
                "at": r.at,
                "actor": actor_shown(r.actor, names, _),
                "action": _(ACTION_LABELS.get(r.action, r.action)),
                "person_id": names.person(r.person_id) if r.person_id else "",
                "change": describe_change(r.before, r.after, _, names),
            }
            for r in service.audit_at(repo, school_id, 500)
        ]
    return page.render("access_audit.html", school_id, "audit", {"entries": entries})


def actor_shown(actor: str, names: Names, _: Callable[[str], str]) -> str:
    """Who acted: a person by name (their INSZ masked where no name is known), IRIS
    itself in words, a support network by its name."""
    if actor.isdigit():
        return names.person(actor)
    if actor.startswith("system:"):
        return _("IRIS (automatically)")
    return actor.removeprefix("network:")


def describe_change(
    before: str | None,
    after: str | None,
    _: Callable[[str], str],
    names: Names | None = None,
) -> str:
    """What changed, as `field: old → new` for the fields that changed, translated; the
    pupils by the names the school registered."""
    old = json.loads(before) if before else {}
    new = json.loads(after) if after else {}
    parts = []
    for key in sorted(set(old) | set(new)):
        if key == "version" or old.get(key) == new.get(key):
            continue
        label = _(CHANGE_FIELDS[key]) if key in CHANGE_FIELDS else key
        now = _shown(key, new.get(key), _, names)
        if key not in old:
            parts.append(f"{label}: {now}")
        else:
            parts.append(f"{label}: {_shown(key, old[key], _, names)} → {now}")
    return "; ".join(parts)


def _shown(key: str, value: Any, _: Callable[[str], str], names: Names | None) -> str:
    if value is None:
        return _("Whole school") if key == "pupil_ids" else "-"
    if key == "valid_until" and value == domain.OPEN_ENDED.isoformat():
        return _("no end date")
    labels = {**ROLE_LABELS, **STATUS_LABELS, **REQUEST_STATUS_LABELS}
    if key in ("role", "status") and value in labels:
        return _(labels[value])
    if isinstance(value, list) and names is not None and key == "pupil_ids":
        return ", ".join(names.pupil(str(v)) for v in value)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)
