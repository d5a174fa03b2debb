"""How the viewer's cache writes its values and batches: a compact text per enrolment,
grant and report state, and the rows `lua/fold.lua` takes (docs/viewer.md)."""

from __future__ import annotations

import base64
import functools
import json
import uuid
import zlib
from datetime import date
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


# Values are written as small as they can be read back, so that the whole of Flanders
# stays within 128 MiB (docs/viewer.md, "Redis keys"): dates as four base-36 digits, ids
# (UUIDs) as 22 characters of URL-safe base64, enrolments and grants as fields joined by
# "|", report versions as JSON arrays.

_EPOCH = date(1900, 1, 1).toordinal()
_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"
_LAST = 36**4 - 1  # "zzzz": the year 6498 or later, read back as 9999-12-31 (open-ended)


@functools.lru_cache(maxsize=65536)  # a data set has a few thousand distinct dates
def day(iso: str) -> str:
    """A date as the cache writes it: its days since 1900-01-01 in four base-36 digits,
    which compare as text in date order. A date before 1900 is written as 1900-01-01 and
    one after 6497 as "zzzz", which compare the same with any day a check asks about."""
    n = min(max(0, date.fromisoformat(iso).toordinal() - _EPOCH), _LAST)
    out = ""
    for _ in range(4):
        n, digit = divmod(n, 36)
        out = _DIGITS[digit] + out
    return out


def iso_day(compact: str) -> str:
    n = int(compact, 36)
    return date.max.isoformat() if n == _LAST else date.fromordinal(_EPOCH + n).isoformat()


def short_id(identifier: str) -> str:
    return base64.urlsafe_b64encode(uuid.UUID(identifier).bytes).rstrip(b"=").decode()


def long_id(short: str) -> str:
    return str(uuid.UUID(bytes=base64.urlsafe_b64decode(short + "==")))


def encode_enrolment(e: domain.Enrolment) -> str:
    """`version|start|end|display name`, end and name empty when absent."""
    end = day(e.end_date) if e.end_date is not None else ""
    return f"{e.version}|{day(e.start_date)}|{end}|{e.display_name or ''}"


def decode_enrolment(raw: str | bytes) -> domain.Enrolment:
    version, start, end, name = text_of(raw).split("|", 3)
    return domain.Enrolment(
        iso_day(start), iso_day(end) if end else None, name or None, int(version)
    )


def encode_grant(g: domain.CachedGrant) -> str:
    """`version|id|role|from|until|status`, and `|pupil pupil …` for a grant limited to
    pupils (none: the whole school)."""
    value = (
        f"{g.version}|{short_id(g.grant_id)}|{g.role}|{day(g.valid_from)}|{day(g.valid_until)}"
        f"|{g.status}"
    )
    return value if g.pupil_ids is None else f"{value}|{' '.join(g.pupil_ids)}"


def decode_grant(raw: str | bytes) -> domain.CachedGrant:
    version, grant_id, role, valid_from, valid_until, status, *pupils = text_of(raw).split("|")
    return domain.CachedGrant(
        long_id(grant_id),
        role,
        tuple(pupils[0].split()) if pupils else None,
        iso_day(valid_from),
        iso_day(valid_until),
        status,
        int(version),
    )


def encode_issued(i: domain.IssuedVersion) -> list[Any]:
    return [i.version, short_id(i.report_id), i.kind, day(i.valid_from), i.clb_id]


def decode_issued(v: list[Any]) -> domain.IssuedVersion:
    return domain.IssuedVersion(int(v[0]), long_id(v[1]), v[2], iso_day(v[3]), v[4])


def encode_report(state: domain.ReportState) -> str:
    """`{"i": [[version, id, kind, valid from, clb], …], "w": [[version, id, withdrawn on],
    …]}`, newest first, an empty list left out."""
    value: dict[str, Any] = {}
    if state.issued:
        value["i"] = [encode_issued(i) for i in state.issued]
    if state.withdrawn:
        value["w"] = [
            [w.version, short_id(w.report_id), day(w.withdrawn_on)] for w in state.withdrawn
        ]
    return _compact(value)


def decode_report(raw: str | bytes) -> domain.ReportState:
    v = json.loads(raw)
    issued = v.get("i") or []
    withdrawn = v.get("w") or []
    return domain.ReportState(
        tuple(decode_issued(i) for i in issued if isinstance(i, list)),
        tuple(
            domain.Withdrawal(int(w[0]), long_id(w[1]), iso_day(w[2]))
            for w in withdrawn
            if isinstance(w, list)
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
