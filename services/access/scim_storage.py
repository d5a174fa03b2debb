"""Where scim2-server keeps a user management's Users and Groups: the access database, in
the caller's transaction. Each write provisions the grants of the people it touches
(`services.access.provisioning`), so a SCIM request and the grants it changes commit
together or not at all.

The resources live per directory (the user management a client is registered for), each
stored as the SCIM document IRIS keeps with the columns it searches by."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Union, cast

from scim2_models import (
    ForbiddenException,
    InvalidValueException,
    Meta,
    NotFoundException,
    PreconditionFailedException,
    Resource,
    ResourceType,
    ResponseParameters,
    ScimFilter,
    SearchRequest,
    UniquenessException,
)
from scim2_models.path import CompareOperator, Comparison
from scim2_server.storage import ScimStorage, SearchPage
from scim2_server.utils import parametrize
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from services.access import domain, provisioning
from services.access.models import (
    MailRecipientRow,
    ScimGroupRow,
    ScimMemberRow,
    ScimUserRow,
    ServiceClientRow,
)
from services.access.repository import SqlAccessRepository
from services.access.scim_provider import (
    GROUP_SCHEMA,
    USER_SCHEMA,
    group_grant,
    person_of,
    provider,
)

Row = ScimUserRow | ScimGroupRow


def _invalid(exc: domain.AccessRuleBroken) -> InvalidValueException:
    return InvalidValueException(detail=exc.message)


@dataclass
class SqlScimStorage(ScimStorage):
    session: Session
    directory: str
    schools: frozenset[str]
    actor: str
    today: date

    @classmethod
    def of_client(cls, session: Session, client: ServiceClientRow, today: date) -> SqlScimStorage:
        """The storage of a user management's client: its directory and schools."""
        schools = frozenset(json.loads(client.schools or "[]"))
        return cls(session, client.directory or "", schools, f"scim:{client.client_id}", today)

    @classmethod
    def unused(cls) -> SqlScimStorage:
        """A storage for the requests that read none (the service provider configuration)."""
        return cls(cast(Session, None), "", frozenset(), "", date.min)

    # -- reading ---------------------------------------------------------------------------

    def _table(self, resource_type: ResourceType) -> type[ScimUserRow] | type[ScimGroupRow]:
        return ScimUserRow if resource_type.name == "User" else ScimGroupRow

    def _row(self, resource_type: ResourceType, resource_id: str | None) -> Row:
        table = self._table(resource_type)
        row = cast(Row | None, self.session.get(table, resource_id or "", with_for_update=True))
        if row is None or row.directory != self.directory:
            raise NotFoundException(detail=f"{resource_type.name} {resource_id!r} not found")
        return row

    def _resource(self, row: Row) -> Resource[Any]:
        name = "User" if isinstance(row, ScimUserRow) else "Group"
        model = cast(type[Resource[Any]], provider().model_for(name))
        resource = model.model_validate(json.loads(row.document))
        resource.id = row.id
        resource.meta = Meta(
            resource_type=name,
            created=row.created_at,
            last_modified=row.updated_at,
            version=f'W/"{row.version}"',
        )
        return resource

    def get(
        self,
        resource_type: ResourceType,
        resource_id: str,
        *,
        response_parameters: ResponseParameters[Any] | None = None,
    ) -> Resource[Any]:
        return self._resource(self._row(resource_type, resource_id))

    def search(
        self,
        resource_types: list[ResourceType],
        search_request: SearchRequest[Any],
        *,
        position: Any = None,
    ) -> SearchPage:
        """Filtered in memory after the one filter IRIS answers from an index (`userName eq`,
        how a user management finds a person it provisioned)."""
        found: list[Resource[Any]] = []
        for resource_type in resource_types:
            table = self._table(resource_type)
            query = select(table).where(table.directory == self.directory)
            user_name = _user_name_sought(search_request.filter)
            if table is ScimUserRow and user_name is not None:
                query = query.where(ScimUserRow.user_name == user_name)
            rows = self.session.scalars(query.order_by(table.created_at, table.id))
            found.extend(self._resource(cast(Row, row)) for row in rows)
        scim_filter = search_request.filter
        if scim_filter is not None:
            if not scim_filter.models and found:
                models = tuple(dict.fromkeys(type(r) for r in found))
                scim_filter = parametrize(ScimFilter, Union[models])(str(scim_filter))  # noqa: UP007
            found = [r for r in found if scim_filter.match(r)]
        start = search_request.start_index_0 or 0
        stop = None if search_request.count is None else start + search_request.count
        return SearchPage(len(found), found[start:stop])

    # -- writing ---------------------------------------------------------------------------

    def create(self, resource_type: ResourceType, resource: Resource[Any]) -> Resource[Any]:
        now = datetime.now(UTC)
        table = self._table(resource_type)
        row = table(id=uuid.uuid4().hex, directory=self.directory, version=0, created_at=now)
        return self._write(row, resource, now, new=True)

    def update(
        self,
        resource_type: ResourceType,
        resource: Resource[Any],
        *,
        expected_version: str | None = None,
    ) -> Resource[Any]:
        row = self._row(resource_type, resource.id)
        if expected_version is not None and expected_version != f'W/"{row.version}"':
            raise PreconditionFailedException
        return self._write(row, resource, datetime.now(UTC), new=False)

    def delete(
        self,
        resource_type: ResourceType,
        resource_id: str,
        *,
        expected_version: str | None = None,
    ) -> None:
        row = self._row(resource_type, resource_id)
        if expected_version is not None and expected_version != f'W/"{row.version}"':
            raise PreconditionFailedException
        if isinstance(row, ScimUserRow):
            leave_groups(self.session, row.id)
            touched = {row.user_name}
        else:
            touched = self._members_of(row.id)
            self.session.execute(delete(ScimMemberRow).where(ScimMemberRow.group_id == row.id))
        self.session.delete(row)
        self.session.flush()
        self._provision(touched)

    def _write(self, row: Row, resource: Resource[Any], now: datetime, new: bool) -> Resource[Any]:
        body = resource.model_dump(exclude={"id", "meta"})
        user = isinstance(row, ScimUserRow)
        body["schemas"] = [USER_SCHEMA if user else GROUP_SCHEMA]  # no extension is kept
        try:
            if isinstance(row, ScimUserRow):
                touched = self._user_fields(row, body, new)
            else:
                touched = self._group_fields(row, body, new)
        except domain.AccessRuleBroken as exc:
            raise _invalid(exc) from exc
        row.document = json.dumps(body, sort_keys=True)
        row.external_id = body.get("externalId")
        row.version, row.updated_at = row.version + 1, now
        if new:
            self.session.add(row)
        self.session.flush()
        self._provision(touched)
        return self._resource(row)

    def _user_fields(self, row: ScimUserRow, body: dict[str, Any], new: bool) -> set[str]:
        person = person_of(body.get("userName"))
        taken = self.session.scalar(
            select(ScimUserRow.id).where(
                ScimUserRow.directory == self.directory, ScimUserRow.user_name == person
            )
        )
        if taken is not None and taken != row.id:
            raise UniquenessException(detail="userName: this person is already a User here")
        touched = {person} if new else {row.user_name, person}
        row.user_name, row.active = person, body.get("active") is not False
        body["userName"] = person
        self._keep_address(person, body.get("emails") or [])
        return touched

    def _group_fields(self, row: ScimGroupRow, body: dict[str, Any], new: bool) -> set[str]:
        school_id, role = group_grant(str(body.get("displayName") or ""))
        if school_id not in self.schools:
            raise ForbiddenException(
                detail=f"displayName: this client may not provision school {school_id}"
            )
        if role == "support_worker":
            domain.require_mainstream(SqlAccessRepository(self.session).school_kind(school_id))
        members = {str(m.get("value")) for m in body.get("members") or []}
        users = self.session.scalars(
            select(ScimUserRow).where(
                ScimUserRow.directory == self.directory, ScimUserRow.id.in_(members)
            )
        ).all()
        if len(users) != len(members):
            raise InvalidValueException(detail="members: each value names a User of this service")
        touched = set() if new else self._members_of(row.id)
        row.display_name, row.school_id, row.role = body["displayName"], school_id, role
        if not new:
            self.session.execute(delete(ScimMemberRow).where(ScimMemberRow.group_id == row.id))
        self.session.add_all(ScimMemberRow(group_id=row.id, user_id=u.id) for u in users)
        return touched | {u.user_name for u in users}

    def _members_of(self, group_id: str) -> set[str]:
        return set(
            self.session.scalars(
                select(ScimUserRow.user_name)
                .join(ScimMemberRow, ScimMemberRow.user_id == ScimUserRow.id)
                .where(ScimMemberRow.group_id == group_id)
            )
        )

    def _keep_address(self, person: str, emails: list[dict[str, Any]]) -> None:
        """The person's (primary) address for IRIS's e-mails, unless they signed in
        already: the sign-in's address is theirs to keep."""
        chosen = [e for e in emails if e.get("primary")] or emails
        address = str(chosen[0].get("value") or "") if chosen else ""
        if not address or self.session.get(MailRecipientRow, person) is not None:
            return
        self.session.add(
            MailRecipientRow(person_id=person, email=address, updated_at=datetime.now(UTC))
        )

    # -- grants ----------------------------------------------------------------------------

    def _provision(self, people: set[str]) -> None:
        repo = SqlAccessRepository(self.session)
        for person in sorted(people):
            memberships = self.session.execute(
                select(ScimGroupRow.school_id, ScimGroupRow.role)
                .join(ScimMemberRow, ScimMemberRow.group_id == ScimGroupRow.id)
                .join(ScimUserRow, ScimUserRow.id == ScimMemberRow.user_id)
                .where(ScimUserRow.user_name == person, ScimUserRow.active.is_(True))
            ).all()
            wanted = provisioning.wanted_grants((s, cast(domain.Role, r)) for s, r in memberships)
            try:
                provisioning.provision(
                    repo, person, wanted, self.actor, self.today, self._display_name(person)
                )
            except domain.AccessRuleBroken as exc:
                raise _invalid(exc) from exc

    def _display_name(self, person: str) -> str | None:
        document = self.session.scalar(
            select(ScimUserRow.document).where(
                ScimUserRow.directory == self.directory, ScimUserRow.user_name == person
            )
        )
        name = json.loads(document).get("displayName") if document else None
        return str(name)[:200] if name else None


