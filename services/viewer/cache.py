"""The authorisation cache in Redis: how change events fold into it (one Lua script per
batch, `lua/fold.lua`) and how one check reads it (one script call, `lua/check.lua`).
The keys are laid out as `layout.py` describes.

A report state is {"i": issued versions newest first, each [version, id, kind, valid from,
clb], "w": withdrawals newest first, each [version, id, withdrawn on]}; at most
REPORT_VERSIONS_KEPT each (`encoding.py` writes every value).
A report event merges into the pupil's own state and then copies it to every school
in the pupil's index entry; an enrolment event adds the school to that entry and copies
the pupil's state to the school.

Single node (or Sentinel): each batch is one script call (mode `all`), which Redis
applies atomically, and a check is one call that also reads the ready marker and the
freshness lease. Redis Cluster: a batch is folded in two rounds of one script call per
slot, pipelined per node: first the index slots (index entries and report states;
they return the report copies owed to schools), then the school slots (enrolments,
grants, and the copies merged in, never overwritten, since copies may now arrive in any
order). Every step is idempotent and order-independent, so a batch retried after a
failure between the rounds converges. A check that names its school is one call in the
school's slot; the marker and the lease (slot `{ctl}`) are read at most once a second
per process and trusted only until the lease's own expiry. A check without a school
first reads the person's index entry (one more round trip), then checks each of the
person's schools in parallel.

The layout is versioned by its prefix. The cache is derived from the topics, so a new
layout is simply rebuilt; the rebuild removes the keys of older layouts, their ready
marker first, so that a viewer still reading an older layout denies instead of
trusting a cache nobody updates.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

import orjson
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import NoScriptError

from iris.logs import Throttled
from services.viewer import domain
from services.viewer.encoding import (
    ENROLMENT_BUCKETS,
    PERSON_BUCKETS,
    bucket,
    day,
    decode_enrolment,
    decode_grant,
    decode_issued,
    decode_report,
    fold_rows,
    text_of,
)
from services.viewer.layout import (
    HAS_REPORT,
    LIVE_KEY,
    OLDER_PREFIXES,
    OLDER_READY_KEYS,
    PREFIX,
    READY_KEY,
    REBUILDING_KEY,
    anchor_of,
    cluster_rounds,
    person_index_key,
    pupil_index_key,
    school_key,
    slot_anchor,
)
from services.viewer.scripts import Script, connect

log = logging.getLogger(__name__)
# A lapsed lease or an unreachable Redis denies every check: the route logs each denial at
# INFO and counts it; the cache warns once per reason every ten seconds.
denied = Throttled(log)

# On a cluster, how long a process trusts what it read of the lease before reading again
# (never past the lease's own expiry).
LEASE_REREAD_SECONDS = 1.0


def stage_table() -> str:
    """check.lua's `STAGE` table: each denial of `domain.Denial` numbered in its order from
    1, and ALLOWED after them, so that a higher number is a check that got further."""
    numbers = {denial.name: n for n, denial in enumerate(domain.Denial, start=1)}
    numbers["ALLOWED"] = len(numbers) + 1
    return "local STAGE = {" + ", ".join(f"{k} = {v}" for k, v in numbers.items()) + "}\n"


def denial_numbered(number: int) -> str:
    """The reason of check.lua's stage `number` (see `stage_table`)."""
    return list(domain.Denial)[number - 1].value


FOLD = Script.load("fold")
CHECK = Script.load("check", prelude=stage_table())
LISTING = Script.load("listing")
FINISH_REBUILD = Script.load("finish_rebuild", with_lib=False)
REBUILD_LEASE = Script.load("rebuild_lease", with_lib=False)
BASE_ARGS = [PREFIX, domain.REPORT_VERSIONS_KEPT]


# -- the cache ------------------------------------------------------------------------------


