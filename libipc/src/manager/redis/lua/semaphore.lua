-- Part of the Manager's Redis function library: see base.lua.

-- semaphore and bounded semaphore: free units, and the units each holder
-- took (P:h) with the lease that gives them back if it dies (P:e) ----------
local sem = {}
handlers[SEM] = sem
handlers[BSEM] = sem
local function sem_key(c, s) return c.p .. s end
-- Gives back the units of holders whose lease expired; returns the units
-- free and the earliest remaining expiry (or nil).
local function sem_purge(c)
  local h, e = sem_key(c, ':h'), sem_key(c, ':e')
  local now = now_ms()
  local dead = redis.call('ZRANGEBYSCORE', e, '-inf', now)
  for _, holder in ipairs(dead) do
    local units = tonumber(redis.call('HGET', h, holder) or '0')
    redis.call('HINCRBY', c.d, 'free', units)
    redis.call('HDEL', h, holder)
    redis.call('ZREM', e, holder)
  end
  if #dead > 0 then wake(c) end
  local first = redis.call('ZRANGE', e, 0, 0, 'WITHSCORES')
  local next_expiry = first[2] and (tonumber(first[2]) - now) or nil
  return tonumber(redis.call('HGET', c.d, 'free') or c.m.initial), next_expiry
end
sem[1] = function(c)  -- CREATE
  if not c.created and c.m.initial ~= c.num then
    return err(INVALID, describe(c) .. ' exists with ' .. c.m.initial .. ' units, not ' .. c.num)
  end
  return ok()
end
sem[3] = function(c)  -- GET: the units free
  if not c.m then return ok('i1') end
  local free = sem_purge(c)
  return ok('i' .. int(free))
end
sem[17] = function(c)  -- ACQUIRE
  local free, next_expiry = sem_purge(c)
  local turn = my_turn(c)
  if free > 0 and turn then
    redis.call('HINCRBY', c.d, 'free', -1)
    redis.call('HINCRBY', sem_key(c, ':h'), token, 1)
    redis.call('ZADD', sem_key(c, ':e'), now_ms() + lease, token)
    leave_line(c)
    return holding(ok(nil, false, free - 1), c.name)
  end
  return wait_in_line(c, DEADLINE, describe(c) .. ' had no unit free', next_expiry or 0)
end
sem[18] = function(c)  -- RELEASE
  local free = sem_purge(c)
  local h = sem_key(c, ':h')
  local mine = tonumber(redis.call('HGET', h, token) or '0')
  if mine > 0 then
    if redis.call('HINCRBY', h, token, -1) == 0 then
      redis.call('HDEL', h, token)
      redis.call('ZREM', sem_key(c, ':e'), token)
    end
  elseif c.kind == BSEM and free >= tonumber(c.m.initial) then
    return err(INVALID, describe(c) .. ' released too many times: it has ' .. c.m.initial ..
      ' units, all free')
  elseif free >= MAX_EXACT then
    return err(INVALID, describe(c) .. ' cannot count more units (2^53 on Redis)')
  end
  redis.call('HSET', c.d, 'free', int(free + 1))
  wake(c)
  return ok(nil, false, free + 1)
end
