-- Part of the Manager's Redis function library: see base.lua.

-- queue: a list (fifo, lifo) or a sorted set (priority, then a sequence
-- number in the member, so equal priorities come out in FIFO order) -----
local queue = {}
handlers[QUEUE] = queue
local function queue_len(c)
  if c.m.order == '2' then return redis.call('ZCARD', c.d) end
  return redis.call('LLEN', c.d)
end
local function queue_describe(m)
  return ORDER_NAMES[tonumber(m.order)] .. ' queue of capacity ' .. m.cap
end
queue[1] = function(c)  -- CREATE
  if c.created then return ok() end
  if c.m.cap ~= c.capacity or c.m.order ~= c.order then
    return err(INVALID, describe(c) .. ' exists as a ' .. queue_describe(c.m) .. ', not a ' ..
      queue_describe({cap = c.capacity, order = c.order}))
  end
  return ok()
end
queue[7] = function(c) return ok(nil, false, c.m and queue_len(c) or 0) end  -- LEN
queue[19] = function(c)  -- PUT
  if c.m.closed == '1' then return err(CLOSED, describe(c) .. ' is closed') end
  if c.m.order ~= '2' and c.has_priority then
    return err(INVALID, describe(c) .. ' is not a priority queue: PUT takes no priority')
  end
  local cap = tonumber(c.m.cap)
  if cap > 0 and queue_len(c) >= cap then
    return block(c, FULL, describe(c) .. ' is full (capacity ' .. cap .. ')')
  end
  if c.m.order == '2' then
    local seq = redis.call('HINCRBY', c.k, 'seq', 1)
    redis.call('ZADD', c.d, c.priority, string.format('%016x', seq) .. c.value)
  else
    redis.call('RPUSH', c.d, c.value)
  end
  redis.call('HINCRBY', c.k, 'tasks', 1)
  wake(c)
  return ok()
end
-- GETs wait in line (P:q), so parked ones are served first, in order.
queue[3] = function(c)  -- GET
  local v
  if not my_turn(c) then
    -- Items that came are for the waiters before this one.
  elseif c.m.order == '2' then
    local r = redis.call('ZPOPMIN', c.d)
    if r[1] then v = string.sub(r[1], 17) end
  elseif c.m.order == '1' then
    v = redis.call('RPOP', c.d)
  else
    v = redis.call('LPOP', c.d)
  end
  if v then
    leave_line(c)
    wake(c)  -- room for a waiting PUT
    return ok('v' .. v)
  end
  if c.m.closed == '1' and queue_len(c) == 0 then
    leave_line(c)
    return err(CLOSED, describe(c) .. ' is closed and drained')
  end
  return wait_in_line(c, EMPTY, describe(c) .. ' stayed empty')
end
queue[20] = function(c)  -- CLOSE
  redis.call('HSET', c.k, 'closed', '1')
  wake(c)
  return ok()
end
queue[34] = function(c)  -- TASK_DONE
  local tasks = tonumber(redis.call('HGET', c.k, 'tasks') or '0')
  if tasks <= 0 then
    return err(INVALID, describe(c) .. ': TASK_DONE called more times than items were put')
  end
  tasks = redis.call('HINCRBY', c.k, 'tasks', -1)
  if tasks == 0 then
    -- Counted, so that a JOIN waiting then returns even if a PUT comes
    -- before its retry (ipcd answers it at once).
    redis.call('HINCRBY', c.k, 'zeros', 1)
    wake(c)
  end
  return ok(nil, false, tasks)
end
queue[35] = function(c)  -- JOIN
  local tasks = tonumber(redis.call('HGET', c.k, 'tasks') or '0')
  local zeros = c.m.zeros or '0'
  if tasks <= 0 or (c.ticket ~= '' and tonumber(zeros) > tonumber(c.ticket)) then
    return ok()
  end
  return block(c, DEADLINE, describe(c) .. ' still has ' .. int(tasks) .. ' unfinished tasks', 0,
    {state = zeros})
end
