"""The authorisation cache in Redis: how change events fold into it (Lua, atomic,
version-checked) and how one check reads it (one EVALSHA).

Key layout (everything a check at school S reads carries the hash tag `{S}`):

    iris:v1:{S}:enr             hash    pupil_id -> enrolment at S  {"v","s","e"?,"n"?}
    iris:v1:{S}:grant           hash    person_id -> grant at S     {"v","id","r","p"?,"f","u","st"}
    iris:v1:{S}:rep             hash    pupil_id -> copy of the pupil's report state
    iris:v1:{P}:report          string  the pupil's report state    {"i":[...], "w":[...]}
    iris:v1:pupil:{P}:schools   set     schools where pupil P has (had) an enrolment
    iris:v1:person:{X}:schools  set     schools where person X holds (held) a grant
    iris:v1:ready               string  the ready marker: {"offsets", "rebuilt_at", "redis_run_id"}
    iris:v1:rebuilding          string  the token of the rebuild in progress

A report state is {"i": issued versions newest first, each {"v","id","k","f","c","t"},
"w": withdrawals newest first, each {"v","id","d"}}; at most REPORT_VERSIONS_KEPT each.
A report event merges into the pupil's own state and then into the copy at every
school in `pupil:{P}:schools`; an enrolment event adds the school to that set and
then merges the pupil's state into the school's copy. Both orders (set first, then
read; merge first, then read) guarantee that a concurrent report and enrolment
cannot leave a school without the report.

Round trips: a check that names its school (the web routes' `?school_id=`, and the
school-scoped listing) reads only `{S}` keys besides the ready marker. A check
without a school reads the person's index of schools inside the same script. Both
are one EVALSHA on single-node Redis. On Redis Cluster the script would have to be
split: the ready marker and the person index live in other slots, so the school-less
check there takes two round trips (index and marker, then the school script per
slot); this module targets single-node Redis (the deployment's and the embedded one).
"""

from __future__ import annotations

import json
import logging
from typing import Any

import redis.asyncio as aioredis

from services.viewer import domain

log = logging.getLogger(__name__)

PREFIX = "iris:v1:"
READY_KEY = PREFIX + "ready"
REBUILDING_KEY = PREFIX + "rebuilding"


def school_key(school_id: str, part: str) -> str:
    return f"{PREFIX}{{{school_id}}}:{part}"


def report_key(pupil_id: str) -> str:
    return f"{PREFIX}{{{pupil_id}}}:report"


def pupil_schools_key(pupil_id: str) -> str:
    return f"{PREFIX}pupil:{{{pupil_id}}}:schools"


def person_schools_key(person_id: str) -> str:
    return f"{PREFIX}person:{{{person_id}}}:schools"


# KEYS[1] hash; ARGV field, version, value. Sets the field unless the held version
# is not older. Returns 1 when applied, 0 when ignored.
LWW_SET = """
local held = redis.call('HGET', KEYS[1], ARGV[1])
if held then
  if cjson.decode(held)['v'] >= tonumber(ARGV[2]) then return 0 end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return 1
"""

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
""".replace("KEPT", str(domain.REPORT_VERSIONS_KEPT))

# KEYS[1] a hash (ARGV[1] its field) or, when ARGV[1] is '', a string; ARGV[2] a report
# state to merge in. Returns the merged state. Merging is commutative and idempotent.
MERGE_REPORT = (
    _LUA_REPORT
    + """
local held
if ARGV[1] == '' then held = redis.call('GET', KEYS[1])
else held = redis.call('HGET', KEYS[1], ARGV[1]) end
local a = {}
if held then a = cjson.decode(held) end
local b = cjson.decode(ARGV[2])
local merged = {i = newest(list(a, 'i'), list(b, 'i')), w = newest(list(a, 'w'), list(b, 'w'))}
local out = cjson.encode(merged)
if ARGV[1] == '' then redis.call('SET', KEYS[1], out)
else redis.call('HSET', KEYS[1], ARGV[1], out) end
return out
"""
)

# KEYS[1] the ready marker, KEYS[2] the person's index of schools.
# ARGV person, pupil, today (YYYY-MM-DD), school ('' = every school of the person).
# Returns {1, '', school, role, current version json} or {0, reason, school, role}.
# The same decision as domain.may_view.
CHECK = (
    _LUA_REPORT
    + """
