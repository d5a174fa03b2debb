"""Event contracts: one typed model per event on the IRIS topics.

Every value is a JSON object with `type`, `schema_version`, `event_id` and
`occurred_at`. Consumers ignore fields they do not know (producers may add
fields), and refuse a `schema_version` they do not know. Renaming or removing
a field needs a new schema version.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from iris.insz import INSZ, InstitutionNumber


def _iso_date(value: Any) -> Any:
    if isinstance(value, datetime):
        raise ValueError("expected a date (YYYY-MM-DD), not a date-time")
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value) if len(value) == 10 else _bad_date()
        except ValueError:
            _bad_date()
    _bad_date()


def _bad_date() -> Any:
    raise ValueError("expected an ISO date YYYY-MM-DD")


IsoDate = Annotated[date, BeforeValidator(_iso_date)]


def utcnow() -> datetime:
    return datetime.now(UTC)


class Event(BaseModel):
    """Fields every event carries."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    schema_version: Literal[1] = 1
    event_id: uuid.UUID = Field(default_factory=uuid.uuid4)
    occurred_at: AwareDatetime = Field(default_factory=utcnow)

    def to_json(self) -> bytes:
        return self.model_dump_json().encode()


# -- iris.enrolment.submitted (published by school software, untrusted) -------------


class EnrolmentPeriod(Event):
    """A pupil's period at a school, as a registration states it and the register keeps it."""

    pupil_id: INSZ
    school_id: InstitutionNumber
    start_date: IsoDate
    end_date: IsoDate | None = None


class EnrolmentRegistered(EnrolmentPeriod):
    type: Literal["EnrolmentRegistered"] = "EnrolmentRegistered"
    display_name: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    source: Annotated[str, Field(min_length=1, max_length=100)]
    combination: bool = Field(
        False,
        description="the pupil stays enrolled at another school too (e.g. a combination of "
        "mainstream and special education); otherwise the register ends the pupil's other "
        "enrolments the day before start_date",
    )

    @model_validator(mode="after")
    def _end_not_before_start(self) -> EnrolmentRegistered:
        if self.end_date is not None and self.end_date < self.start_date:
            raise ValueError("end_date lies before start_date")
        return self


class EnrolmentEnded(Event):
    type: Literal["EnrolmentEnded"] = "EnrolmentEnded"
    pupil_id: INSZ
    school_id: InstitutionNumber
    end_date: IsoDate
    source: Annotated[str, Field(min_length=1, max_length=100)]


EnrolmentSubmission = Annotated[EnrolmentRegistered | EnrolmentEnded, Field(discriminator="type")]


class Rejected(Event):
    """A value that a consumer could not accept, with the reason."""

    type: Literal["Rejected"] = "Rejected"
    original: str
    reason: str
    topic: str
    partition: int
    offset: int


# -- iris.enrolment.changes ------------------------------------------------------------


class EnrolmentChanged(EnrolmentPeriod):
    type: Literal["EnrolmentChanged"] = "EnrolmentChanged"
    display_name: str | None = None
    version: Annotated[int, Field(ge=1)]


# -- iris.report.changes -----------------------------------------------------------------

ReportKind = Literal["IAC", "OV4", "GC", "V", "GV"]

# `version` numbers a pupil's report versions; a withdrawal carries the version it lifts,
# so it can be older than versions already issued. `sequence` numbers every change to a
# pupil's reports (issue or withdrawal) in the order the reports service made them:
# consumers order and deduplicate a pupil's changes by it.
ReportSequence = Annotated[
    int, Field(ge=1, description="per-pupil order of report changes, issues and withdrawals")
]


class ReportVersionEvent(Event):
    """What every change of a report version names: the version, and its place in the
    pupil's order of changes."""

    report_id: uuid.UUID
    pupil_id: INSZ
    version: Annotated[int, Field(ge=1)]
    sequence: ReportSequence


class ReportIssued(ReportVersionEvent):
    type: Literal["ReportIssued"] = "ReportIssued"
    kind: ReportKind
    clb_id: InstitutionNumber
    issued_at: AwareDatetime
    valid_from: IsoDate


