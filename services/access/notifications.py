"""Notifications by e-mail: one digest a day at most per person, every kind of news in
it, saying only that there is something to see and where (a link), never a name, an INSZ
or any content.

Who is told what, from the access service's own data:
- a school's responsible, when access requests wait for their decision at the school
  (those a support network files on its own), and when support requests wait (the
  network accepted them; their support workers' access waits for the decision);
- a care coordinator (an active `care_coordinator` grant), when pupils of their grant have
  a report new to see at the school: a new current report, or a pupil with a report newly
  registered there (services/access/news.py);
- a support worker, from 30 days before their grant at a school ends.

Addresses come from the sign-in: when a person signs in to the access service's pages,
the `email` claim of their token is kept, with the schools where they are responsible
(`school_admin_of`). A person opts out (and in again) on the page `/me/notifications` or
with `PUT /v1/me/notifications`. `iris notify` sends the day's digests (run it daily, e.g.
a CronJob; `iris dev` runs it every minute); with two runs or replicas at once, a person's
digest is claimed in the database before it is sent, so it goes once. SMTP settings come
from the environment (`IRIS_SMTP_*`, `IRIS_MAIL_FROM`).
"""

from __future__ import annotations

import json
import logging
import smtplib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel
from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from iris import logs
from iris.api_models import Body
from iris.auth import Principal
from iris.settings import Settings
from iris.web import CurrentPrincipal, DbSession
from services.access import news
from services.access.mail_text import (
    ACCESS_REQUESTS_WAIT,
    GRANT_ENDS,
    REPORTS_NEW,
    SUPPORT_REQUESTS_WAIT,
    Line,
    message,
)
from services.access.models import (
    AccessRequestRow,
    GrantRow,
    MailRecipientRow,
    SchoolNewsRow,
    SupportRequestRow,
)

log = logging.getLogger(__name__)
router = APIRouter(tags=["notifications"])

GRANT_ENDING_DAYS = 30
NEWS_DAYS = 7  # a first digest tells of the news of the last week at most
BRUSSELS = ZoneInfo("Europe/Brussels")


def remember(session: Session, principal: Principal) -> None:
    """Keep the signed-in person's address (from the `email` claim) and responsibilities."""
    email = principal.claims.get("email")
    if not principal.is_person or not isinstance(email, str) or "@" not in email:
        return
    row = session.get(MailRecipientRow, principal.subject)
    schools = json.dumps(sorted(principal.school_admin_of)) if principal.school_admin_of else None
    if row is None:
        row = MailRecipientRow(person_id=principal.subject, opted_out=False)
        session.add(row)
    row.email, row.responsible_of, row.updated_at = email[:320], schools, datetime.now(UTC)
    session.flush()


def name_own_grants(session: Session, principal: Principal) -> None:
    """Name the signed-in person's grants that have no name yet, from the `name` claim."""
    name = " ".join(principal.name.split())[:200] if isinstance(principal.name, str) else ""
    if not principal.is_person or not name:
        return
    session.execute(
        update(GrantRow)
        .where(GrantRow.person_id == principal.subject, GrantRow.person_name.is_(None))
        .values(person_name=name)
    )


def remembering(sessions: sessionmaker[Session]) -> Callable[[Principal], None]:
    """The access pages' sign-in hook (`app.state.on_sign_in`)."""

    def hook(principal: Principal) -> None:
        try:
            with sessions.begin() as session:
                name_own_grants(session, principal)
                remember(session, principal)
        except Exception as exc:  # an address not kept must not fail the sign-in
            log.warning("e-mail address not kept", extra={"error": type(exc).__name__})

    return hook


@dataclass(frozen=True)
class Digest:
    to: str
    lines: tuple[Line, ...]
    told_at: datetime  # the schools' news up to this moment are in it


def _count(session: Session, query: Any) -> int:
    return int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)


def responsible_lines(session: Session, school: str, access_url: str) -> list[Line]:
    """What waits for a school's responsible: access requests a network filed on its own,
    and support requests whose support workers wait for the decision."""
    lines: list[Line] = []
    waiting = _count(
        session,
        select(AccessRequestRow.request_id).where(
            AccessRequestRow.school_id == school,
            AccessRequestRow.status == "pending",
            AccessRequestRow.support_request_id.is_(None),
        ),
    )
    if waiting:
        link = f"{access_url}/schools/{school}"
        lines.append((ACCESS_REQUESTS_WAIT, {"count": waiting, "school": school, "link": link}))
    accepted = _count(
        session,
        select(SupportRequestRow.support_request_id).where(
            SupportRequestRow.school_id == school, SupportRequestRow.status == "accepted"
        ),
    )
    if accepted:
        link = f"{access_url}/schools/{school}/support-requests"
        lines.append((SUPPORT_REQUESTS_WAIT, {"count": accepted, "school": school, "link": link}))
    return lines


