-- Part of the Manager's Redis function library: see base.lua.

-- lock and rlock: a hash {o = holder's token, n = holds} that expires
-- unless the holder's process renews it ----------------------------------
local lock = {}
handlers[LOCK] = lock
handlers[RLOCK] = lock
lock[17] = function(c)  -- ACQUIRE
  local owner = redis.call('HGET', c.d, 'o')
  local turn = my_turn(c)
  if not owner and turn then
    redis.call('HSET', c.d, 'o', token, 'n', 1)
    redis.call('PEXPIRE', c.d, lease)
    leave_line(c)
    return holding(ok(nil, false, 1), c.name)
  end
  if owner == token then
    if c.kind == LOCK then
      return err(INVALID, describe(c) .. ' is already held by this connection (use an rlock to acquire it again)')
    end
    local n = redis.call('HINCRBY', c.d, 'n', 1)
    redis.call('PEXPIRE', c.d, lease)
    return holding(ok(nil, false, n), c.name)
  end
  local ttl = owner and redis.call('PTTL', c.d) or 0
  return wait_in_line(c, DEADLINE, describe(c) .. ' is held by another connection',
    ttl > 0 and ttl or 0)
end
lock[18] = function(c)  -- RELEASE
  if redis.call('HGET', c.d, 'o') ~= token then
    return err(INVALID, describe(c) .. ' is not held by this connection')
  end
  local n = redis.call('HINCRBY', c.d, 'n', -1)
  if n <= 0 then
    redis.call('DEL', c.d)
    wake(c)
    n = 0
  end
  return ok(nil, false, n)
end
