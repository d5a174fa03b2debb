"""The authorisation cache's key layout in Redis, and how a batch's rows fall into Redis
Cluster slots.

Key layout (`<b>` a bucket, see below; every key of one hash tag lives in one slot of a
Redis Cluster):

    iris:v4:{S}:enr:<b>           hash    pupil -> enrolment at S: "v|start|end|name"
    iris:v4:{S}:grant             hash    person -> grant at S:
                                          "v|id|role|from|until|status[|pupil pupil…]"
    iris:v4:{S}:rep               hash    pupil -> copy of the pupil's report state
    iris:v4:{p<b>}:pupils         hash    pupil -> schools where it has (had) an enrolment,
                                          "S1 S2", and "+" once it has a report state
    iris:v4:{p<b>}:reports        hash    pupil -> the pupil's report state {"i":[...], "w":[...]}
    iris:v4:{g<b>}:persons        hash    person -> schools where they hold (held) a grant
    iris:v4:{ctl}:ready           string  the ready marker {"offsets","rebuilt_at","redis_run_id"}
    iris:v4:{ctl}:live            string  the freshness lease (short TTL, renewed by a worker)
    iris:v4:{ctl}:rebuilding      string  the lease of the one rebuild in progress (token, TTL)

School ids are institution numbers (digits), so `{S}` never meets `{p…}`, `{g…}` or `{ctl}`.
`<b>` is a bucket: CRC-32 of the pupil's or person's id modulo the bucket count. Buckets
keep each hash small enough for Redis's compact listpack encoding (up to 128 short
entries by default), which is what keeps the whole of Flanders near 128 MiB: a
key per pupil would cost about 250 bytes, a field in a small hash about 25, and the values
are written short (`encoding.py`) so that most hashes stay compact. A school's
enrolments are spread over ENROLMENT_BUCKETS hashes (a school of 2,000 pupils stays
compact); the pupil and person indexes over PUPIL_BUCKETS and PERSON_BUCKETS. A pupil's
report state shares its index bucket's tag, so a report event touches one slot until
it is copied to the pupil's schools.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from redis.crc import key_slot

from services.viewer.encoding import PERSON_BUCKETS, PUPIL_BUCKETS, bucket

PREFIX = "iris:v4:"
OLDER_PREFIXES = ("iris:v3:", "iris:v2:", "iris:v1:")
OLDER_READY_KEYS = ("iris:v3:{ctl}:ready", "iris:v2:ready", "iris:v1:ready")
READY_KEY = PREFIX + "{ctl}:ready"
LIVE_KEY = PREFIX + "{ctl}:live"
REBUILDING_KEY = PREFIX + "{ctl}:rebuilding"
HAS_REPORT = "+"  # in a pupil's index entry: the pupil has a report state


def school_key(school_id: str, part: str) -> str:
    return f"{PREFIX}{{{school_id}}}:{part}"


def pupil_index_key(pupil_id: str) -> str:
    return f"{PREFIX}{{p{bucket(pupil_id, PUPIL_BUCKETS)}}}:pupils"


def reports_key(pupil_id: str) -> str:
    """The hash that holds the pupil's report state (the pupil is its field)."""
    return f"{PREFIX}{{p{bucket(pupil_id, PUPIL_BUCKETS)}}}:reports"


def person_index_key(person_id: str) -> str:
    return f"{PREFIX}{{g{bucket(person_id, PERSON_BUCKETS)}}}:persons"


def slot_anchor(tag: str) -> tuple[int, str]:
    """The cluster slot of a hash tag, and a key name in that slot to route a script by."""
    return key_slot(f"{{{tag}}}".encode()), f"{PREFIX}{{{tag}}}"


def cluster_rounds(rows: list[list[Any]]) -> tuple[dict[int, list[Any]], dict[int, list[Any]]]:
    """The rows of a batch by slot: the index round's and the school round's (the report
    copies the index round returns join the school round)."""
    index: dict[int, list[Any]] = defaultdict(list)
    school: dict[int, list[Any]] = defaultdict(list)
    for row in rows:
        op = row[0]
        # "E-", "G-", "R-": a tombstone forgets what the plain operation stored
        if op in ("E", "E-"):
            index[slot_anchor(f"p{row[5]}")[0]].append(row)
            school[slot_anchor(row[2])[0]].append(row)
        elif op in ("G", "G-"):
            index[slot_anchor(f"g{row[5]}")[0]].append(row)
            school[slot_anchor(row[2])[0]].append(row)
        elif op in ("R", "R-"):
            index[slot_anchor(f"p{row[3]}")[0]].append(row)
    return index, school


def anchor_of(row: list[Any], round_name: str) -> str:
    op = row[0]
    if round_name == "school":
        return slot_anchor(row[2])[1]
    tag = f"g{row[5]}" if op in ("G", "G-") else f"p{row[5] if op in ('E', 'E-') else row[3]}"
    return slot_anchor(tag)[1]
