-- KEYS[1] the rebuilding lease, KEYS[2] the ready marker; ARGV token, marker JSON.
-- Sets the marker only if this rebuild still holds the lease (a flush in between removed
-- it, so the rebuild's work may be incomplete), and releases the lease.
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], ARGV[2])
redis.call('DEL', KEYS[1])
return 1
