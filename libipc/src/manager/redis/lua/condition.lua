-- Part of the Manager's Redis function library: see base.lua.

-- condition: bound to a lock or rlock (meta lock). Waiters for a NOTIFY have
-- tickets in P:q (by arrival) and P:qe (expiry, renewed by each retry); a
-- NOTIFY moves the oldest to P:n. A notified (or timed out) waiter then
-- waits in its lock's line for the lock, with the holds it had. A waiter's
-- state: "phase;holds;ticket;lock ticket", phase w (waiting for a NOTIFY),
-- n (notified) or t (timed out).
local condition = {}
handlers[CONDITION] = condition
-- The condition's lock as a call context, or nil and an error reply.
local function cond_lock(c)
  local name = (c.m and c.m.lock) or c.lock
  local p = '{ipc:' .. name .. '}'
  local kind = tonumber(redis.call('HGET', p .. ':k', 'kind') or '0')
  if kind == 0 then
    return nil, err(NOT_FOUND, describe(c) .. ": its lock '" .. name .. "' does not exist")
  end
  if kind ~= LOCK and kind ~= RLOCK then
    return nil, err(INVALID, describe(c) .. ": its lock '" .. name .. "' is a " ..
      kind_name(kind) .. ', not a lock or rlock')
  end
  return {p = p, k = p .. ':k', d = p .. ':d', name = name, kind = kind, ticket = ''}
end
local function cond_needs_held(c, l)
  local owner = redis.call('HGET', l.d, 'o')
  if owner == token then return nil end
  return err(INVALID, describe(c) .. ': ' .. op_name(c.op) .. ' needs its ' .. kind_name(l.kind) ..
    " '" .. l.name .. "' held by this connection, and " ..
    (owner and 'another connection holds it' or 'it is free'))
end
local function cond_forget(c, t)
  redis.call('ZREM', c.p .. ':q', t)
  redis.call('HDEL', c.p .. ':qe', t)
  redis.call('HDEL', c.p .. ':n', t)
end
-- Moves the oldest n waiters to notified; how many it moved.
local function cond_notify(c, n)
  n = math.min(n, redis.call('ZCARD', c.p .. ':q'))
  if n <= 0 then return 0 end
  local picked = redis.call('ZRANGE', c.p .. ':q', 0, n - 1)
  for _, t in ipairs(picked) do
    redis.call('ZREM', c.p .. ':q', t)
    redis.call('HSET', c.p .. ':n', t, '1')
  end
  if #picked > 0 then wake(c) end
  return #picked
end
-- Waiters whose ticket ran out leave; a NOTIFY a dead one had taken goes
-- to the next waiter, as in ipcd.
local function cond_purge(c)
  local now = now_ms()
  local flat = redis.call('HGETALL', c.p .. ':qe')
  local lost = 0
  for i = 1, #flat, 2 do
    if tonumber(flat[i + 1]) < now then
      if redis.call('HDEL', c.p .. ':n', flat[i]) == 1 then lost = lost + 1 end
      redis.call('ZREM', c.p .. ':q', flat[i])
      redis.call('HDEL', c.p .. ':qe', flat[i])
    end
  end
  cond_notify(c, lost)
end
-- A notified or timed-out waiter takes its lock back, in the lock's line.
local function cond_reacquire(c, l, phase, holds, t, lt)
  l.ticket = lt
  local owner = redis.call('HGET', l.d, 'o')
  local turn = my_turn(l)
  if not owner and turn then
    redis.call('HSET', l.d, 'o', token, 'n', holds)
    redis.call('PEXPIRE', l.d, lease)
    leave_line(l)
    if phase == 'n' then return holding(ok(nil, true, tonumber(holds)), l.name) end
    return holding(err(DEADLINE, describe(c) .. ": no NOTIFY within the timeout; lock '" ..
      l.name .. "' is held again"), l.name)
  end
  if l.ticket == '' then
    local seq = redis.call('HINCRBY', l.k, 'qseq', 1)
    l.ticket = token .. ':' .. seq
    redis.call('ZADD', l.p .. ':q', seq, l.ticket)
    redis.call('HSET', l.p .. ':qe', l.ticket, now_ms() + TICKET_TTL)
  end
  local ttl = owner and redis.call('PTTL', l.d) or 0
  return block(c, DEADLINE, '', ttl > 0 and ttl or 0, {
    state = phase .. ';' .. holds .. ';' .. t .. ';' .. l.ticket,
    channel = l.p .. ':w', unbounded = true})