if redis.call('EXISTS', KEYS[1]) == 0 then
  return {0, 'NOT_READY', '', ''}
end
local person, pupil, today, school = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local function key(s, part) return 'PREFIX{' .. s .. '}:' .. part end
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
  local eraw = redis.call('HGET', key(s, 'enr'), pupil)
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
  schools = redis.call('SMEMBERS', KEYS[2])
  table.sort(schools)
end
local best, best_school, best_role = 1, '', ''
for _, s in ipairs(schools) do
  local st, role, rep = stage(s)
  if st == 6 then return {1, '', s, role, rep} end
  if st > best then best, best_school, best_role = st, s, role end
end
return {0, tostring(best), best_school, best_role}
""".replace("PREFIX", PREFIX)
)

# KEYS[1] ready marker, KEYS[2..4] {S}:enr, {S}:rep, {S}:grant; ARGV[1] person ('' = none).
# Returns {ready, enrolments (flat), report copies (flat), grant or ''}.
SCHOOL_LISTING = """
if redis.call('EXISTS', KEYS[1]) == 0 then return {0, {}, {}, ''} end
local grant = ''
if ARGV[1] ~= '' then grant = redis.call('HGET', KEYS[4], ARGV[1]) or '' end
return {1, redis.call('HGETALL', KEYS[2]), redis.call('HGETALL', KEYS[3]), grant}
"""

# KEYS[1] the rebuilding token key, KEYS[2] the ready marker; ARGV token, marker value.
# Sets the marker only if this rebuild is still the one in progress (a flush in between
# deleted the token, so the rebuild's work may be incomplete).
FINISH_REBUILD = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], ARGV[2])
redis.call('DEL', KEYS[1])
return 1
"""


# -- encoding ------------------------------------------------------------------------------


