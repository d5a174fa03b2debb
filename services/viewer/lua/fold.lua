-- Folds one batch of change events. ARGV[3] the mode, ARGV[4] a JSON array of rows:
--   ["E", pupil, school, version, enrolment, pupil index bucket, enrolment bucket]
--   ["G", person, school, version, grant, person index bucket]
--   ["R", pupil, report state to merge in, pupil index bucket]
--   ["C", pupil, school, report state]   (mode 'school' only: a copy to merge in)
--   ["E-", pupil, school, 0, "", pupil index bucket, enrolment bucket]   a tombstone: forget
--   ["G-", person, school, 0, "", person index bucket]                   the enrolment, grant
--   ["R-", pupil, version, pupil index bucket]                           or report version
--   ["X", pupil, school, report state or ""]  (mode 'school' only: a copy to replace, or
--                                              drop, after a version was forgotten)
-- Modes: 'all' (single node: every row whole, the batch atomic; returns the row count);
-- on Redis Cluster, 'index' (rows of one pupil- or person-index slot: the index entries
-- and report states; returns the JSON array of "C" rows still owed to schools), then
-- 'school' (rows of one school's slot: enrolments, grants and report copies).
local mode = ARGV[3]

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

local function drop_school(index, id, school)
  local held = redis.call('HGET', index, id)
  if not held then return end
  local kept = {}
  for s in string.gmatch(held, '[^ ]+') do
    if s ~= school then table.insert(kept, s) end
  end
  if #kept == 0 then
    redis.call('HDEL', index, id)
  else
    redis.call('HSET', index, id, table.concat(kept, ' '))
  end
end

local function newer(hash, field, version, value)
  if redis.call('HSETNX', hash, field, value) == 1 then return end
  if version_of(redis.call('HGET', hash, field)) >= version then return end
  redis.call('HSET', hash, field, value)
end

local function merged(held, incoming)
  local a = {}
  if held then a = cjson.decode(held) end
  local b = cjson.decode(incoming)
  return encode_state(newest(list(a, 'i'), list(b, 'i')), newest(list(a, 'w'), list(b, 'w')))
end

local owed = {}
local function copy(school, pupil, state)
  if mode == 'all' then
    -- the pupil's own state is a superset of any copy: overwrite
    redis.call('HSET', school_key(school, 'rep'), pupil, state)
  else
    table.insert(owed, {'C', pupil, school, state})
  end
end

-- a copy without a forgotten version: merging would keep the version, so replace the copy
local function replace_copy(school, pupil, state)
  if mode ~= 'all' then
    table.insert(owed, {'X', pupil, school, state})
  elseif state == '' then
    redis.call('HDEL', school_key(school, 'rep'), pupil)
  else
    redis.call('HSET', school_key(school, 'rep'), pupil, state)
  end
end

local function without(versions, v)
  local out = {}
  for _, x in ipairs(versions) do
    if x[1] ~= v then table.insert(out, x) end
  end
  return out
end

local function forget_version(pupil, v, b)
  local own = reports_key(b)
  local held = redis.call('HGET', own, pupil)
  if not held then return end
  local st = cjson.decode(held)
  local i, w = without(list(st, 'i'), v), without(list(st, 'w'), v)
  local index = pupil_index_key(b)
  local schools = schools_in(redis.call('HGET', index, pupil))
  local state = ''
  if #i == 0 and #w == 0 then
    redis.call('HDEL', own, pupil)
    drop_school(index, pupil, '+')
  else
    state = encode_state(i, w)
    redis.call('HSET', own, pupil, state)
  end
  for _, s in ipairs(schools) do replace_copy(s, pupil, state) end
end

local n = 0
for _, row in ipairs(cjson.decode(ARGV[4])) do
  local op = row[1]
  if op == 'E' then
    local pupil, school = row[2], row[3]
    if mode ~= 'school' then
      local entry = add_school(pupil_index_key(row[6]), pupil, school)
      if string.find(entry, '+', 1, true) then
        local state = redis.call('HGET', reports_key(row[6]), pupil)
        if state then copy(school, pupil, state) end
      end
    end
    if mode ~= 'index' then newer(school_key(school, 'enr:' .. row[7]), pupil, row[4], row[5]) end
  elseif op == 'G' then
    local person, school = row[2], row[3]
    if mode ~= 'index' then newer(school_key(school, 'grant'), person, row[4], row[5]) end
    if mode ~= 'school' then add_school(person_index_key(row[6]), person, school) end
  elseif op == 'R' then
    local pupil = row[2]
    local own = reports_key(row[4])
    local state = merged(redis.call('HGET', own, pupil), row[3])
    redis.call('HSET', own, pupil, state)
    for _, s in ipairs(schools_in(add_school(pupil_index_key(row[4]), pupil, '+'))) do
      copy(s, pupil, state)
    end
  elseif op == 'E-' then
    local pupil, school = row[2], row[3]
    if mode ~= 'school' then drop_school(pupil_index_key(row[6]), pupil, school) end
    if mode ~= 'index' then
      redis.call('HDEL', school_key(school, 'enr:' .. row[7]), pupil)
      redis.call('HDEL', school_key(school, 'rep'), pupil)
    end
  elseif op == 'G-' then
    local person, school = row[2], row[3]
    if mode ~= 'index' then redis.call('HDEL', school_key(school, 'grant'), person) end
    if mode ~= 'school' then drop_school(person_index_key(row[6]), person, school) end
  elseif op == 'R-' then
    forget_version(row[2], tonumber(row[3]), row[4])
  elseif op == 'X' then
    if row[4] == '' then
      redis.call('HDEL', school_key(row[3], 'rep'), row[2])
    else
      redis.call('HSET', school_key(row[3], 'rep'), row[2], row[4])
    end
  elseif op == 'C' then
    -- copies from different batches may arrive in any order: merge, never overwrite
    local rep = school_key(row[3], 'rep')
    if redis.call('HSETNX', rep, row[2], row[4]) == 0 then
      redis.call('HSET', rep, row[2], merged(redis.call('HGET', rep, row[2]), row[4]))
    end
  end
  n = n + 1
end
if mode == 'index' then return cjson.encode(owed) end
return n
