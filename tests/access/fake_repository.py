"""An in-memory `AccessRepository`: the use cases of `services.access.service` run on it
in tests without a database. It keeps what the SQL adapter keeps and answers in the same
orders; locks mean nothing in one thread."""

from __future__ import annotations

import uuid
from datetime import date

from iris.contracts import GrantChanged
from services.access import domain
from services.access.models import AccessRequestRow, AuditRow, ClientRow
from services.access.repository import AccessRepository


class FakeAccessRepository(AccessRepository):
    def __init__(self, school_kinds: dict[str, str] | None = None) -> None:
        self.grants: dict[uuid.UUID, domain.Grant] = {}
        self.changed_by: dict[uuid.UUID, str] = {}
        self.events: list[GrantChanged] = []
        self.school_kinds = dict(school_kinds or {})
        self.requests: dict[str, AccessRequestRow] = {}
        self.decided: list[tuple[str, str]] = []
        self.clients: dict[str, ClientRow] = {}
        self.entries: list[AuditRow] = []
        self.names: dict[tuple[str, str], str] = {}

    def grant_of_person(self, school_id: str, person_id: str) -> domain.Grant | None:
        found = [
            g for g in self.grants.values() if (g.school_id, g.person_id) == (school_id, person_id)
        ]
        return found[0] if found else None

    def grant(self, school_id: str, grant_id: str, lock: bool = False) -> domain.Grant | None:
        try:
            found = self.grants.get(uuid.UUID(grant_id))
        except ValueError:
            return None
        return found if found is not None and found.school_id == school_id else None

    def save_grant(self, grant: domain.Grant, actor: str) -> None:
        self.grants[grant.grant_id] = grant
        self.changed_by[grant.grant_id] = actor

    def name_holder(self, school_id: str, person_id: str, name: str) -> None:
        self.names[(school_id, person_id)] = name

    def queue(self, event: GrantChanged) -> None:
        self.events.append(event)

    def grants_at(
        self, school_id: str, role: str | None = None, status: str | None = None
    ) -> list[domain.Grant]:
        found = [
            g
            for g in self.grants.values()
            if g.school_id == school_id
            and (role is None or g.role == role)
            and (status is None or g.status == status)
        ]
        return sorted(found, key=lambda g: g.person_id)

    def active_grants_of(self, person_id: str, roles: tuple[str, ...]) -> list[domain.Grant]:
        found = [
            g
            for g in self.grants.values()
            if g.person_id == person_id and g.role in roles and g.status == "active"
        ]
        return sorted(found, key=lambda g: g.school_id)

    def due_for_expiry(self, today: date, limit: int) -> list[domain.Grant]:
        due = [g for g in self.grants.values() if g.status == "active" and g.valid_until < today]
        return sorted(due, key=lambda g: g.valid_until)[:limit]

    def every_grant(self) -> list[tuple[domain.Grant, str]]:
        grants = sorted(self.grants.values(), key=lambda g: (g.school_id, g.person_id))
        return [(g, self.changed_by[g.grant_id]) for g in grants]

    def school_kind(self, school_id: str) -> str | None:
        return self.school_kinds.get(school_id)

    def add_request(self, row: AccessRequestRow) -> None:
        self.requests[row.request_id] = row

    def request(
        self, request_id: str, school_id: str | None = None, lock: bool = False
    ) -> AccessRequestRow | None:
        row = self.requests.get(request_id)
        return row if row is not None and school_id in (None, row.school_id) else None

    def requests_at(self, school_id: str, status: str | None = None) -> list[AccessRequestRow]:
        rows = [
            r
            for r in self.requests.values()
            if r.school_id == school_id and (status is None or r.status == status)
        ]
        return sorted(rows, key=lambda r: r.created_at)

    def request_decided(self, row: AccessRequestRow, actor: str) -> None:
        self.decided.append((row.request_id, actor))

    def add_client(self, row: ClientRow) -> None:
        self.clients[row.client_id] = row

    def client(self, school_id: str, client_id: str, lock: bool = False) -> ClientRow | None:
        row = self.clients.get(client_id)
        return row if row is not None and row.school_id == school_id else None

    def client_by_id(self, client_id: str) -> ClientRow | None:
        return self.clients.get(client_id)

    def clients_at(self, school_id: str) -> list[ClientRow]:
        rows = [r for r in self.clients.values() if r.school_id == school_id]
        return sorted(rows, key=lambda r: r.created_at)

    def record(self, entry: AuditRow) -> None:
        self.entries.append(entry)

    def audit_at(self, school_id: str, limit: int) -> list[AuditRow]:
        return [e for e in reversed(self.entries) if e.school_id == school_id][:limit]