end
local function cond_lost_lock(c, t)
  cond_forget(c, t)
  return err(CLOSED, describe(c) .. ": its lock '" .. c.m.lock .. "' was destroyed while WAIT waited")
end
condition.make_error = function(c)
  if c.lock == '' then
    return err(INVALID, describe(c) .. ' does not exist, and the call that makes it needs ' ..
      'Call.lock: the name of the lock or rlock it is bound to')
  end
end
condition[1] = function(c)  -- CREATE
  local _, bad = cond_lock(c)
  return bad or ok()
end
condition[3] = function(c)  -- GET
  if not c.m then return err(NOT_FOUND, "no condition '" .. c.name .. "'") end
  cond_purge(c)
  return ok('v' .. string_value(c.m.lock), false, redis.call('ZCARD', c.p .. ':q'))
end
local function notify(c, n)
  local l, bad = cond_lock(c); if bad then return bad end
  bad = cond_needs_held(c, l); if bad then return bad end
  cond_purge(c)
  return ok(nil, false, cond_notify(c, n))
end
condition[32] = function(c)  -- NOTIFY
  local n = c.count and tonumber(c.count) or 1
  if n < 1 then
    return err(INVALID, describe(c) .. ': NOTIFY needs count >= 1, not ' .. c.count)
  end
  return notify(c, n)
end
condition[33] = function(c) return notify(c, redis.call('ZCARD', c.p .. ':q')) end  -- NOTIFY_ALL
condition[22] = function(c)  -- WAIT
  local l, bad = cond_lock(c)
  if c.ticket == '' then
    if bad then return bad end
    bad = cond_needs_held(c, l); if bad then return bad end
    if not c.may_wait then
      return err(DEADLINE, describe(c) .. ': WAIT with no time to wait (timeout_ms 0, or in a ' ..
        "batch); lock '" .. l.name .. "' is still held")
    end
    local holds = redis.call('HGET', l.d, 'n')
    redis.call('DEL', l.d)
    wake(l)
    local seq = redis.call('HINCRBY', c.k, 'qseq', 1)
    local t = token .. ':' .. seq
    redis.call('ZADD', c.p .. ':q', seq, t)
    redis.call('HSET', c.p .. ':qe', t, now_ms() + TICKET_TTL)
    return block(c, DEADLINE, '', 0, {state = 'w;' .. holds .. ';' .. t .. ';'})
  end
  local phase, holds, t, lt = string.match(c.ticket, '^(%a);(%d+);([^;]*);(.*)$')
  if bad then return cond_lost_lock(c, t) end
  if phase == 'w' then
    cond_purge(c)
    if redis.call('HDEL', c.p .. ':n', t) == 1 then
      phase = 'n'
      redis.call('HDEL', c.p .. ':qe', t)
    else
      if redis.call('HEXISTS', c.p .. ':qe', t) == 0 then  -- stalled past its ticket: back in line
        redis.call('ZADD', c.p .. ':q', redis.call('HINCRBY', c.k, 'qseq', 1), t)
      end
      redis.call('HSET', c.p .. ':qe', t, now_ms() + TICKET_TTL)
      return block(c, DEADLINE, '', 0, {state = c.ticket})
    end
  end
  return cond_reacquire(c, l, phase, holds, t, lt)
end
condition.give_up = function(c)  -- no NOTIFY in time: take the lock back all the same
  local phase, holds, t, lt = string.match(c.ticket, '^(%a);(%d+);([^;]*);(.*)$')
  if not phase then return ok() end
  local l, bad = cond_lock(c)
  if bad then return final(cond_lost_lock(c, t)) end
  if phase == 'w' then
    phase = redis.call('HDEL', c.p .. ':n', t) == 1 and 'n' or 't'
    redis.call('ZREM', c.p .. ':q', t)
    redis.call('HDEL', c.p .. ':qe', t)
  end
  return final(cond_reacquire(c, l, phase, holds, t, lt))
end