class ReportWithdrawn(ReportVersionEvent):
    type: Literal["ReportWithdrawn"] = "ReportWithdrawn"
    withdrawn_at: AwareDatetime
    # The reports service's date of the withdrawal. Withdrawn before the version's
    # valid_from, the version is cancelled: it never takes effect.
    withdrawn_on: IsoDate
    # What the withdrawn version's ReportIssued said: once compaction has kept only this
    # withdrawal of the version's key, a consumer still knows the version it lifts.
    kind: ReportKind | None = None
    clb_id: InstitutionNumber | None = None
    issued_at: AwareDatetime | None = None
    valid_from: IsoDate | None = None


ReportChange = Annotated[ReportIssued | ReportWithdrawn, Field(discriminator="type")]

# -- iris.access.grants ------------------------------------------------------------------

Role = Literal["teacher", "care_coordinator", "pupil_counsellor", "support_worker"]
GrantStatus = Literal["active", "revoked", "expired"]


class GrantChanged(Event):
    type: Literal["GrantChanged"] = "GrantChanged"
    grant_id: uuid.UUID
    school_id: InstitutionNumber
    person_id: INSZ
    role: Role
    pupil_ids: list[INSZ] | None = None
    valid_from: IsoDate
    valid_until: IsoDate
    status: GrantStatus
    version: Annotated[int, Field(ge=1)]
    changed_by: str
    source: Literal["iris", "scim"] = Field(
        "iris",
        description="who keeps the grant: IRIS's pages and API, or the school's user "
        "management over SCIM",
    )


# -- iris.access.support-requests ---------------------------------------------------------

SupportRequestStatus = Literal["sent", "declined", "accepted", "granted", "refused"]


class SupportRequestChanged(Event):
    """A step of a school's support request (*ondersteuningsvraag*). The question and
    a decline's reason are free text about a pupil: they stay in the access database."""

    type: Literal["SupportRequestChanged"] = "SupportRequestChanged"
    support_request_id: uuid.UUID
    school_id: InstitutionNumber
    pupil_id: INSZ
    support_network: str
    status: SupportRequestStatus
    support_workers: list[INSZ] = Field(default_factory=list)
    access_request_ids: list[uuid.UUID] = Field(default_factory=list)
    version: Annotated[int, Field(ge=1)]
    changed_by: str


# -- iris.viewer.audit -------------------------------------------------------------------


class ReportViewed(Event):
    type: Literal["ReportViewed"] = "ReportViewed"
    view_id: uuid.UUID
    person_id: str
    role: str
    school_id: InstitutionNumber
    pupil_id: INSZ
    report_id: uuid.UUID
    version: Annotated[int, Field(ge=1)]
    channel: Literal["web", "embedded"]


class AccessDenied(Event):
    type: Literal["AccessDenied"] = "AccessDenied"
    person_id: str
    pupil_id: str
    reason: str


ViewerAudit = Annotated[ReportViewed | AccessDenied, Field(discriminator="type")]


def audit_key(event: ReportViewed | AccessDenied) -> str:
    """The key of `iris.viewer.audit`: one record, a view's `view_id` (the same when the view
    is published again) or a denial's `event_id`, so that compaction keeps each record once
    and a tombstone forgets exactly one (a purged or erased view or denial); no INSZ in it."""
    return str(event.view_id if isinstance(event, ReportViewed) else event.event_id)


# -- topics ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Topic:
    name: str
    key: str
    partitions: int
    compacted: bool
    value: Any  # a model or a discriminated union of models
    owner: str  # the one writer (the broker's ACLs say so in production)
    readers: tuple[str, ...] = ()  # the services that consume it

    def parse(self, raw: bytes | str) -> Any:
        return _adapter(self.name).validate_json(raw)