def encode_enrolment(e: domain.Enrolment) -> str:
    value: dict[str, Any] = {"v": e.version, "s": e.start_date}
    if e.end_date is not None:
        value["e"] = e.end_date
    if e.display_name is not None:
        value["n"] = e.display_name
    return json.dumps(value)


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
    return json.dumps(value)


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
    return json.dumps(
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


# -- the cache ------------------------------------------------------------------------------


class AuthCache:
    """Folds change events into Redis and answers checks from it; fails closed."""

    def __init__(self, client: aioredis.Redis) -> None:
        self.client = client
        self._lww = client.register_script(LWW_SET)
        self._merge = client.register_script(MERGE_REPORT)
        self._check = client.register_script(CHECK)
        self._listing = client.register_script(SCHOOL_LISTING)
        self._finish = client.register_script(FINISH_REBUILD)

    @classmethod
    def from_url(cls, url: str) -> AuthCache:
        return cls(aioredis.from_url(url, socket_timeout=2, socket_connect_timeout=2))

    async def close(self) -> None:
        await self.client.aclose()  # type: ignore[attr-defined]

    # folding

    async def fold(self, events: list[Any]) -> None:
        """Apply a batch of parsed change events (any order, duplicates allowed)."""
        from iris.contracts import EnrolmentChanged, GrantChanged, ReportIssued, ReportWithdrawn

        enrolled: list[tuple[str, str]] = []
        reported: list[str] = []
        pipe = self.client.pipeline(transaction=False)
        for event in events:
            if isinstance(event, EnrolmentChanged):
                pupil, school = event.pupil_id, event.school_id
                pipe.sadd(pupil_schools_key(pupil), school)
                await self._lww(
                    keys=[school_key(school, "enr")],
                    args=[pupil, event.version, encode_enrolment(domain.enrolment_of(event))],
                    client=pipe,
                )
                enrolled.append((pupil, school))
            elif isinstance(event, GrantChanged):
                await self._lww(
                    keys=[school_key(event.school_id, "grant")],
                    args=[event.person_id, event.version, encode_grant(domain.grant_of(event))],
                    client=pipe,
                )
                pipe.sadd(person_schools_key(event.person_id), event.school_id)
            elif isinstance(event, ReportIssued | ReportWithdrawn):
                if isinstance(event, ReportIssued):
                    state = domain.ReportState(issued=(domain.issued_of(event),))
                else:
                    state = domain.ReportState(withdrawn=(domain.withdrawal_of(event),))
                await self._merge(
                    keys=[report_key(event.pupil_id)],
                    args=["", encode_report(state)],
                    client=pipe,
                )
                reported.append(event.pupil_id)
        await pipe.execute()
        # Read after writing: see the module docstring for why this order is safe.
        pupils = sorted(set(reported))
        pairs = sorted(set(enrolled))
        read = self.client.pipeline(transaction=False)
        for pupil in pupils:
            read.get(report_key(pupil))
            read.smembers(pupil_schools_key(pupil))
        for pupil, _school in pairs:
            read.get(report_key(pupil))
        answers = await read.execute()
        copies: list[tuple[str, str, Any]] = []
        for n, pupil in enumerate(pupils):
            state_raw, schools = answers[2 * n], answers[2 * n + 1]
            copies.extend((pupil, _text(s), state_raw) for s in schools)
        for n, (pupil, school) in enumerate(pairs):
            copies.append((pupil, school, answers[2 * len(pupils) + n]))
        copies = [c for c in copies if c[2] is not None]
        if copies:
            write = self.client.pipeline(transaction=False)
            for pupil, school, state_raw in copies:
                await self._merge(
                    keys=[school_key(school, "rep")], args=[pupil, state_raw], client=write
                )
            await write.execute()

    async def is_ready(self) -> bool:
        return bool(await self.client.exists(READY_KEY))

    async def ready_marker(self) -> dict[str, Any] | None:
        raw = await self.client.get(READY_KEY)
        return json.loads(raw) if raw else None

    async def redis_run_id(self) -> str:
        """The id of the running Redis process: it changes whenever Redis restarts."""
        info = await self.client.info("server")
        return str(info["run_id"])

    async def unmark_ready(self) -> None:
        await self.client.delete(READY_KEY)

    async def begin_rebuild(self, token: str) -> None:
        await self.client.set(REBUILDING_KEY, token)

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
                keys=[READY_KEY, person_schools_key(person_id)],
                args=[person_id, pupil_id, today, school_id or ""],
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
        return domain.Decision(False, domain.STAGES[int(code) - 1], school or None, role or None)

    async def school_listing(
        self, school_id: str, person_id: str | None
    ) -> tuple[dict[str, domain.Enrolment], dict[str, domain.ReportState], domain.Grant | None]:
        """Enrolments, report copies and the person's grant at one school, in one round trip.
        Raises CacheNotReady when the marker is missing."""
        answer = await self._listing(
            keys=[
                READY_KEY,
                school_key(school_id, "enr"),
                school_key(school_id, "rep"),
                school_key(school_id, "grant"),
            ],
            args=[person_id or ""],
        )
        if int(answer[0]) != 1:
            raise CacheNotReady(domain.CACHE_NOT_READY)
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

    async def schools_of_pupil(self, pupil_id: str) -> set[str]:
        pipe = self.client.pipeline(transaction=False)
        pipe.exists(READY_KEY)
        pipe.smembers(pupil_schools_key(pupil_id))
        ready, schools = await pipe.execute()
        if not ready:
            raise CacheNotReady(domain.CACHE_NOT_READY)
        return {_text(s) for s in schools}

    async def schools_of_person(self, person_id: str) -> set[str]:
        """The schools where the person holds (or held) a grant."""
        pipe = self.client.pipeline(transaction=False)
        pipe.exists(READY_KEY)
        pipe.smembers(person_schools_key(person_id))
        ready, schools = await pipe.execute()
        if not ready:
            raise CacheNotReady(domain.CACHE_NOT_READY)
        return {_text(s) for s in schools}


class CacheNotReady(RuntimeError):
    """The ready marker is missing: the cache is being (re)built."""
