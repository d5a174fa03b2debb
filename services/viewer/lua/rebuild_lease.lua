-- KEYS[1] the rebuilding lease, KEYS[2] the ready marker; ARGV[1] token, ARGV[2] the
-- operation, ARGV[3] milliseconds (claim, hold), ARGV[4] '1' when a claim is only for
-- a missing marker. Returns 1 when done.
--   claim    take the lease if no rebuild holds it (and, with ARGV[4], if the marker is
--            still missing: a rebuild that finished meanwhile has done the work)
--   hold     extend the lease if it is still this rebuild's
--   release  remove the lease if it is still this rebuild's
local op = ARGV[2]
if op == 'claim' then
  if ARGV[4] == '1' and redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
  if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[3]) then return 1 end
  return 0
end
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if op == 'hold' then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
else
  redis.call('DEL', KEYS[1])
end
return 1
