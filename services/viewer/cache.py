"""The authorisation cache in Redis: how change events fold into it (one Lua script per
batch, atomic, version-checked) and how one check reads it (one EVALSHA).

Key layout (everything a check at school S reads carries the hash tag `{S}`):

    iris:v2:{S}:enr:<b>         hash    pupil -> enrolment at S  {"v","s","e"?,"n"?}
    iris:v2:{S}:grant           hash    person -> grant at S     {"v","id","r","p"?,"f","u","st"}
    iris:v2:{S}:rep             hash    pupil -> copy of the pupil's report state
    iris:v2:{P}:report          string  the pupil's report state {"i":[...], "w":[...]}
    iris:v2:pupils:<b>          hash    pupil -> schools where it has (had) an enrolment, "S1 S2",
                                        and "+" once it has a report state
    iris:v2:persons:<b>         hash    person -> schools where they hold (held) a grant, "S1 S2"
    iris:v2:ready               string  the ready marker: {"offsets", "rebuilt_at", "redis_run_id"}
    iris:v2:live                string  the freshness lease (short TTL, renewed by a healthy worker)
    iris:v2:rebuilding          string  the lease of the one rebuild in progress: its token, a TTL

`<b>` is a bucket: CRC-32 of the pupil's or person's id modulo the bucket count. Buckets
keep each hash small enough for Redis's compact listpack encoding (up to 128 short
entries by default), which is what keeps the whole of Flanders in a few hundred MB: a
key per pupil would cost about 250 bytes, a field in a small hash about 25. A school's
enrolments are spread over ENROLMENT_BUCKETS hashes (a school of 2,000 pupils stays
compact); the pupil and person indexes over PUPIL_BUCKETS and PERSON_BUCKETS.

A report state is {"i": issued versions newest first, each {"v","id","k","f","c","t"},
"w": withdrawals newest first, each {"v","id","d"}}; at most REPORT_VERSIONS_KEPT each.
A report event merges into the pupil's own state and then copies it to every school
in the pupil's index entry; an enrolment event adds the school to that entry and copies
the pupil's state to the school. Each batch is one script, so Redis applies it
atomically: a report and an enrolment folded by different workers cannot leave a school
without the report, whatever their order.

Round trips: a check that names its school (the web routes' `?school_id=`, and the
school-scoped listing) reads only `{S}` keys besides the ready marker. A check without
a school reads the person's index entry inside the same script. Both are one EVALSHA on
single-node Redis. On Redis Cluster the scripts would have to be split: the ready
marker and the indexes live in other slots, so the school-less check there takes two
round trips (index and marker, then the school script per slot); this module targets
single-node Redis (the deployment's and the embedded one).

The layout is versioned by its prefix. The cache is derived from the topics, so a new
layout is simply rebuilt; the rebuild removes the keys of older layouts, their ready
marker first, so that a viewer still reading an older layout denies instead of
trusting a cache nobody updates.
"""

from __future__ import annotations

import json
import logging
import zlib
from typing import Any

import orjson
import redis.asyncio as aioredis

from services.viewer import domain

log = logging.getLogger(__name__)

PREFIX = "iris:v2:"
OLDER_PREFIXES = ("iris:v1:",)
READY_KEY = PREFIX + "ready"
LIVE_KEY = PREFIX + "live"
REBUILDING_KEY = PREFIX + "rebuilding"
HAS_REPORT = "+"  # in a pupil's index entry: {P}:report exists
ENROLMENT_BUCKETS = 16
PUPIL_BUCKETS = 16384
PERSON_BUCKETS = 4096


def bucket(identifier: str, buckets: int) -> int:
    return zlib.crc32(identifier.encode()) % buckets


def school_key(school_id: str, part: str) -> str:
    return f"{PREFIX}{{{school_id}}}:{part}"


def pupil_index_key(pupil_id: str) -> str:
    return f"{PREFIX}pupils:{bucket(pupil_id, PUPIL_BUCKETS)}"


def person_index_key(person_id: str) -> str:
    return f"{PREFIX}persons:{bucket(person_id, PERSON_BUCKETS)}"


