-- One check: the same decision as domain.may_view.
-- ARGV[3] '1' to require the ready marker and the freshness lease (single node; on
-- Redis Cluster they live in another slot and the caller checks them), ARGV[4] person,
-- ARGV[5] pupil, ARGV[6] today (YYYY-MM-DD), ARGV[7] school ('' = every school in the
-- person's index entry: single node only), ARGV[8] the pupil's enrolment bucket,
-- ARGV[9] the person's index bucket.
-- Returns {1, '', school, role, current version JSON} or {0, reason code, school, role}.
if ARGV[3] == '1' then
  if redis.call('EXISTS', READY) == 0 then return {0, 'NOT_READY', '', ''} end
  if redis.call('EXISTS', LIVE) == 0 then return {0, 'NOT_CURRENT', '', ''} end
end
local person, pupil, today, school, b = ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8]

-- the stage numbers are the positions in domain.STAGES, plus 6 for allowed
local function stage(s)
  local graw = redis.call('HGET', school_key(s, 'grant'), person)
  if not graw then return 1 end
  local g = cjson.decode(graw)
  if g.st ~= 'active' or g.f > today or today > g.u then return 2, g.r end
  if type(g.p) == 'table' then
    local found = false
    for _, x in ipairs(g.p) do if x == pupil then found = true end end
    if not found then return 3, g.r end
  end
  local eraw = redis.call('HGET', school_key(s, 'enr:' .. b), pupil)
  if not eraw then return 4, g.r end
  local e = cjson.decode(eraw)
  -- sight starts at registration, whatever the start date (domain.Enrolment.active_on)
  if type(e.e) == 'string' and today > e.e then return 4, g.r end
  local rraw = redis.call('HGET', school_key(s, 'rep'), pupil)
  if not rraw then return 5, g.r end
  local cur = current(cjson.decode(rraw), today)
  if not cur then return 5, g.r end
  return 6, g.r, cjson.encode(cur)
end

local schools
if school ~= '' then
  schools = {school}
else
  schools = schools_in(redis.call('HGET', person_index_key(ARGV[9]), person))
  table.sort(schools)
end
local best, best_school, best_role = 1, '', ''
for _, s in ipairs(schools) do
  local st, role, rep = stage(s)
  if st == 6 then return {1, '', s, role, rep} end
  if st > best then best, best_school, best_role = st, s, role end
end
return {0, tostring(best), best_school, best_role}
