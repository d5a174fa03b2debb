-- Shared by fold.lua, check.lua and listing.lua (prepended to each; see cache.py).
-- ARGV[1] is the key prefix of the layout, ARGV[2] how many report versions are kept.
-- Key names and hash tags (docs/viewer.md, "Redis keys"): a school's keys carry {S},
-- a pupil's index entry and report state {p<bucket>}, a person's index entry {g<bucket>}.
-- Values (encoding.py): dates in four base-36 digits, which compare as text in date
-- order; an enrolment "version|start|end|name", a grant
-- "version|id|role|from|until|status[|pupils]", a report state
-- {"i": [[version, id, kind, valid from, clb], ...], "w": [[version, id, withdrawn on], ...]}.
local P = ARGV[1]
local KEPT = tonumber(ARGV[2])

local function school_key(s, part) return P .. '{' .. s .. '}:' .. part end
local function pupil_index_key(b) return P .. '{p' .. b .. '}:pupils' end
local function reports_key(b) return P .. '{p' .. b .. '}:reports' end
local function person_index_key(b) return P .. '{g' .. b .. '}:persons' end
local READY, LIVE = P .. '{ctl}:ready', P .. '{ctl}:live'

local function newest(a, b)
  local byv, out = {}, {}
  for _, x in ipairs(a) do byv[x[1]] = x end
  for _, x in ipairs(b) do if byv[x[1]] == nil then byv[x[1]] = x end end
  for _, x in pairs(byv) do table.insert(out, x) end
  table.sort(out, function(p, q) return p[1] > q[1] end)
  while #out > KEPT do table.remove(out) end
  return out
end

local function list(t, name)
  local v = t[name]
  if type(v) ~= 'table' then return {} end
  return v
end

-- a report state's JSON, an empty list left out (encoding.encode_report)
local function encode_state(i, w)
  local st = {}
  if #i > 0 then st.i = i end
  if #w > 0 then st.w = w end
  return cjson.encode(st)
end

-- the version number of an enrolment's or a grant's value
local function version_of(value) return tonumber(string.match(value, '^(%d+)')) end

-- the same rule as domain.ReportState.current (today written as the cache writes dates)
local function current(st, today)
  local w = {}
  for _, x in ipairs(list(st, 'w')) do w[x[2]] = x[3] end
  for _, x in ipairs(list(st, 'i')) do
    if x[4] <= today then
      local d = w[x[2]]
      if d and d < x[4] then
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