def grant_ending_lines(session: Session, person: str, today: date, access_url: str) -> list[Line]:
    ending = session.scalars(
        select(GrantRow).where(
            GrantRow.person_id == person,
            GrantRow.role == "support_worker",
            GrantRow.status == "active",
            GrantRow.valid_until >= today,
            GrantRow.valid_until <= today + timedelta(days=GRANT_ENDING_DAYS),
        )
    )
    return [
        (
            GRANT_ENDS,
            {"school": g.school_id, "day": g.valid_until.isoformat(), "link": f"{access_url}/"},
        )
        for g in ending
    ]


def care_coordinator_lines(
    session: Session, row: MailRecipientRow, today: date, viewer_url: str
) -> list[Line]:
    """For a care coordinator: the pupils of their grant with a report new to see at the
    school since their last digest (at most NEWS_DAYS back)."""
    since = row.news_told_at or datetime.now(UTC) - timedelta(days=NEWS_DAYS)
    grants = session.scalars(
        select(GrantRow).where(
            GrantRow.person_id == row.person_id,
            GrantRow.role == "care_coordinator",
            GrantRow.status == "active",
            GrantRow.valid_from <= today,
            GrantRow.valid_until >= today,
        )
    )
    lines: list[Line] = []
    for grant in grants:
        query = select(SchoolNewsRow.pupil_id).where(
            SchoolNewsRow.school_id == grant.school_id, SchoolNewsRow.noticed_at > since
        )
        if grant.pupil_ids is not None:
            query = query.where(SchoolNewsRow.pupil_id.in_(json.loads(grant.pupil_ids)))
        new = _count(session, query)
        if new:
            link = f"{viewer_url}/schools/{grant.school_id}/pupils"
            lines.append((REPORTS_NEW, {"count": new, "school": grant.school_id, "link": link}))
    return lines


def digest_of(
    session: Session, row: MailRecipientRow, today: date, settings: Settings, told_at: datetime
) -> Digest:
    """What this person has to see today, of every kind in one digest: counts and links."""
    access_url, viewer_url = settings.access_url.rstrip("/"), settings.viewer_url.rstrip("/")
    lines: list[Line] = []
    for school in json.loads(row.responsible_of or "[]"):
        lines += responsible_lines(session, school, access_url)
    lines += grant_ending_lines(session, row.person_id, today, access_url)
    lines += care_coordinator_lines(session, row, today, viewer_url)
    return Digest(row.email, tuple(lines), told_at)


def claim(session: Session, row: MailRecipientRow, today: date, told_at: datetime) -> bool:
    """Take today's digest of this person for this run; False when taken already."""
    taken = session.execute(
        update(MailRecipientRow)
        .where(
            MailRecipientRow.person_id == row.person_id,
            or_(MailRecipientRow.last_digest_on.is_(None), MailRecipientRow.last_digest_on < today),
        )
        .values(last_digest_on=today, news_told_at=told_at)
    )
    return bool(taken.rowcount)  # type: ignore[attr-defined]


def give_back(sessions: sessionmaker[Session], row: MailRecipientRow) -> None:
    """A digest not sent: the next run tries again, with the same news."""
    with sessions.begin() as session:
        session.execute(
            update(MailRecipientRow)
            .where(MailRecipientRow.person_id == row.person_id)
            .values(last_digest_on=row.last_digest_on, news_told_at=row.news_told_at)
        )


def notice_all(sessions: sessionmaker[Session], today: date, attempts: int = 3) -> None:
    """Every school's news as of today (a future-dated report counts from its date). The
    access worker may record one of the same news at the same moment: then again."""
    for attempt in range(1, attempts + 1):
        try:
            with sessions.begin() as session:
                news.notice(session, today)
            return
        except IntegrityError:
            if attempt == attempts:
                raise