def leave_groups(session: Session, user_id: str) -> None:
    """A deleted user leaves every group: the groups' documents say so too."""
    groups = session.scalars(
        select(ScimGroupRow)
        .join(ScimMemberRow, ScimMemberRow.group_id == ScimGroupRow.id)
        .where(ScimMemberRow.user_id == user_id)
    ).all()
    for group in groups:
        body = json.loads(group.document)
        body["members"] = [m for m in body.get("members") or [] if m.get("value") != user_id]
        group.document = json.dumps(body, sort_keys=True)
        group.version, group.updated_at = group.version + 1, datetime.now(UTC)
    session.execute(delete(ScimMemberRow).where(ScimMemberRow.user_id == user_id))


def erase_person(session: Session, insz: str) -> int:
    """The person's Users in every directory, gone with their memberships (an erasure)."""
    users = session.scalars(select(ScimUserRow).where(ScimUserRow.user_name == insz)).all()
    for user in users:
        leave_groups(session, user.id)
        session.delete(user)
    session.flush()
    return len(users)


def _user_name_sought(scim_filter: ScimFilter[Any] | None) -> str | None:
    """The value of a filter `userName eq "…"`, else None."""
    node = scim_filter.ast if scim_filter is not None else None
    if (
        isinstance(node, Comparison)
        and node.op == CompareOperator.eq
        and isinstance(node.value, str)
        and str(node.attr_path).lower() in ("username", f"{_USER}:username")
    ):
        return node.value
    return None


_USER = "urn:ietf:params:scim:schemas:core:2.0:user"
