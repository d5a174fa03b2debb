-- Shared by fold.lua, check.lua and listing.lua (prepended to each; see cache.py).
-- ARGV[1] is the key prefix of the layout, ARGV[2] how many report versions are kept.
-- Key names and hash tags (docs/viewer.md, "Redis keys"): a school's keys carry {S},
-- a pupil's index entry and report state {p<bucket>}, a person's index entry {g<bucket>}.
local P = ARGV[1]
local KEPT = tonumber(ARGV[2])

local function school_key(s, part) return P .. '{' .. s .. '}:' .. part end
local function pupil_index_key(b) return P .. '{p' .. b .. '}:pupils' end
local function report_key(b, pupil) return P .. '{p' .. b .. '}:report:' .. pupil end
local function person_index_key(b) return P .. '{g' .. b .. '}:persons' end
local READY, LIVE = P .. '{ctl}:ready', P .. '{ctl}:live'

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

-- the same rule as domain.ReportState.current
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
