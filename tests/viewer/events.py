"""Builders of the change events the viewer consumes, as the other services publish them."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from kafka import KafkaProducer

from iris.contracts import (
    PARTITIONED_BY_PUPIL,
    EnrolmentChanged,
    Forgotten,
    GrantChanged,
    ReportIssued,
    ReportWithdrawn,
)
from iris.insz import make_insz
from iris.kafka import pupil_partition


def insz(n: int) -> str:
    return make_insz("2012-03-04", n)


def enrolment(
    pupil: str,
    school: str,
    version: int = 1,
    start: str = "2020-09-01",
    end: str | None = None,
    name: str | None = "Pupil",
) -> EnrolmentChanged:
    return EnrolmentChanged(
        pupil_id=pupil,
        school_id=school,
        start_date=date.fromisoformat(start),
        end_date=date.fromisoformat(end) if end else None,
        display_name=name,
        version=version,
    )


def grant(
    school: str,
    person: str,
    version: int = 1,
    role: str = "teacher",
    pupils: list[str] | None = None,
    valid_from: str = "2020-01-01",
    valid_until: str = "2099-12-31",
    status: str = "active",
    grant_id: uuid.UUID | None = None,
) -> GrantChanged:
    return GrantChanged(
        grant_id=grant_id or uuid.uuid5(uuid.NAMESPACE_URL, f"{school}:{person}"),
        school_id=school,
        person_id=person,
        role=role,  # type: ignore[arg-type]
        pupil_ids=pupils,
        valid_from=date.fromisoformat(valid_from),
        valid_until=date.fromisoformat(valid_until),
        status=status,  # type: ignore[arg-type]
        version=version,
        changed_by="test",
    )


def issued(
    pupil: str,
    version: int = 1,
    valid_from: str = "2020-09-01",
    kind: str = "IAC",
    report_id: uuid.UUID | None = None,
    clb: str = "900001",
) -> ReportIssued:
    return ReportIssued(
        **_sequenced(ReportIssued, version),
        report_id=report_id or uuid.uuid4(),
        pupil_id=pupil,
        version=version,
        kind=kind,  # type: ignore[arg-type]
        clb_id=clb,
        issued_at=datetime(2020, 1, 1, tzinfo=UTC),
        valid_from=date.fromisoformat(valid_from),
    )


def withdrawn(
    pupil: str,
    report_id: uuid.UUID,
    version: int,
    on: str = "2021-01-01",
    of: ReportIssued | None = None,
) -> ReportWithdrawn:
    """A withdrawal; `of` the issue it lifts, whose fields it repeats as the reports service
    does (and whose version it then carries)."""
    extra: dict[str, Any] = _sequenced(ReportWithdrawn, version)
    if "withdrawn_on" in ReportWithdrawn.model_fields:
        extra["withdrawn_on"] = date.fromisoformat(on)
    if of is not None:
        version = of.version
        extra |= {k: getattr(of, k) for k in ("kind", "clb_id", "issued_at", "valid_from")}
    return ReportWithdrawn(
        **extra,
        report_id=report_id,
        pupil_id=pupil,
        version=version,
        withdrawn_at=datetime.fromisoformat(on + "T10:00:00+00:00"),
    )


def _sequenced(model: Any, sequence: int) -> dict[str, Any]:
    """The per-pupil change sequence, where the report contract carries one."""
    return {"sequence": sequence} if "sequence" in model.model_fields else {}


def topic_of(event: Any) -> str:
    from iris.contracts import ACCESS_GRANTS, ENROLMENT_CHANGES, REPORT_CHANGES

    if isinstance(event, EnrolmentChanged):
        return ENROLMENT_CHANGES.name
    if isinstance(event, GrantChanged):
        return ACCESS_GRANTS.name
    return REPORT_CHANGES.name


def key_of(event: Any) -> str:
    if isinstance(event, GrantChanged):
        return f"{event.school_id}:{event.person_id}"
    if isinstance(event, EnrolmentChanged):
        return f"{event.pupil_id}:{event.school_id}"
    return f"{event.pupil_id}:{event.version}"


class Publisher:
    def __init__(self, bootstrap: str) -> None:
        self.producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")

    def partition(self, topic: str, key: str) -> int | None:
        """Where the services' producers put the key (iris.kafka.partition_of)."""
        if topic not in PARTITIONED_BY_PUPIL:
            return None
        return pupil_partition(key, self.producer.partitions_for(topic))

    def publish(self, *events) -> None:
        for event in events:
            if isinstance(event, Forgotten):  # a tombstone: the key with no value
                partition = self.partition(event.topic, event.key)
                self.producer.send(
                    event.topic, key=event.key.encode(), value=None, partition=partition
                )
                continue
            topic = topic_of(event)
            self.producer.send(
                topic,
                key=key_of(event).encode(),
                partition=self.partition(topic, key_of(event)),
                value=event.to_json(),
                headers=[("event_type", event.type.encode())],
            )
        self.producer.flush()

    def close(self) -> None:
        self.producer.close()
