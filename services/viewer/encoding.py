"""How the viewer's cache writes its values and batches: compact JSON per enrolment,
grant and report state, and the rows `lua/fold.lua` takes (docs/viewer.md)."""

from __future__ import annotations

import json
import zlib
from typing import Any

import orjson

from iris import contracts
from services.viewer import domain

ENROLMENT_BUCKETS = 16
PUPIL_BUCKETS = 16384
PERSON_BUCKETS = 4096


def bucket(identifier: str, buckets: int) -> int:
    return zlib.crc32(identifier.encode()) % buckets


def _compact(value: Any) -> str:
    return orjson.dumps(value).decode()


def encode_enrolment(e: domain.Enrolment) -> str:
    value: dict[str, Any] = {"v": e.version, "s": e.start_date}
    if e.end_date is not None:
        value["e"] = e.end_date
    if e.display_name is not None:
        value["n"] = e.display_name
    return _compact(value)


def decode_enrolment(raw: str | bytes) -> domain.Enrolment:
    v = json.loads(raw)
    return domain.Enrolment(v["s"], v.get("e"), v.get("n"), int(v["v"]))


def encode_grant(g: domain.CachedGrant) -> str:
    value: dict[str, Any] = {
        "v": g.version,
        "id": g.grant_id,
        "r": g.role,
        "f": g.valid_from,
        "u": g.valid_until,
        "st": g.status,
    }
    if g.pupil_ids is not None:
        value["p"] = list(g.pupil_ids)
    return _compact(value)


def decode_grant(raw: str | bytes) -> domain.CachedGrant:
    v = json.loads(raw)
    pupils = v.get("p")
    return domain.CachedGrant(
        v["id"],
        v["r"],
        tuple(pupils) if isinstance(pupils, list | dict) else None,
        v["f"],
        v["u"],
        v["st"],
        int(v["v"]),
    )


def encode_issued(i: domain.IssuedVersion) -> dict[str, Any]:
    return {
        "v": i.version,
        "id": i.report_id,
        "k": i.kind,
        "f": i.valid_from,
        "c": i.clb_id,
        "t": i.issued_at,
    }


def decode_issued(v: dict[str, Any]) -> domain.IssuedVersion:
    return domain.IssuedVersion(int(v["v"]), v["id"], v["k"], v["f"], v["c"], v["t"])


def encode_report(state: domain.ReportState) -> str:
    return _compact(
        {
            "i": [encode_issued(i) for i in state.issued],
            "w": [
                {"v": w.version, "id": w.report_id, "d": w.withdrawn_on} for w in state.withdrawn
            ],
        }
    )


def decode_report(raw: str | bytes) -> domain.ReportState:
    v = json.loads(raw)
    issued = v.get("i") or []
    withdrawn = v.get("w") or []
    return domain.ReportState(
        tuple(decode_issued(i) for i in issued if isinstance(i, dict)),
        tuple(
            domain.Withdrawal(int(w["v"]), w["id"], w["d"])
            for w in withdrawn
            if isinstance(w, dict)
        ),
    )


def text_of(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def fold_rows(events: list[Any]) -> list[list[Any]]:
    """The FOLD script's rows for a batch of parsed change events."""
    rows: list[list[Any]] = []
    crc32 = zlib.crc32
    for event in events:
        if isinstance(event, contracts.Forgotten):
            # shaped like the rows they undo, so that they reach the same slots
            first, second = event.pair
            if event.topic == contracts.REPORT_CHANGES.name:
                rows.append(["R-", first, int(second or 0), bucket(first, PUPIL_BUCKETS)])
            elif event.topic == contracts.ENROLMENT_CHANGES.name:
                code = crc32(first.encode())
                rows.append(
                    ["E-", first, second, 0, "", code % PUPIL_BUCKETS, code % ENROLMENT_BUCKETS]
                )
            else:
                rows.append(["G-", second, first, 0, "", bucket(second, PERSON_BUCKETS)])
        elif isinstance(event, contracts.EnrolmentChanged):
            pupil = event.pupil_id
            code = crc32(pupil.encode())
            rows.append(
                [
                    "E",
                    pupil,
                    event.school_id,
                    event.version,
                    encode_enrolment(domain.enrolment_of(event)),
                    code % PUPIL_BUCKETS,
                    code % ENROLMENT_BUCKETS,
                ]
            )
        elif isinstance(event, contracts.GrantChanged):
            rows.append(
                [
                    "G",
                    event.person_id,
                    event.school_id,
                    event.version,
                    encode_grant(domain.grant_of(event)),
                    bucket(event.person_id, PERSON_BUCKETS),
                ]
            )
        elif isinstance(event, contracts.ReportIssued | contracts.ReportWithdrawn):
            if isinstance(event, contracts.ReportIssued):
                state = domain.ReportState(issued=(domain.issued_of(event),))
            else:
                repeated = domain.issued_of_withdrawn(event)
                state = domain.ReportState(
                    issued=(repeated,) if repeated else (),
                    withdrawn=(domain.withdrawal_of(event),),
                )
            rows.append(
                ["R", event.pupil_id, encode_report(state), bucket(event.pupil_id, PUPIL_BUCKETS)]
            )
    return rows