def send_digests(
    settings: Settings,
    sessions: sessionmaker[Session],
    today: date,
    send: Callable[[EmailMessage], None] | None = None,
) -> int:
    """Send today's digests (one per person, only to those with something to see)."""
    send = send or smtp_sender(settings)
    notice_all(sessions, today)
    told_at = datetime.now(UTC)
    with sessions() as session:
        people = session.scalars(
            select(MailRecipientRow).where(MailRecipientRow.opted_out.is_(False))
        ).all()
        digests = [digest_of(session, row, today, settings, told_at) for row in people]
        session.expunge_all()
    sent = 0
    for row, digest in zip(people, digests, strict=True):
        if not digest.lines:
            continue
        with sessions.begin() as session:
            if not claim(session, row, today, told_at):
                continue
        try:
            send(message(settings, digest.to, digest.lines))
            sent += 1
        except (OSError, smtplib.SMTPException) as exc:
            give_back(sessions, row)
            log.warning("digest not sent", extra={"error": type(exc).__name__})
    log.info("digests sent", extra={"count": sent})
    return sent


def smtp_sender(settings: Settings) -> Callable[[EmailMessage], None]:
    if not settings.smtp_host:
        raise RuntimeError("IRIS_SMTP_HOST must name the SMTP server to send e-mail")

    def send(mail: EmailMessage) -> None:
        with smtplib.SMTP(settings.smtp_host or "", settings.smtp_port, timeout=30) as smtp:
            if settings.smtp_starttls:
                smtp.starttls()
            if settings.smtp_username:
                smtp.login(settings.smtp_username, settings.smtp_password or "")
            smtp.send_message(mail)

    return send


# -- opting out ----------------------------------------------------------------------------


class NotificationsIn(Body):
    enabled: bool


class NotificationsOut(BaseModel):
    enabled: bool
    email: str | None


def _person(principal: Principal) -> str:
    if not principal.is_person:
        raise HTTPException(403, "only people receive e-mail")
    return principal.subject


def preference(session: Session, principal: Principal) -> NotificationsOut:
    """Whether this person gets the digest, and at which address."""
    row = session.get(MailRecipientRow, _person(principal))
    if row is None:
        return NotificationsOut(enabled=False, email=None)
    return NotificationsOut(enabled=not row.opted_out, email=row.email)


def choose(session: Session, principal: Principal, enabled: bool) -> NotificationsOut:
    """Opt this person out of the digest, or in again; 409 when their sign-in gives no
    address. The caller commits."""
    person = _person(principal)
    remember(session, principal)
    row = session.get(MailRecipientRow, person)
    if row is None:
        raise HTTPException(409, "email: your sign-in gives no e-mail address")
    row.opted_out = not enabled
    return NotificationsOut(enabled=enabled, email=row.email)


@router.get("/v1/me/notifications", response_model=NotificationsOut)
def read_notifications(principal: CurrentPrincipal, session: DbSession) -> NotificationsOut:
    """Whether IRIS e-mails you a daily digest, and at which address."""
    return preference(session, principal)


@router.put("/v1/me/notifications", response_model=NotificationsOut)
def choose_notifications(
    body: NotificationsIn, principal: CurrentPrincipal, session: DbSession
) -> NotificationsOut:
    """Opt out of the daily digest, or in again (the address is your sign-in's)."""
    chosen = choose(session, principal, body.enabled)
    session.commit()
    return chosen


def send_today(settings: Settings, today: date | None = None) -> int:
    """Today's digests from the access database; how many went out."""
    from iris.db import make_engine, make_sessionmaker

    engine = make_engine(settings.database_url_for("access"))
    try:
        day = today or datetime.now(BRUSSELS).date()
        return send_digests(settings, make_sessionmaker(engine), day)
    finally:
        engine.dispose()


def command(settings: Settings, today: date | None = None) -> int:
    """`iris notify`: today's digests, and how many, told to the operator."""
    print(f"IRIS: {send_today(settings, today)} digest(s) sent", flush=True)
    return 0


def every(settings: Settings, seconds: float) -> int:
    """`iris notify --every SECONDS` (what `iris dev` runs): the digests again and again, a
    person still getting one a day at most; each run and each failure is a JSON log line."""
    logs.configure("notify", settings.log_level)
    while True:
        try:
            send_today(settings)  # which logs what it sent
        except Exception as exc:  # SMTP or database away: the next run tries again
            log.warning("digests not sent", extra={"error": repr(exc)})
        time.sleep(seconds)


def install_notifications(app: Any, sessions: sessionmaker[Session]) -> None:
    app.state.on_sign_in = remembering(sessions)
    app.include_router(router)