_LUA_REPORT = """
local function newest(a, b)
  local byv, out = {}, {}
  for _, x in ipairs(a) do byv[x.v] = x end
  for _, x in ipairs(b) do if byv[x.v] == nil then byv[x.v] = x end end
  for _, x in pairs(byv) do table.insert(out, x) end
  table.sort(out, function(p, q) return p.v > q.v end)
  while #out > KEPT do table.remove(out) end
  return out
end
local function list(t, name)
  local v = t[name]
  if type(v) ~= 'table' then return {} end
  return v
end
local function current(st, today)
  local w = {}
  for _, x in ipairs(list(st, 'w')) do w[x.id] = x.d end
  for _, x in ipairs(list(st, 'i')) do
    if x.f <= today then
      local d = w[x.id]
      if d and d < x.f then
        -- withdrawn before it took effect: never current
      elseif d then
        return nil
      else
        return x
      end
    end
  end
  return nil
end
local function schools_in(entry)
  local out = {}
  if entry then
    for s in string.gmatch(entry, '[^ ]+') do
      if s ~= '+' then table.insert(out, s) end
    end
  end
  return out
end
local function key(s, part) return 'PREFIX{' .. s .. '}:' .. part end
""".replace("KEPT", str(domain.REPORT_VERSIONS_KEPT)).replace("PREFIX", PREFIX)

# ARGV[1]: a JSON array with one row per event; no KEYS (single-node Redis, see the
# module docstring). The whole batch applies atomically.
#   ["E", pupil, school, version, enrolment, pupil index bucket, enrolment bucket]
#   ["G", person, school, version, grant, person index bucket]
#   ["R", pupil, report state to merge in, pupil index bucket]
# Returns the number of rows applied.
FOLD = (
    _LUA_REPORT
    + """
local function add_school(index, id, school)
  -- returns the entry as it is afterwards; one call when the id is new
  if redis.call('HSETNX', index, id, school) == 1 then return school end
  local held = redis.call('HGET', index, id)
  for s in string.gmatch(held, '[^ ]+') do
    if s == school then return held end
  end
  held = held .. ' ' .. school
  redis.call('HSET', index, id, held)
  return held
end
local function newer(hash, field, version, value)
  if redis.call('HSETNX', hash, field, value) == 1 then return end
  local held = redis.call('HGET', hash, field)
  if cjson.decode(held)['v'] >= version then return end
  redis.call('HSET', hash, field, value)
end
local n = 0
for _, row in ipairs(cjson.decode(ARGV[1])) do
  local op = row[1]
  if op == 'E' then
    local pupil, school = row[2], row[3]
    local entry = add_school('PREFIXpupils:' .. row[6], pupil, school)
    newer(key(school, 'enr:' .. row[7]), pupil, row[4], row[5])
    if string.find(entry, '+', 1, true) then
      local state = redis.call('GET', 'PREFIX{' .. pupil .. '}:report')
      if state then redis.call('HSET', key(school, 'rep'), pupil, state) end
    end
  elseif op == 'G' then
    local person, school = row[2], row[3]
    newer(key(school, 'grant'), person, row[4], row[5])
    add_school('PREFIXpersons:' .. row[6], person, school)
  elseif op == 'R' then
    local pupil = row[2]
    local own = 'PREFIX{' .. pupil .. '}:report'
    local held = redis.call('GET', own)
    local a = {}
    if held then a = cjson.decode(held) end
    local b = cjson.decode(row[3])
    local merged = cjson.encode({
      i = newest(list(a, 'i'), list(b, 'i')), w = newest(list(a, 'w'), list(b, 'w'))
    })
    redis.call('SET', own, merged)
    for _, s in ipairs(schools_in(add_school('PREFIXpupils:' .. row[4], pupil, '+'))) do
      redis.call('HSET', key(s, 'rep'), pupil, merged)
    end
  end
  n = n + 1
end
return n
""".replace("PREFIX", PREFIX)
)

