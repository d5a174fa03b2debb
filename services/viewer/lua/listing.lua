-- One school's listing. ARGV[3] '1' to require the ready marker and the freshness lease
-- (single node), ARGV[4] person ('' = none), ARGV[5] the school, ARGV[6] the number of
-- enrolment buckets. Returns {1 (0 not ready, 2 not current), enrolments (flat) of the
-- pupils with a report copy at the school, report copies (flat), the person's grant or ''}.
-- Pupils without a report there are left in Redis: nothing a listing shows is about them.
if ARGV[3] == '1' then
  if redis.call('EXISTS', READY) == 0 then return {0, {}, {}, ''} end
  if redis.call('EXISTS', LIVE) == 0 then return {2, {}, {}, ''} end
end
local school = ARGV[5]
local grant = ''
if ARGV[4] ~= '' then grant = redis.call('HGET', school_key(school, 'grant'), ARGV[4]) or '' end
local reports = redis.call('HGETALL', school_key(school, 'rep'))
local reported = {}
for i = 1, #reports, 2 do reported[reports[i]] = true end
local enrolments = {}
if #reports > 0 then
  for b = 0, tonumber(ARGV[6]) - 1 do
    local part = redis.call('HGETALL', school_key(school, 'enr:' .. b))
    for i = 1, #part, 2 do
      if reported[part[i]] then
        table.insert(enrolments, part[i])
        table.insert(enrolments, part[i + 1])
      end
    end
  end
end
return {1, enrolments, reports, grant}
