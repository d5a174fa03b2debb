"""What the CLB staff's pages show and accept: the issue form checked by the register's
own rules (`domain.check_placement`, the API's `Section`), and the version history's rows
(metadata only) in the visitor's language."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import HTTPException, Request
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from iris.auth import Principal
from iris.contracts import IsoDate
from iris.insz import insz_problem, mask_insz, show_insz
from iris.ui.dates import belgian_date, brussels_moment, typed_date
from iris.ui.forms import errors_by_field
from iris.ui.i18n import N_, gettext_for, language_of
from iris.ui.labels import LEVEL_LABELS
from services.reports import domain
from services.reports.schemas import Section

KIND_LABELS = {
    "IAC": N_("IAC: individually adapted curriculum"),
    "OV4": N_("OV4: common curriculum in opleidingsvorm 4"),
    "GC": N_("GC: common curriculum with learning support"),
    "V": N_("V: report for special education (before September 2023)"),
    "GV": N_("GV: reasoned report (before September 2023)"),
}
STATUS_LABELS = {
    "current": N_("Current"),
    "scheduled": N_("Scheduled"),
    "superseded": N_("Superseded"),
    "withdrawn": N_("Withdrawn"),
}
SECTION_LABELS = {
    "needs": N_("The pupil's needs"),
    "advice": N_("Advice to the school"),
    "measures_taken": N_("Measures already taken and why they fall short"),
    "reasoning": N_("Reasoning"),
}
PLACEMENT_FIELDS = ("kind", "type", "opleidingsvorm", "level")
# The order of the issue form's fields, which the error summary follows.
FORM_ORDER = (
    "confirm_pupil",
    "clb_id",
    "kind",
    "level",
    "type",
    "opleidingsvorm",
    "valid_from",
    *SECTION_LABELS,
)


# -- the issue form -------------------------------------------------------------------------


def _blank_is_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


class PlacementForm(BaseModel):
    """What the report says about where the pupil belongs, as posted."""

    model_config = ConfigDict(extra="ignore")

    kind: domain.Kind
    level: domain.Level
    type: Annotated[domain.BoType | None, BeforeValidator(_blank_is_none)] = None
    opleidingsvorm: Annotated[
        Annotated[int, Field(ge=1, le=4)] | None, BeforeValidator(_blank_is_none)
    ] = None


class IssueForm(PlacementForm):
    clb_id: str
    valid_from: Annotated[IsoDate, BeforeValidator(typed_date)]
    needs: Section
    advice: Section
    measures_taken: Section
    reasoning: Section


def rule_message(exc: domain.ReportRuleBroken, request: Request) -> str:
    """A broken rule in the visitor's language (the params are codes, never submitted text)."""
    template = gettext_for(request).gettext(exc.template)
    return template % exc.params if exc.params else template


def check_issue_form(
    posted: dict[str, str], principal: Principal, request: Request
) -> tuple[IssueForm | None, domain.Placement | None, dict[str, str]]:
    """The form parsed and the placement checked, or the errors by field (all at once)."""
    _ = gettext_for(request).gettext
    errors: dict[str, str] = {}
    form: IssueForm | None = None
    try:
        form = IssueForm.model_validate(posted)
    except ValidationError as exc:
        errors.update(errors_by_field(exc, request))
    placement: domain.Placement | None = None
    if not errors.keys() & set(PLACEMENT_FIELDS):
        try:
            fields = PlacementForm.model_validate(posted)
            placement = domain.check_placement(
                fields.kind, fields.type, fields.opleidingsvorm, fields.level
            )
        except domain.ReportRuleBroken as exc:
            errors[exc.field] = rule_message(exc, request)
    if posted.get("clb_id", "") not in principal.clb_staff_of:
        errors["clb_id"] = _("Choose the CLB you issue this report for.")
    ordered = {name: errors[name] for name in FORM_ORDER if name in errors}
    ordered.update({k: v for k, v in errors.items() if k not in ordered})
    return (form, placement, {}) if not ordered and form and placement else (None, None, ordered)


