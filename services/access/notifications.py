"""Notifications by e-mail: one digest a day at most per person, saying only that there is
something to see and where (a link), never a name, an INSZ or any content.

Who is told what, from the access service's own data:
- a school's responsible, when access requests wait for their decision at the school
  (those a support network files, on its own or by accepting a support request);
- a support worker, from 30 days before their grant at a school ends.

Addresses come from the sign-in: when a person signs in to the access service's pages,
the `email` claim of their token is kept, with the schools where they are responsible
(`school_admin_of`). A person opts out (and in again) with `PUT /v1/me/notifications`.
`iris notify` sends the day's digests (run it daily, e.g. a CronJob); with two runs or
replicas at once, a person's digest is claimed in the database before it is sent, so it
goes once. SMTP settings come from the environment (`IRIS_SMTP_*`, `IRIS_MAIL_FROM`).
"""

from __future__ import annotations

import json
import logging
import smtplib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from iris.api_models import Body
from iris.auth import Principal
from iris.settings import Settings
from iris.web import CurrentPrincipal, DbSession
from services.access.models import AccessRequestRow, GrantRow, MailRecipientRow

log = logging.getLogger(__name__)
router = APIRouter(tags=["notifications"])

GRANT_ENDING_DAYS = 30
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
    lines: tuple[str, ...]


def digest_of(session: Session, row: MailRecipientRow, today: date, access_url: str) -> Digest:
    """What this person has to see today: counts and links only."""
    lines: list[str] = []
    for school in json.loads(row.responsible_of or "[]"):
        waiting = session.scalar(
            select(func.count())
            .select_from(AccessRequestRow)
            .where(AccessRequestRow.school_id == school, AccessRequestRow.status == "pending")
        )
        if waiting:
            lines.append(
                f"{waiting} access request(s) wait for your decision at school {school}: "
                f"{access_url}/schools/{school}"
            )
    ending = session.scalars(
        select(GrantRow).where(
            GrantRow.person_id == row.person_id,
            GrantRow.role == "support_worker",
            GrantRow.status == "active",
            GrantRow.valid_until >= today,
            GrantRow.valid_until <= today + timedelta(days=GRANT_ENDING_DAYS),
        )
    )
    for grant in ending:
        lines.append(
            f"Your access at school {grant.school_id} ends on {grant.valid_until.isoformat()}; "
            f"ask your support network to request it again if you still need it: {access_url}/"
        )
    return Digest(row.email, tuple(lines))


def message(settings: Settings, digest: Digest) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = settings.mail_from
    mail["To"] = digest.to
    mail["Subject"] = "IRIS: there is something for you to see"
    body = ["Hello,", "", "In IRIS:", ""] + [f"- {line}" for line in digest.lines]
    body += ["", "Sign in to IRIS to see more. You can stop these e-mails in IRIS."]
    mail.set_content("\n".join(body))
    return mail


def claim(session: Session, person_id: str, today: date) -> bool:
    """Take today's digest of this person for this run; False when taken already."""
    taken = session.execute(
        update(MailRecipientRow)
        .where(
            MailRecipientRow.person_id == person_id,
            or_(MailRecipientRow.last_digest_on.is_(None), MailRecipientRow.last_digest_on < today),
        )
        .values(last_digest_on=today)
    )
    return bool(taken.rowcount)  # type: ignore[attr-defined]


def send_digests(
    settings: Settings,
    sessions: sessionmaker[Session],
    today: date,
    send: Callable[[EmailMessage], None] | None = None,
) -> int:
    """Send today's digests (one per person, only to those with something to see)."""
    send = send or smtp_sender(settings)
    access_url = settings.access_url.rstrip("/")
    with sessions() as session:
        people = session.scalars(
            select(MailRecipientRow).where(MailRecipientRow.opted_out.is_(False))
        ).all()
        digests = [digest_of(session, row, today, access_url) for row in people]
    sent = 0
    for row, digest in zip(people, digests, strict=True):
        if not digest.lines:
            continue
        with sessions.begin() as session:
            if not claim(session, row.person_id, today):
                continue
        try:
            send(message(settings, digest))
            sent += 1
        except (OSError, smtplib.SMTPException) as exc:
            with sessions.begin() as session:  # give it back: the next run tries again
                session.execute(
                    update(MailRecipientRow)
                    .where(MailRecipientRow.person_id == row.person_id)
                    .values(last_digest_on=None)
                )
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


@router.get("/v1/me/notifications", response_model=NotificationsOut)
def read_notifications(principal: CurrentPrincipal, session: DbSession) -> NotificationsOut:
    """Whether IRIS e-mails you a daily digest, and at which address."""
    row = session.get(MailRecipientRow, _person(principal))
    if row is None:
        return NotificationsOut(enabled=False, email=None)
    return NotificationsOut(enabled=not row.opted_out, email=row.email)


@router.put("/v1/me/notifications", response_model=NotificationsOut)
def choose_notifications(
    body: NotificationsIn, principal: CurrentPrincipal, session: DbSession
) -> NotificationsOut:
    """Opt out of the daily digest, or in again (the address is your sign-in's)."""
    person = _person(principal)
    remember(session, principal)
    row = session.get(MailRecipientRow, person)
    if row is None:
        raise HTTPException(409, "email: your sign-in gives no e-mail address")
    row.opted_out = not body.enabled
    session.commit()
    return NotificationsOut(enabled=body.enabled, email=row.email)


def command(settings: Settings, today: date | None = None) -> int:
    """`iris notify`: today's digests from the access database."""
    from iris.db import make_engine, make_sessionmaker

    engine = make_engine(settings.database_url_for("access"))
    try:
        day = today or datetime.now(BRUSSELS).date()
        count = send_digests(settings, make_sessionmaker(engine), day)
    finally:
        engine.dispose()
    print(f"IRIS: {count} digest(s) sent")
    return 0


def install_notifications(app: Any, sessions: sessionmaker[Session]) -> None:
    app.state.on_sign_in = remembering(sessions)
    app.include_router(router)