ENROLMENT_SUBMITTED = Topic(
    "iris.enrolment.submitted",
    "pupil INSZ",
    6,
    False,
    EnrolmentSubmission,
    "school software",
    ("enrolment",),
)
ENROLMENT_REJECTED = Topic(
    "iris.enrolment.rejected", "as submitted", 1, False, Rejected, "enrolment"
)
ENROLMENT_CHANGES = Topic(
    "iris.enrolment.changes",
    "pupil_id:school_id",
    6,
    True,
    EnrolmentChanged,
    "enrolment",
    ("viewer", "access"),
)
REPORT_CHANGES = Topic(
    "iris.report.changes",
    "pupil_id:version",
    6,
    True,
    ReportChange,
    "reports",
    ("viewer", "access"),
)
ACCESS_GRANTS = Topic(
    "iris.access.grants", "school_id:person_id", 6, True, GrantChanged, "access", ("viewer",)
)
ACCESS_SUPPORT_REQUESTS = Topic(
    "iris.access.support-requests",
    "support_request_id",
    6,
    True,
    SupportRequestChanged,
    "access",
)
VIEWER_AUDIT = Topic(
    "iris.viewer.audit", "view_id or a denial's event_id", 6, True, ViewerAudit, "viewer"
)
VIEWER_REJECTED = Topic("iris.viewer.rejected", "as consumed", 1, False, Rejected, "viewer")


@dataclass(frozen=True)
class Forgotten:
    """A tombstone read from a compacted topic (a message with a key and no value): whatever
    the key held is to be forgotten (the purge of iris.retention, or an erasure)."""

    topic: str
    key: str

    @property
    def pair(self) -> tuple[str, str]:
        """The key's two ids: (pupil, school) on the enrolments, (school, person) on the
        grants."""
        first, _, second = self.key.partition(":")
        return first, second


def enrolment_key(pupil_id: str, school_id: str) -> str:
    """The key of `iris.enrolment.changes`: one enrolment, so that compaction keeps the latest
    state of each and a tombstone forgets exactly one."""
    return f"{pupil_id}:{school_id}"


def report_key(pupil_id: str, version: int) -> str:
    """The key of `iris.report.changes`: one report version, so that compaction keeps its
    latest step (its withdrawal, which repeats what its issue said) and a tombstone forgets
    exactly one version."""
    return f"{pupil_id}:{version}"


# Topics whose producers in IRIS place every key of one pupil (the part before ':') on one
# partition, so that one consumer applies a pupil's changes in the order they were written.
PARTITIONED_BY_PUPIL = frozenset({ENROLMENT_CHANGES.name, REPORT_CHANGES.name})


TOPICS: tuple[Topic, ...] = (
    ENROLMENT_SUBMITTED,
    ENROLMENT_REJECTED,
    ENROLMENT_CHANGES,
    REPORT_CHANGES,
    ACCESS_GRANTS,
    ACCESS_SUPPORT_REQUESTS,
    VIEWER_AUDIT,
    VIEWER_REJECTED,
)


def owned_topics(service: str) -> tuple[Topic, ...]:
    """The topics `service` writes."""
    return tuple(t for t in TOPICS if t.owner == service)


EVENT_MODELS: tuple[type[Event], ...] = (
    EnrolmentRegistered,
    EnrolmentEnded,
    Rejected,
    EnrolmentChanged,
    ReportIssued,
    ReportWithdrawn,
    GrantChanged,
    SupportRequestChanged,
    ReportViewed,
    AccessDenied,
)

_ADAPTERS: dict[str, TypeAdapter[Any]] = {}


def _adapter(topic_name: str) -> TypeAdapter[Any]:
    if topic_name not in _ADAPTERS:
        topic = next(t for t in TOPICS if t.name == topic_name)
        _ADAPTERS[topic_name] = TypeAdapter(topic.value)
    return _ADAPTERS[topic_name]


def describe_error(exc: ValidationError) -> str:
    """One line naming each offending field, suitable for a rejection reason."""
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"] if not str(p)[:1].isupper()) or "value"
        parts.append(f"{loc}: {err['msg']}")
    return "; ".join(parts)
