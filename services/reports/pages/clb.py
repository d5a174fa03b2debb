"""The CLB staff's pages: find a pupil by INSZ, issue a report, read the version
history (metadata only) and withdraw a version after confirming.

Report content appears only on the issue form while it is typed (and when the
form comes back with errors); it is never logged, never put in a URL, and the
history shows metadata alone. Every rule is checked here, on the server, with
the register's own rules (`domain.check_placement`, `domain.section_problem`).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Protocol, TypeVar
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from iris.auth import Principal
from iris.contracts import IsoDate, utcnow
from iris.insz import insz_problem, mask_insz
from iris.settings import Settings
from iris.ui import CsrfProtected, OptionalPrincipal, PagePrincipal, install_pages
from iris.ui.forms import errors_by_field
from iris.ui.home import roles_of
from iris.ui.i18n import N_, gettext_for, language_of
from iris.ui.labels import LEVEL_LABELS
from services.reports import domain, service
from services.reports.visibility import schools_that_see

HERE = Path(__file__).parent
STATIC_PATH = "/static/reports"
BRUSSELS = ZoneInfo("Europe/Brussels")
LOCALES = {"nl": "nl_BE", "en": "en_GB"}

T = TypeVar("T")


class Writer(Protocol):
    """Runs a change in a transaction, then wakes the outbox relay."""

    def __call__(self, change: Callable[[Session], T]) -> T: ...


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
FORM_ORDER = ("clb_id", "kind", "level", "type", "opleidingsvorm", "valid_from", *SECTION_LABELS)


# -- the issue form -------------------------------------------------------------------------


def _blank_is_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


def _section(text: str) -> str:
    problem = domain.section_problem(text)
    if problem:
        raise ValueError(problem)
    return text


FormSection = Annotated[str, AfterValidator(_section)]


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
    valid_from: IsoDate
    needs: FormSection
    advice: FormSection
    measures_taken: FormSection
    reasoning: FormSection


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


def normalise_insz(typed: str) -> str:
    """The digits of an INSZ as people write it: 16.03.14-121.50, 160314 121 50, ..."""
    return re.sub(r"[\s.\-/]", "", typed)


def show_insz(insz: str) -> str:
    """An INSZ the way it is printed on an eID card: 16.03.14-121.50."""
    return f"{insz[:2]}.{insz[2:4]}.{insz[4:6]}-{insz[6:9]}.{insz[9:]}"


def require_clb_staff(principal: Principal) -> None:
    if not principal.is_person or not principal.clb_staff_of:
        raise HTTPException(403, "only CLB staff may use these pages")


class Shown:
    """Formats codes, dates and moments for one visitor's language."""

    def __init__(self, request: Request) -> None:
        self.gettext = gettext_for(request).gettext
        self.locale = LOCALES[language_of(request)]

    def kind(self, kind: str) -> str:
        return self.gettext(KIND_LABELS[kind]) if kind in KIND_LABELS else kind

    def level(self, level: str | None) -> str:
        return self.gettext(LEVEL_LABELS[level]) if level in LEVEL_LABELS else ""

    def status(self, status: str) -> str:
        return self.gettext(STATUS_LABELS[status])

    def day(self, day: date) -> str:
        return format_date(day, format="long", locale=self.locale)

    def moment(self, moment: datetime) -> str:
        return format_datetime(moment, format="medium", tzinfo=BRUSSELS, locale=self.locale)

    def placement(self, version: domain.ReportVersion) -> str:
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
                "may_withdraw": not version.withdrawn
                and domain.may_withdraw(version, principal.clb_staff_of),
            }
        )
    return rows


# -- the routes -----------------------------------------------------------------------------