# KEYS[1] the ready marker, KEYS[2] the person's index hash, KEYS[3] the freshness lease.
# ARGV person, pupil, today (YYYY-MM-DD), school ('' = every school of the person),
# the pupil's enrolment bucket.
# Returns {1, '', school, role, current version json} or {0, reason, school, role}.
# The same decision as domain.may_view.
CHECK = (
    _LUA_REPORT
    + """
if redis.call('EXISTS', KEYS[1]) == 0 then
  return {0, 'NOT_READY', '', ''}
end
if redis.call('EXISTS', KEYS[3]) == 0 then
  return {0, 'NOT_CURRENT', '', ''}
end
local person, pupil, today, school, b = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local function stage(s)
  local graw = redis.call('HGET', key(s, 'grant'), person)
  if not graw then return 1 end
  local g = cjson.decode(graw)
  if g.st ~= 'active' or g.f > today or today > g.u then return 2, g.r end
  if type(g.p) == 'table' then
    local found = false
    for _, x in ipairs(g.p) do if x == pupil then found = true end end
    if not found then return 3, g.r end
  end
  local eraw = redis.call('HGET', key(s, 'enr:' .. b), pupil)
  if not eraw then return 4, g.r end
  local e = cjson.decode(eraw)
  if e.s > today or (type(e.e) == 'string' and today > e.e) then return 4, g.r end
  local rraw = redis.call('HGET', key(s, 'rep'), pupil)
  if not rraw then return 5, g.r end
  local cur = current(cjson.decode(rraw), today)
  if not cur then return 5, g.r end
  return 6, g.r, cjson.encode(cur)
end
local schools
if school ~= '' then
  schools = {school}
else
  schools = schools_in(redis.call('HGET', KEYS[2], person))
  table.sort(schools)
end
local best, best_school, best_role = 1, '', ''
for _, s in ipairs(schools) do
  local st, role, rep = stage(s)
  if st == 6 then return {1, '', s, role, rep} end
  if st > best then best, best_school, best_role = st, s, role end
end
return {0, tostring(best), best_school, best_role}
"""
)

# KEYS[1] ready marker, KEYS[2..3] {S}:rep, {S}:grant, KEYS[4] the freshness lease;
# ARGV[1] person ('' = none), ARGV[2] the school. Returns {1 (or 0 not ready, 2 not
# current), enrolments (flat) of the pupils with a report copy
# at S, report copies (flat), grant or ''}. Pupils without a report there are left in
# Redis: nothing a listing shows is about them.
SCHOOL_LISTING = """
if redis.call('EXISTS', KEYS[1]) == 0 then return {0, {}, {}, ''} end
if redis.call('EXISTS', KEYS[4]) == 0 then return {2, {}, {}, ''} end
local grant = ''
if ARGV[1] ~= '' then grant = redis.call('HGET', KEYS[3], ARGV[1]) or '' end
local reports = redis.call('HGETALL', KEYS[2])
local reported = {}
for i = 1, #reports, 2 do reported[reports[i]] = true end
local enrolments = {}
if #reports > 0 then
  for b = 0, BUCKETS - 1 do
    local part = redis.call('HGETALL', 'PREFIX{' .. ARGV[2] .. '}:enr:' .. b)
    for i = 1, #part, 2 do
      if reported[part[i]] then
        table.insert(enrolments, part[i])
        table.insert(enrolments, part[i + 1])
      end
    end
  end
end
return {1, enrolments, reports, grant}
""".replace("BUCKETS", str(ENROLMENT_BUCKETS)).replace("PREFIX", PREFIX)

# KEYS[1] the rebuilding token key, KEYS[2] the ready marker; ARGV token, marker value.
# Sets the marker only if this rebuild is still the one in progress (a flush in between
# deleted the token, so the rebuild's work may be incomplete).
FINISH_REBUILD = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], ARGV[2])
redis.call('DEL', KEYS[1])
return 1
"""

# KEYS[1] the rebuilding lease; ARGV token, 'hold' (with ARGV[3] milliseconds) or
# 'release'. Returns 1 when the lease was still this rebuild's.
REBUILD_LEASE = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] == 'hold' then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
else
  redis.call('DEL', KEYS[1])
end
return 1
"""


# -- encoding ------------------------------------------------------------------------------


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