class AuthCache:
    """Folds change events into Redis and answers checks from it; fails closed."""

    def __init__(self, client: Any, cluster: bool | None = None) -> None:
        self.client = client
        self.cluster = isinstance(client, RedisCluster) if cluster is None else cluster
        self._lease_until = 0.0  # cluster: the lease is known to hold until then (monotonic)

    @classmethod
    def from_url(cls, url: str) -> AuthCache:
        client, cluster = connect(url)
        return cls(client, cluster)

    async def close(self) -> None:
        await self.client.aclose()

    # folding

    async def fold(self, events: list[Any]) -> None:
        """Apply a batch of parsed change events (any order, duplicates allowed): one script
        call, atomic, on one node; two rounds of one call per slot on a cluster."""
        await self.apply(fold_rows(events))

    async def apply(self, rows: list[list[Any]]) -> None:
        """Fold the rows `encoding.fold_rows` wrote for a batch of events."""
        if not rows:
            return
        if not self.cluster:
            await FOLD(self.client, [], [*BASE_ARGS, "all", orjson.dumps(rows)])
            return
        index, school = cluster_rounds(rows)
        for answer in await self._per_slot("index", index):
            for copy in orjson.loads(answer):
                school[slot_anchor(copy[2])[0]].append(copy)
        await self._per_slot("school", school)

    async def _per_slot(self, mode: str, groups: dict[int, list[Any]]) -> list[Any]:
        """One FOLD call per slot, pipelined (redis-py sends each node its share at once)."""
        if not groups:
            return []
        for attempt in (1, 2):
            pipe = self.client.pipeline()
            for rows in groups.values():
                anchor = anchor_of(rows[0], mode)
                pipe.execute_command(
                    "EVALSHA", FOLD.sha, 1, anchor, *BASE_ARGS, mode, orjson.dumps(rows)
                )
            try:
                return list(await pipe.execute())
            except NoScriptError:
                if attempt == 2:
                    raise
                await self.client.script_load(FOLD.text)  # every master, e.g. after fail-over
        return []

    async def _read_lease(self) -> tuple[str | None, float]:
        """Why checks are denied (None: they may allow), and for how many more seconds the
        freshness lease holds."""
        pipe = self.client.pipeline(transaction=False)
        pipe.exists(READY_KEY)
        pipe.pttl(LIVE_KEY)
        built, live_ms = await pipe.execute()
        if not built:
            return domain.CACHE_NOT_READY, 0.0
        if live_ms == -2 or live_ms == 0:  # missing (or expiring now)
            return domain.CACHE_NOT_CURRENT, 0.0
        return None, LEASE_REREAD_SECONDS if live_ms < 0 else live_ms / 1000

    async def readiness(self) -> str | None:
        """None while the cache is built and current, else why checks are denied."""
        return (await self._read_lease())[0]

    async def is_ready(self) -> bool:
        return await self.readiness() is None

    async def _cluster_readiness(self) -> str | None:
        """On a cluster: the marker and the lease, read again once what was read expires;
        counted from before the read, so never trusted past the lease's own expiry."""
        sent = time.monotonic()
        if sent < self._lease_until:
            return None
        reason, seconds = await self._read_lease()
        self._lease_until = 0.0 if reason else sent + min(seconds, LEASE_REREAD_SECONDS)
        return reason

    async def renew_live(self, seconds: float, owner: str) -> None:
        """Extend the freshness lease: checks allow for `seconds` more at most."""
        await self.client.set(LIVE_KEY, owner, px=max(1, int(seconds * 1000)))

    async def ready_marker(self) -> dict[str, Any] | None:
        raw = await self.client.get(READY_KEY)
        return json.loads(raw) if raw else None

    async def redis_run_id(self) -> str:
        """The id of the running Redis process (on a cluster, of every master): it changes
        whenever Redis restarts or a replica takes over."""
        if not self.cluster:
            info = await self.client.info("server")
            return str(info["run_id"])
        found = await self.client.info("server", target_nodes=RedisCluster.PRIMARIES)
        infos = found.values() if isinstance(found, dict) and "run_id" not in found else [found]
        return ",".join(sorted(str(i["run_id"]) for i in infos))

    async def unmark_ready(self) -> None:
        await self.client.delete(READY_KEY)

    async def drop_older_layouts(self) -> int:
        """Remove the keys of older layouts, their ready markers first; returns how many
        keys went."""
        dropped = 0
        for key in OLDER_READY_KEYS:
            dropped += await self.client.delete(key)
        for prefix in OLDER_PREFIXES:
            batch: list[Any] = []
            async for found in self.client.scan_iter(match=prefix + "*", count=5000):
                batch.append(found)
                if len(batch) >= 5000:
                    dropped += await self.client.unlink(*batch)
                    batch = []
            if batch:
                dropped += await self.client.unlink(*batch)
        return dropped

    async def claim_rebuild(self, token: str, seconds: float, if_missing: bool = False) -> bool:
        """Take the rebuilding lease unless another rebuild holds it (one rebuild at a time)
        or, with `if_missing`, the ready marker has appeared meanwhile."""
        claimed = await REBUILD_LEASE(
            self.client,
            [REBUILDING_KEY, READY_KEY],
            [token, "claim", int(seconds * 1000), "1" if if_missing else "0"],
        )
        return bool(claimed)

    async def hold_rebuild(self, token: str, seconds: float) -> bool:
        """Extend the lease; False when it is no longer ours (expired, or Redis flushed)."""
        held = await REBUILD_LEASE(
            self.client, [REBUILDING_KEY, READY_KEY], [token, "hold", int(seconds * 1000)]
        )
        return bool(held)

    async def release_rebuild(self, token: str) -> None:
        await REBUILD_LEASE(self.client, [REBUILDING_KEY, READY_KEY], [token, "release"])

    async def finish_rebuild(self, token: str, marker: dict[str, Any]) -> bool:
        done = await FINISH_REBUILD(
            self.client, [REBUILDING_KEY, READY_KEY], [token, json.dumps(marker)]
        )
        return bool(done)

    # reading

    async def check(
        self, person_id: str, pupil_id: str, today: str, school_id: str | None = None
    ) -> domain.Decision:
        """One script call (on a cluster without a school: the person's index entry first);
        any Redis problem denies with the reason."""
        try:
            if not self.cluster:
                return self._decision(await self._check_at(person_id, pupil_id, today, school_id))
            reason = await self._cluster_readiness()
            if reason is not None:
                denied.warning("check denied", reason)
                return domain.Decision(False, reason)
            if school_id is not None:
                schools = [school_id]
            else:
                schools = sorted(await self.schools_of_person(person_id, ready=True))
            answers = await asyncio.gather(
                *(self._check_at(person_id, pupil_id, today, s) for s in schools)
            )
        except Exception as exc:
            reason = f"authorisation cache unavailable: {type(exc).__name__}"
            denied.warning("check denied, cache unavailable", reason, error=repr(exc))
            return domain.Decision(False, reason)
        return best_of([self._decision(a) for a in answers])

    async def _check_at(
        self, person_id: str, pupil_id: str, today: str, school_id: str | None
    ) -> list[Any]:
        anchor = school_key(school_id, "grant") if self.cluster and school_id else READY_KEY
        args = [
            "0" if self.cluster else "1",
            person_id,
            pupil_id,
            day(today),
            school_id or "",
            bucket(pupil_id, ENROLMENT_BUCKETS),
            bucket(person_id, PERSON_BUCKETS),
        ]
        answer: list[Any] = await CHECK(self.client, [anchor], [*BASE_ARGS, *args])
        return answer

    @staticmethod
    def _decision(answer: list[Any]) -> domain.Decision:
        allowed, code, school, role = (text_of(a) for a in answer[:4])
        if allowed == "1":
            report = decode_issued(json.loads(text_of(answer[4])))
            return domain.Decision(True, None, school, role, report)
        if code == "NOT_READY":
            return domain.Decision(False, domain.CACHE_NOT_READY)
        if code == "NOT_CURRENT":
            denied.warning("check denied", domain.CACHE_NOT_CURRENT)
            return domain.Decision(False, domain.CACHE_NOT_CURRENT)
        return domain.Decision(False, denial_numbered(int(code)), school or None, role or None)

    async def school_listing(
        self, school_id: str, person_id: str | None
    ) -> tuple[
        dict[str, domain.Enrolment], dict[str, domain.ReportState], domain.CachedGrant | None
    ]:
        """The enrolments of the pupils with a report copy at one school, those copies and
        the person's grant there, in one round trip.
        Raises CacheNotReady when the marker is missing or the lease has lapsed."""
        if self.cluster:
            await self._require_ready()
        answer = await LISTING(
            self.client,
            [school_key(school_id, "rep") if self.cluster else READY_KEY],
            [
                *BASE_ARGS,
                "0" if self.cluster else "1",
                person_id or "",
                school_id,
                ENROLMENT_BUCKETS,
            ],
        )
        if int(answer[0]) == 0:
            raise CacheNotReady(domain.CACHE_NOT_READY)
        if int(answer[0]) == 2:
            raise CacheNotReady(domain.CACHE_NOT_CURRENT)
        enr_flat, rep_flat, grant_raw = answer[1], answer[2], answer[3]
        enrolments = {
            text_of(enr_flat[n]): decode_enrolment(enr_flat[n + 1])
            for n in range(0, len(enr_flat), 2)
        }
        reports = {
            text_of(rep_flat[n]): decode_report(rep_flat[n + 1]) for n in range(0, len(rep_flat), 2)
        }
        grant = decode_grant(grant_raw) if grant_raw else None
        return enrolments, reports, grant

    async def _require_ready(self) -> None:
        reason = await (self._cluster_readiness() if self.cluster else self.readiness())
        if reason is not None:
            raise CacheNotReady(reason)

    async def schools_of_pupil(self, pupil_id: str) -> set[str]:
        await self._require_ready()
        schools = await self.client.hget(pupil_index_key(pupil_id), pupil_id)
        return set(text_of(schools).split()) - {HAS_REPORT} if schools else set()

    async def registered_name(self, pupil_id: str, school_id: str) -> str | None:
        """The pupil's name as the school registered it (one read in the school's slot)."""
        part = f"enr:{bucket(pupil_id, ENROLMENT_BUCKETS)}"
        raw = await self.client.hget(school_key(school_id, part), pupil_id)
        return decode_enrolment(raw).display_name if raw else None

    async def with_report(self, pupil_ids: list[str]) -> set[str]:
        """Which of these pupils have a report (the mark in the pupil index)."""
        async with self.client.pipeline(transaction=False) as pipe:
            for pupil_id in pupil_ids:
                pipe.hget(pupil_index_key(pupil_id), pupil_id)
            found = await pipe.execute()
        return {
            pupil_id
            for pupil_id, schools in zip(pupil_ids, found, strict=True)
            if schools and HAS_REPORT in text_of(schools).split()
        }

    async def schools_of_person(self, person_id: str, ready: bool = False) -> set[str]:
        """The schools where the person holds (or held) a grant (`ready`: the caller has
        just made sure the cache is ready)."""
        if not ready:
            await self._require_ready()
        schools = await self.client.hget(person_index_key(person_id), person_id)
        return set(text_of(schools).split()) if schools else set()


def best_of(decisions: list[domain.Decision]) -> domain.Decision:
    """The decision over a person's schools, checked each on its own, in school-id order:
    the first that allows, else the denial of the school that got furthest."""
    best = domain.Decision(False, domain.NO_GRANT)
    rank = domain.STAGES.index
    for decision in decisions:
        if decision.allowed:
            return decision
        if decision.reason not in domain.STAGES:
            return decision  # not ready, not current: the same for every school
        if rank(decision.reason) > rank(best.reason or domain.NO_GRANT):
            best = decision
    return best


class CacheNotReady(RuntimeError):
    """The ready marker is missing (the cache is being rebuilt) or the freshness lease has
    lapsed (the cache may be behind the topics)."""
