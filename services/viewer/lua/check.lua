-- One check: the same decision as domain.may_view.
-- ARGV[3] '1' to require the ready marker and the freshness lease (single node; on
-- Redis Cluster they live in another slot and the caller checks them), ARGV[4] person,
-- ARGV[5] pupil, ARGV[6] today (as encoding.day writes dates), ARGV[7] school ('' = every
-- school in the person's index entry: single node only), ARGV[8] the pupil's enrolment
-- bucket, ARGV[9] the person's index bucket.
-- Returns {1, '', school, role, current version JSON} or {0, reason code, school, role}.
if ARGV[3] == '1' then
  if redis.call('EXISTS', READY) == 0 then return {0, 'NOT_READY', '', ''} end
  if redis.call('EXISTS', LIVE) == 0 then return {0, 'NOT_CURRENT', '', ''} end
end
local person, pupil, today, school, b = ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8]

-- STAGE (generated from domain.Denial, see cache.py): how far a school's check got
local function stage(s)
  local graw = redis.call('HGET', school_key(s, 'grant'), person)
  if not graw then return STAGE.NO_GRANT end
  local _, role, from, to, status, pupils = string.match(
    graw, '^(%d+)|[^|]*|([^|]*)|([^|]*)|([^|]*)|([^|]*)(.*)$')
  if status ~= 'active' or from > today or today > to then
    return STAGE.GRANT_NOT_ACTIVE, role
  end
  -- "|pupil pupil ...": limited to those pupils; nothing: the whole school
  local limited = ' ' .. string.sub(pupils, 2) .. ' '
  if pupils ~= '' and not string.find(limited, ' ' .. pupil .. ' ', 1, true) then
    return STAGE.GRANT_NOT_FOR_PUPIL, role
  end
  local eraw = redis.call('HGET', school_key(s, 'enr:' .. b), pupil)
  if not eraw then return STAGE.NOT_ENROLLED, role end
  -- sight starts at registration, whatever the start date (domain.Enrolment.active_on)
  local ends = string.match(eraw, '^%d+|[^|]*|([^|]*)|')
  if ends == nil or (ends ~= '' and today > ends) then return STAGE.NOT_ENROLLED, role end
  local rraw = redis.call('HGET', school_key(s, 'rep'), pupil)
  if not rraw then return STAGE.NO_CURRENT_REPORT, role end
  local cur = current(cjson.decode(rraw), today)
  if not cur then return STAGE.NO_CURRENT_REPORT, role end
  return STAGE.ALLOWED, role, cjson.encode(cur)
end

local schools
if school ~= '' then
  schools = {school}
else
  schools = schools_in(redis.call('HGET', person_index_key(ARGV[9]), person))
  table.sort(schools)
end
local best, best_school, best_role = STAGE.NO_GRANT, '', ''
for _, s in ipairs(schools) do
  local st, role, rep = stage(s)
  if st == STAGE.ALLOWED then return {1, '', s, role, rep} end
  if st > best then best, best_school, best_role = st, s, role or '' end
end
return {0, tostring(best), best_school, best_role}
