"""The access register's storage as the use cases (`services.access.service`) see it:
an abstract port and its SQLAlchemy adapter. `tests/access/fake_repository.py` holds an
in-memory fake of the same port, so the use cases' rules are tested without a database.

Access requests, clients and audit entries travel as their table rows (plain objects
until a session adds them); grants travel as `domain.Grant`.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from datetime import UTC, date, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from iris.contracts import ACCESS_GRANTS, GrantChanged
from iris.outbox import add_event
from services.access import domain
from services.access.models import AccessRequestRow, AuditRow, ClientRow, GrantRow, Outbox
from services.access.schools import kind_of


class AccessRepository(ABC):
    # -- grants ----------------------------------------------------------------------------

    @abstractmethod
    def grant_of_person(self, school_id: str, person_id: str) -> domain.Grant | None:
        """The person's grant at the school, locked until the transaction ends."""

    @abstractmethod
    def grant(self, school_id: str, grant_id: str, lock: bool = False) -> domain.Grant | None:
        """The grant at the school, locked when asked."""

    @abstractmethod
    def save_grant(self, grant: domain.Grant, actor: str) -> None:
        """Store the grant as it now reads, new or changed."""

    @abstractmethod
    def name_holder(self, school_id: str, person_id: str, name: str) -> None:
        """Keep the name of the person of the school's grant to them."""

    @abstractmethod
    def queue(self, event: GrantChanged) -> None:
        """Queue the event for `iris.access.grants`, keyed by school and person."""

    @abstractmethod
    def grants_at(
        self, school_id: str, role: str | None = None, status: str | None = None
    ) -> list[domain.Grant]:
        """The school's grants by person, with this role and status when given."""

    @abstractmethod
    def active_grants_of(self, person_id: str, roles: tuple[str, ...]) -> list[domain.Grant]:
        """The person's active grants in these roles, by school."""

    @abstractmethod
    def due_for_expiry(self, today: date, limit: int) -> list[domain.Grant]:
        """Up to `limit` active grants whose period ended before `today`, locked."""

    @abstractmethod
    def every_grant(self) -> list[tuple[domain.Grant, str]]:
        """Every grant with who changed it last."""

    @abstractmethod
    def school_kind(self, school_id: str) -> str | None:
        """mainstream, special, or None for a school the register does not know."""

    # -- access requests -------------------------------------------------------------------

    @abstractmethod
    def add_request(self, row: AccessRequestRow) -> None: ...

    @abstractmethod
    def request(
        self, request_id: str, school_id: str | None = None, lock: bool = False
    ) -> AccessRequestRow | None: ...

    @abstractmethod
    def requests_at(self, school_id: str, status: str | None = None) -> list[AccessRequestRow]:
        """The school's access requests, oldest first."""

    @abstractmethod
    def request_decided(self, row: AccessRequestRow, actor: str) -> None:
        """What follows a decision elsewhere (the support request it came from)."""

    # -- school-software clients -----------------------------------------------------------

    @abstractmethod
    def add_client(self, row: ClientRow) -> None: ...

    @abstractmethod
    def client(self, school_id: str, client_id: str, lock: bool = False) -> ClientRow | None: ...

    @abstractmethod
    def client_by_id(self, client_id: str) -> ClientRow | None: ...

    @abstractmethod
    def clients_at(self, school_id: str) -> list[ClientRow]:
        """The school's clients, oldest first."""

    # -- audit -----------------------------------------------------------------------------

    @abstractmethod
    def record(self, entry: AuditRow) -> None: ...

    @abstractmethod
    def audit_at(self, school_id: str, limit: int) -> list[AuditRow]:
        """The school's audit entries, newest first."""


