"""The issue form's review step: what will be issued, when it takes effect and what the
schools see until then, before anything is issued."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import Request

from iris.ui.i18n import gettext_for
from services.reports import domain
from services.reports.pages.forms import SECTION_LABELS, IssueForm, Shown

# The issue form's button asks for this review; the review's own button issues.
STEP_FIELD = "step"
ISSUE_STEP = "issue"
CHANGE_STEP = "change"


def effect_of(
    valid_from: date, versions: list[domain.ReportVersion], today: date, request: Request
) -> dict[str, str]:
    """When the new version takes effect and what the schools see until then."""
    _ = gettext_for(request).gettext
    shown = Shown(request)
    now = domain.current(versions, today)
    day = shown.day(valid_from)
    seen = (
        _("version %(version)s (%(kind)s)") % {"version": now.version, "kind": shown.kind(now.kind)}
        if now is not None
        else ""
    )
    if valid_from <= today:
        when = _("It takes effect as soon as you issue it (start date %(day)s).") % {"day": day}
        until = (
            _("From then on schools with access see this version instead of %(seen)s.")
            % {"seen": seen}
            if seen
            else _("From then on schools with access see this version.")
        )
    else:
        when = _("It takes effect on %(day)s.") % {"day": day}
        until = (
            _("Until then schools with access keep seeing %(seen)s.") % {"seen": seen}
            if seen
            else _("Until then schools see no report for this pupil.")
        )
    return {"when": when, "until": until}


def review_values(
    form: IssueForm,
    placement: domain.Placement,
    versions: list[domain.ReportVersion],
    today: date,
    request: Request,
) -> dict[str, Any]:
    """What the review page shows of the checked form."""
    _ = gettext_for(request).gettext
    shown = Shown(request)
    return {
        "version": len(versions) + 1,
        "kind_label": shown.kind(placement.kind),
        "placement": shown.placement(placement),
        "valid_from": shown.day(form.valid_from),
        "clb_id": form.clb_id,
        "effect": effect_of(form.valid_from, versions, today, request),
        "review_sections": [
            (_(label), getattr(form, name)) for name, label in SECTION_LABELS.items()
        ],
    }