def add_pages(
    app: FastAPI,
    settings: Settings,
    service_name: str,
    sessions: Callable[[], Session],
    write: Writer,
    today: Callable[[], date],
    on_issued: Callable[[domain.ReportVersion], None],
    on_withdrawn: Callable[[domain.ReportVersion], None],
) -> None:
    """Mount the CLB staff's pages on the reports service's app."""
    pages = install_pages(
        app, settings, service_name, template_dirs=[HERE / "templates"], home=False
    )
    app.mount(STATIC_PATH, StaticFiles(directory=str(HERE / "static")), name="reports-static")
    app.state.pages = pages
    app.state.access_url = settings.access_url.rstrip("/")

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

    @app.get("/", response_class=HTMLResponse, include_in_schema=False, name="home")
    def home(request: Request, principal: OptionalPrincipal) -> Response:
        """CLB staff go straight to finding a pupil; anyone else sees who they are."""
        if principal is not None and principal.clb_staff_of:
            return RedirectResponse("/clb/pupils", status_code=303)
        roles = roles_of(principal, request) if principal else []
        return pages.render(request, "home.html", {"roles": roles})

    @app.get("/clb/pupils", response_class=HTMLResponse, include_in_schema=False)
    def find_pupil(request: Request, principal: PagePrincipal, insz: str | None = None) -> Response:
        """Find a pupil by INSZ (national register number)."""
        require_clb_staff(principal)
        _ = gettext_for(request).gettext
        errors: dict[str, str] = {}
        if insz is not None:
            digits = normalise_insz(insz)
            if not digits:
                errors["insz"] = _("Enter the pupil's national register number.")
            elif not re.fullmatch(r"\d{11}", digits):
                errors["insz"] = _("A national register number has 11 digits.")
            elif insz_problem(digits) is not None:
                errors["insz"] = _(
                    "This is not a valid national register number: check the digits."
                )
            else:
                return RedirectResponse(f"/clb/pupils/{digits}", status_code=303)
        return pages.render(
            request,
            "clb_find.html",
            {"errors": errors, "values": {"insz": insz or "", "name": ""}, "matches": None},
            status_code=422 if errors else 200,
        )

    @app.get("/clb/pupils/{pupil_id}", response_class=HTMLResponse, include_in_schema=False)
    def pupil_history(
        request: Request,
        pupil_id: str,
        principal: PagePrincipal,
        issued: int | None = None,
        withdrawn: int | None = None,
    ) -> Response:
        """The pupil's report versions with their status: metadata only."""
        require_clb_staff(principal)
        pupil_or_404(pupil_id)
        with sessions() as session:
            versions = service.versions_of(session, pupil_id)
        rows = history_rows(versions, today(), principal, request)
        # which schools see it: for the CLB whose report is current
        current_clb = next((r["clb_id"] for r in rows if r["status"] == "current"), None)
        ours = current_clb in principal.clb_staff_of
        return pages.render(
            request,
            "clb_history.html",
            {
                "insz": pupil_id,
                "insz_shown": show_insz(pupil_id),
                "rows": rows,
                "show_sights": ours,
                "sights": schools_that_see(settings, request, pupil_id) if ours else None,
                "issued": issued,
                "withdrawn": withdrawn,
            },
        )

    @app.get(
        "/clb/pupils/{pupil_id}/reports/new", response_class=HTMLResponse, include_in_schema=False
    )
    def issue_form(request: Request, pupil_id: str, principal: PagePrincipal) -> Response:
        """An empty issue form (starting today, the CLB chosen when there is only one)."""
        require_clb_staff(principal)
        pupil_or_404(pupil_id)
        values = form_values(request, principal, pupil_id)
        clbs = values["clbs"]
        posted = {"clb_id": clbs[0] if len(clbs) == 1 else "", "valid_from": today().isoformat()}
        return pages.render(request, "clb_issue.html", {**values, "values": posted, "errors": {}})

    @app.post(
        "/clb/pupils/{pupil_id}/reports",
        response_class=HTMLResponse,
        include_in_schema=False,
        dependencies=[CsrfProtected],
    )
    async def issue_posted(request: Request, pupil_id: str, principal: PagePrincipal) -> Response:
        """Check the form by the register's rules; issue, or show each error by its field."""
        raw = await request.form()
        posted = {k: v for k, v in raw.items() if isinstance(v, str) and k != "csrf_token"}
        return await run_in_threadpool(issue_checked, request, principal, pupil_id, posted)

    def issue_checked(
        request: Request, principal: Principal, pupil_id: str, posted: dict[str, str]
    ) -> Response:
        require_clb_staff(principal)
        pupil_or_404(pupil_id)
        form, placement, errors = check_issue_form(posted, principal, request)
        if errors or form is None or placement is None:
            # The content goes back to the person typing it, and nowhere else.
            return pages.render(
                request,
                "clb_issue.html",
                {**form_values(request, principal, pupil_id), "values": posted, "errors": errors},
                status_code=422,
            )
        content = service.Content(form.needs, form.advice, form.measures_taken, form.reasoning)

        def change(session: Session) -> domain.ReportVersion:
            return service.issue(
                session,
                pupil_id,
                form.clb_id,
                placement,
                form.valid_from,
                content,
                principal.subject,
                utcnow(),
                issued_by_name=principal.name,
            ).report

        report = write(change)
        on_issued(report)
        return RedirectResponse(f"/clb/pupils/{pupil_id}?issued={report.version}", status_code=303)

    def withdrawable(report_id: str, principal: Principal) -> domain.ReportVersion:
        try:
            key = uuid.UUID(report_id)
        except ValueError:
            raise HTTPException(404, "no such report") from None
        with sessions() as session:
            found = service.find(session, key)
        if found is None:
            raise HTTPException(404, "no such report")
        if not domain.may_withdraw(found, principal.clb_staff_of):
            raise HTTPException(403, "only staff of the issuing CLB may withdraw a report")
        return found

    @app.get(
        "/clb/reports/{report_id}/withdraw", response_class=HTMLResponse, include_in_schema=False
    )
    def withdraw_confirm(request: Request, report_id: str, principal: PagePrincipal) -> Response:
        """Ask first (a page, no JavaScript): withdrawing cannot be undone."""
        require_clb_staff(principal)
        found = withdrawable(report_id, principal)
        history = f"/clb/pupils/{found.pupil_id}"
        if found.withdrawn:
            return RedirectResponse(history, status_code=303)
        _ = gettext_for(request).gettext
        shown = Shown(request)
        return pages.confirm(
            request,
            title=_("Withdraw version %(version)s?") % {"version": found.version},
            question=_(
                "Version %(version)s (%(kind)s, from %(day)s) of the report of pupil "
                "%(pupil)s will be withdrawn. A withdrawn version is never shown again; "
                "if it is the current report, the pupil has no current report until a new "
                "one is issued."
            )
            % {
                "version": found.version,
                "kind": found.kind,
                "day": shown.day(found.valid_from),
                "pupil": show_insz(found.pupil_id),
            },
            action=f"/clb/reports/{found.report_id}/withdraw",
            confirm_label=_("Withdraw version %(version)s") % {"version": found.version},
            cancel_url=history,
        )

    @app.post(
        "/clb/reports/{report_id}/withdraw",
        include_in_schema=False,
        dependencies=[CsrfProtected],
    )
    def withdraw_posted(request: Request, report_id: str, principal: PagePrincipal) -> Response:
        """Withdraw (opheffing); withdrawing again changes nothing."""
        require_clb_staff(principal)
        found = withdrawable(report_id, principal)

        def change(session: Session) -> service.Withdrawal:
            return service.withdraw(
                session,
                found.report_id,
                principal.clb_staff_of,
                principal.subject,
                utcnow(),
                today(),
            )

        done = write(change)
        if done.changed:
            on_withdrawn(done.report)
        return RedirectResponse(
            f"/clb/pupils/{found.pupil_id}?withdrawn={found.version}", status_code=303
        )