# -- what the pages show --------------------------------------------------------------------


def require_clb_staff(principal: Principal) -> None:
    if not principal.is_person or not principal.clb_staff_of:
        raise HTTPException(403, "only CLB staff may use these pages")


class Shown:
    """Formats codes, dates and moments for one visitor's language."""

    def __init__(self, request: Request) -> None:
        self.gettext = gettext_for(request).gettext
        self.language = language_of(request)

    def kind(self, kind: str) -> str:
        return self.gettext(KIND_LABELS[kind]) if kind in KIND_LABELS else kind

    def level(self, level: str | None) -> str:
        return self.gettext(LEVEL_LABELS[level]) if level in LEVEL_LABELS else ""

    def status(self, status: str) -> str:
        return self.gettext(STATUS_LABELS[status])

    def day(self, day: date) -> str:
        return belgian_date(day, self.language)

    def moment(self, moment: datetime) -> str:
        return brussels_moment(moment, self.language)

    def placement(self, version: domain.ReportVersion | domain.Placement) -> str:
        parts = [self.level(version.level)] if version.level else []
        if version.type:
            parts.append(self.gettext("type %(type)s") % {"type": version.type})
        if version.opleidingsvorm:
            parts.append(
                self.gettext("opleidingsvorm %(number)s") % {"number": version.opleidingsvorm}
            )
        return ", ".join(parts)


def history_rows(
    versions: list[domain.ReportVersion], today: date, principal: Principal, request: Request
) -> list[dict[str, Any]]:
    """The history's rows, newest first: metadata only."""
    shown = Shown(request)
    rows = []
    for version in reversed(versions):
        status = domain.status_of(version, versions, today)
        issued_by = version.issued_by_name or (
            mask_insz(version.issued_by) if version.issued_by else ""
        )
        rows.append(
            {
                "report_id": str(version.report_id),
                "version": version.version,
                "kind": version.kind,
                "kind_label": shown.kind(version.kind),
                "placement": shown.placement(version),
                "valid_from": shown.day(version.valid_from),
                "valid_from_iso": version.valid_from.isoformat(),
                "status": status,
                "status_label": shown.status(status),
                "clb_id": version.clb_id,
                "issued_by": issued_by,
                "issued_at": shown.moment(version.issued_at),
                "issued_at_iso": version.issued_at.isoformat(),
                "may_withdraw": domain.may_withdraw(version, principal.clb_staff_of)
                and status in ("current", "scheduled"),
                "withdrawal_reason": version.withdrawal_reason or "",
            }
        )
    return rows


def kind_options(request: Request) -> list[tuple[str, str]]:
    _ = gettext_for(request).gettext
    return [("", _("Choose a kind"))] + [(k, _(label)) for k, label in KIND_LABELS.items()]


def form_values(request: Request, principal: Principal, insz: str) -> dict[str, Any]:
    _ = gettext_for(request).gettext
    clbs = sorted(principal.clb_staff_of)
    return {
        "insz": insz,
        "insz_shown": show_insz(insz),
        "clbs": clbs,
        "clb_options": [("", _("Choose a CLB"))] + [(c, c) for c in clbs],
        "kind_options": kind_options(request),
        "level_options": [("", _("Choose a level"))]
        + [(k, _(label)) for k, label in LEVEL_LABELS.items()],
        "type_options": [("", _("No type"))]
        + [(t, _("Type %(type)s") % {"type": t}) for t in domain.BO_TYPES],
        "opleidingsvorm_options": [("", _("No opleidingsvorm"))]
        + [
            (str(n), _("Opleidingsvorm %(number)s") % {"number": n})
            for n in domain.OPLEIDINGSVORMEN
        ],
        "sections": [(name, _(label)) for name, label in SECTION_LABELS.items()],
        "section_max": domain.SECTION_MAX_CHARS,
    }


def pupil_or_404(pupil_id: str) -> str:
    if insz_problem(pupil_id) is not None:
        raise HTTPException(404, "no such pupil")
    return pupil_id