class SqlAccessRepository(AccessRepository):
    """The port on a SQLAlchemy session; the caller owns the transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def grant_of_person(self, school_id: str, person_id: str) -> domain.Grant | None:
        row = self.session.scalar(
            select(GrantRow)
            .where(GrantRow.school_id == school_id, GrantRow.person_id == person_id)
            .with_for_update()
        )
        return row.to_domain() if row else None

    def grant(self, school_id: str, grant_id: str, lock: bool = False) -> domain.Grant | None:
        query = select(GrantRow).where(
            GrantRow.grant_id == grant_id, GrantRow.school_id == school_id
        )
        row = self.session.scalar(query.with_for_update() if lock else query)
        return row.to_domain() if row else None

    def save_grant(self, grant: domain.Grant, actor: str) -> None:
        row = self.session.get(GrantRow, str(grant.grant_id))
        if row is None:
            row = GrantRow(
                grant_id=str(grant.grant_id), school_id=grant.school_id, person_id=grant.person_id
            )
            self.session.add(row)
        row.role, row.valid_from, row.valid_until = grant.role, grant.valid_from, grant.valid_until
        row.pupil_ids = None if grant.pupil_ids is None else json.dumps(list(grant.pupil_ids))
        row.status, row.version, row.source = grant.status, grant.version, grant.source
        row.changed_by, row.updated_at = actor, datetime.now(UTC)
        self.session.flush()

    def name_holder(self, school_id: str, person_id: str, name: str) -> None:
        self.session.execute(
            update(GrantRow)
            .where(GrantRow.school_id == school_id, GrantRow.person_id == person_id)
            .values(person_name=name)
        )

    def queue(self, event: GrantChanged) -> None:
        key = f"{event.school_id}:{event.person_id}"
        add_event(self.session, Outbox, ACCESS_GRANTS, key, event)

    def grants_at(
        self, school_id: str, role: str | None = None, status: str | None = None
    ) -> list[domain.Grant]:
        query = select(GrantRow).where(GrantRow.school_id == school_id)
        if role is not None:
            query = query.where(GrantRow.role == role)
        if status is not None:
            query = query.where(GrantRow.status == status)
        return [row.to_domain() for row in self.session.scalars(query.order_by(GrantRow.person_id))]

    def active_grants_of(self, person_id: str, roles: tuple[str, ...]) -> list[domain.Grant]:
        rows = self.session.scalars(
            select(GrantRow)
            .where(
                GrantRow.person_id == person_id,
                GrantRow.role.in_(roles),
                GrantRow.status == "active",
            )
            .order_by(GrantRow.school_id)
        )
        return [row.to_domain() for row in rows]

    def due_for_expiry(self, today: date, limit: int) -> list[domain.Grant]:
        rows = self.session.scalars(
            select(GrantRow)
            .where(GrantRow.status == "active", GrantRow.valid_until < today)
            .order_by(GrantRow.valid_until)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [row.to_domain() for row in rows]

    def every_grant(self) -> list[tuple[domain.Grant, str]]:
        rows = self.session.scalars(
            select(GrantRow).order_by(GrantRow.school_id, GrantRow.person_id)
        )
        return [(row.to_domain(), row.changed_by) for row in rows]

    def school_kind(self, school_id: str) -> str | None:
        return kind_of(self.session, school_id)

    def add_request(self, row: AccessRequestRow) -> None:
        self.session.add(row)
        self.session.flush()

    def request(
        self, request_id: str, school_id: str | None = None, lock: bool = False
    ) -> AccessRequestRow | None:
        query = select(AccessRequestRow).where(AccessRequestRow.request_id == request_id)
        if school_id is not None:
            query = query.where(AccessRequestRow.school_id == school_id)
        return self.session.scalar(query.with_for_update() if lock else query)

    def requests_at(self, school_id: str, status: str | None = None) -> list[AccessRequestRow]:
        query = select(AccessRequestRow).where(AccessRequestRow.school_id == school_id)
        if status is not None:
            query = query.where(AccessRequestRow.status == status)
        return list(self.session.scalars(query.order_by(AccessRequestRow.created_at)))

    def request_decided(self, row: AccessRequestRow, actor: str) -> None:
        self.session.flush()
        # support requests build on access requests, so that module imports this one
        from services.access.support import access_request_decided

        access_request_decided(self.session, row, actor)

    def add_client(self, row: ClientRow) -> None:
        self.session.add(row)
        self.session.flush()

    def client(self, school_id: str, client_id: str, lock: bool = False) -> ClientRow | None:
        query = select(ClientRow).where(
            ClientRow.client_id == client_id, ClientRow.school_id == school_id
        )
        return self.session.scalar(query.with_for_update() if lock else query)

    def client_by_id(self, client_id: str) -> ClientRow | None:
        return self.session.get(ClientRow, client_id)

    def clients_at(self, school_id: str) -> list[ClientRow]:
        query = select(ClientRow).where(ClientRow.school_id == school_id)
        return list(self.session.scalars(query.order_by(ClientRow.created_at)))

    def record(self, entry: AuditRow) -> None:
        self.session.add(entry)
        self.session.flush()

    def audit_at(self, school_id: str, limit: int) -> list[AuditRow]:
        query = select(AuditRow).where(AuditRow.school_id == school_id)
        return list(self.session.scalars(query.order_by(AuditRow.id.desc()).limit(limit)))