def encode_grant(g: domain.Grant) -> str:
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


def decode_grant(raw: str | bytes) -> domain.Grant:
    v = json.loads(raw)
    pupils = v.get("p")
    return domain.Grant(
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


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def fold_rows(events: list[Any]) -> list[list[Any]]:
    """The FOLD script's rows for a batch of parsed change events."""
    from iris.contracts import EnrolmentChanged, GrantChanged, ReportIssued, ReportWithdrawn

    rows: list[list[Any]] = []
    crc32 = zlib.crc32
    for event in events:
        if isinstance(event, EnrolmentChanged):
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
        elif isinstance(event, GrantChanged):
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
        elif isinstance(event, ReportIssued | ReportWithdrawn):
            if isinstance(event, ReportIssued):
                state = domain.ReportState(issued=(domain.issued_of(event),))
            else:
                state = domain.ReportState(withdrawn=(domain.withdrawal_of(event),))
            rows.append(
                ["R", event.pupil_id, encode_report(state), bucket(event.pupil_id, PUPIL_BUCKETS)]
            )
    return rows


# -- the cache ------------------------------------------------------------------------------


class AuthCache:
    """Folds change events into Redis and answers checks from it; fails closed."""

    def __init__(self, client: aioredis.Redis) -> None:
        self.client = client
        self._fold = client.register_script(FOLD)
        self._check = client.register_script(CHECK)
        self._listing = client.register_script(SCHOOL_LISTING)
        self._finish = client.register_script(FINISH_REBUILD)
        self._rebuild_lease = client.register_script(REBUILD_LEASE)

    @classmethod
    def from_url(cls, url: str) -> AuthCache:
        return cls(aioredis.from_url(url, socket_timeout=2, socket_connect_timeout=2))

    async def close(self) -> None:
        await self.client.aclose()  # type: ignore[attr-defined]

    # folding

    async def fold(self, events: list[Any]) -> None:
        """Apply a batch of parsed change events (any order, duplicates allowed) in one
        script call, atomically."""
        rows = fold_rows(events)
        if rows:
            await self._fold(keys=[], args=[orjson.dumps(rows)])

    async def readiness(self) -> str | None:
        """None while the cache is built and current, else why checks are denied."""
        pipe = self.client.pipeline(transaction=False)
        pipe.exists(READY_KEY)
        pipe.exists(LIVE_KEY)
        built, live = await pipe.execute()
        if not built:
            return domain.CACHE_NOT_READY
        return None if live else domain.CACHE_NOT_CURRENT

    async def is_ready(self) -> bool:
        return await self.readiness() is None

    async def renew_live(self, seconds: float, owner: str) -> None:
        """Extend the freshness lease: checks allow for `seconds` more at most."""
        await self.client.set(LIVE_KEY, owner, px=max(1, int(seconds * 1000)))

    async def ready_marker(self) -> dict[str, Any] | None:
        raw = await self.client.get(READY_KEY)
        return json.loads(raw) if raw else None

    async def redis_run_id(self) -> str:
        """The id of the running Redis process: it changes whenever Redis restarts."""
        info = await self.client.info("server")
        return str(info["run_id"])

    async def unmark_ready(self) -> None:
        await self.client.delete(READY_KEY)

    async def drop_older_layouts(self) -> int:
        """Remove the keys of older layouts, each one's ready marker first; returns how
        many keys went."""
        dropped = 0
        for prefix in OLDER_PREFIXES:
            dropped += await self.client.delete(prefix + "ready")
            batch: list[Any] = []
            async for found in self.client.scan_iter(match=prefix + "*", count=5000):
                batch.append(found)
                if len(batch) >= 5000:
                    dropped += await self.client.unlink(*batch)
                    batch = []
            if batch:
                dropped += await self.client.unlink(*batch)
        return dropped

    async def claim_rebuild(self, token: str, seconds: float) -> bool:
        """Take the rebuilding lease unless another rebuild holds it: one rebuild at a time."""
        return bool(await self.client.set(REBUILDING_KEY, token, nx=True, px=int(seconds * 1000)))

    async def hold_rebuild(self, token: str, seconds: float) -> bool:
        """Extend the lease; False when it is no longer ours (expired, or Redis flushed)."""
        held = await self._rebuild_lease(
            keys=[REBUILDING_KEY], args=[token, "hold", int(seconds * 1000)]
        )
        return bool(held)

    async def release_rebuild(self, token: str) -> None:
        await self._rebuild_lease(keys=[REBUILDING_KEY], args=[token, "release"])

    async def finish_rebuild(self, token: str, marker: dict[str, Any]) -> bool:
        done = await self._finish(
            keys=[REBUILDING_KEY, READY_KEY], args=[token, json.dumps(marker)]
        )
        return bool(done)

    # reading

    async def check(
        self, person_id: str, pupil_id: str, today: str, school_id: str | None = None
    ) -> domain.Decision:
        """One EVALSHA; any Redis problem denies with the reason."""
        try:
            answer = await self._check(
                keys=[READY_KEY, person_index_key(person_id), LIVE_KEY],
                args=[
                    person_id,
                    pupil_id,
                    today,
                    school_id or "",
                    bucket(pupil_id, ENROLMENT_BUCKETS),
                ],
            )
        except Exception as exc:
            reason = f"authorisation cache unavailable: {type(exc).__name__}"
            log.warning("check denied, cache unavailable", extra={"error": repr(exc)})
            return domain.Decision(False, reason)
        allowed, code, school, role = (_text(a) for a in answer[:4])
        if allowed == "1":
            report = decode_issued(json.loads(_text(answer[4])))
            return domain.Decision(True, None, school, role, report)
        if code == "NOT_READY":
            return domain.Decision(False, domain.CACHE_NOT_READY)
        if code == "NOT_CURRENT":
            log.warning("check denied", extra={"reason": domain.CACHE_NOT_CURRENT})
            return domain.Decision(False, domain.CACHE_NOT_CURRENT)
        return domain.Decision(False, domain.STAGES[int(code) - 1], school or None, role or None)

    async def school_listing(
        self, school_id: str, person_id: str | None
    ) -> tuple[dict[str, domain.Enrolment], dict[str, domain.ReportState], domain.Grant | None]:
        """The enrolments of the pupils with a report copy at one school, those copies and
        the person's grant there, in one round trip.
        Raises CacheNotReady when the marker is missing or the lease has lapsed."""
        answer = await self._listing(
            keys=[
                READY_KEY,
                school_key(school_id, "rep"),
                school_key(school_id, "grant"),
                LIVE_KEY,
            ],
            args=[person_id or "", school_id],
        )
        if int(answer[0]) == 0:
            raise CacheNotReady(domain.CACHE_NOT_READY)
        if int(answer[0]) == 2:
            raise CacheNotReady(domain.CACHE_NOT_CURRENT)
        enr_flat, rep_flat, grant_raw = answer[1], answer[2], answer[3]
        enrolments = {
            _text(enr_flat[n]): decode_enrolment(enr_flat[n + 1])
            for n in range(0, len(enr_flat), 2)
        }
        reports = {
            _text(rep_flat[n]): decode_report(rep_flat[n + 1]) for n in range(0, len(rep_flat), 2)
        }
        grant = decode_grant(grant_raw) if grant_raw else None
        return enrolments, reports, grant

    async def _require_ready(self) -> None:
        reason = await self.readiness()
        if reason is not None:
            raise CacheNotReady(reason)

    async def schools_of_pupil(self, pupil_id: str) -> set[str]:
        await self._require_ready()
        schools = await self.client.hget(pupil_index_key(pupil_id), pupil_id)
        return set(_text(schools).split()) - {HAS_REPORT} if schools else set()

    async def schools_of_person(self, person_id: str) -> set[str]:
        """The schools where the person holds (or held) a grant."""
        await self._require_ready()
        schools = await self.client.hget(person_index_key(person_id), person_id)
        return set(_text(schools).split()) if schools else set()


class CacheNotReady(RuntimeError):
    """The ready marker is missing (the cache is being rebuilt) or the freshness lease has
    lapsed (the cache may be behind the topics)."""
