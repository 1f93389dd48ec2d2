-- Part of the Manager's Redis function library: see base.lua.

---------------------------------------------------------------------------
-- Which calls only read: on a missing object they see an empty one and make
-- nothing (as ipcd's reads do).
local READS = {[6] = true, [7] = true, [21] = true, [27] = true, [28] = true, [29] = true}
local function only_reads(c)
  if READS[c.op] then return true end
  if c.op == 3 then
    return c.kind == DICT or c.kind == NS or c.kind == COUNTER or c.kind == LIST or
      c.kind == SEM or c.kind == BSEM or c.kind == VALUE or c.kind == CONDITION
  end
  return false
end

local SUFFIXES = {':k', ':d', ':h', ':e', ':q', ':qe', ':n', ':r'}

local function destroy(c, m)
  if not m then return err(NOT_FOUND, "no object named '" .. c.name .. "'") end
  local kind = tonumber(m.kind)
  if c.kind ~= 0 and c.kind ~= kind then
    return err(INVALID, "object '" .. c.name .. "' is a " .. kind_name(kind) .. ', not a ' ..
      kind_name(c.kind))
  end
  for _, s in ipairs(SUFFIXES) do redis.call('DEL', c.p .. s) end
  wake(c)
  return ok()
end

local function hash_table(flat)
  local t = {}
  for i = 1, #flat, 2 do t[flat[i]] = flat[i + 1] end
  return t
end

local function make(c)
  local t = redis.call('TIME')
  local inc = t[1] .. '.' .. t[2] .. '.' .. string.sub(token, 1, 8)
  local m = {kind = tostring(c.kind), inc = inc}
  if c.kind == QUEUE then
    m.cap, m.order, m.closed, m.tasks = c.capacity, c.order, '0', '0'
  elseif c.kind == BARRIER then
    m.parties, m.gen, m.epoch, m.broken = c.capacity, '0', '0', '0'
  elseif c.kind == CONDITION then
    m.lock = c.lock
  elseif c.kind == SEM or c.kind == BSEM then
    m.initial = c.num
    redis.call('HSET', c.d, 'free', c.num)
  end
  local flat = {}
  for k, v in pairs(m) do
    flat[#flat + 1] = k
    flat[#flat + 1] = v
  end
  redis.call('HSET', c.k, unpack(flat))
  return m
end

-- The client's own operations on what it holds.
local function renew(c, m)
  if not m then return ok(nil, false) end
  local kind = tonumber(m.kind)
  if kind == LOCK or kind == RLOCK then
    if redis.call('HGET', c.d, 'o') ~= token then return ok(nil, false) end
    redis.call('PEXPIRE', c.d, lease)
    return ok(nil, true)
  end
  if kind == SEM or kind == BSEM then
    if not redis.call('HGET', c.p .. ':h', token) then return ok(nil, false) end
    redis.call('ZADD', c.p .. ':e', 'XX', now_ms() + lease, token)
    return ok(nil, true)
  end
  return ok(nil, false)
end

local function release_all(c, m)
  if not m then return ok() end
  c.kind, c.m = tonumber(m.kind), m
  if c.kind == LOCK or c.kind == RLOCK then
    if redis.call('HGET', c.d, 'o') == token then
      redis.call('DEL', c.d)
      wake(c)
    end
  elseif c.kind == SEM or c.kind == BSEM then
    local units = tonumber(redis.call('HGET', c.p .. ':h', token) or '0')
    if units > 0 then
      redis.call('HDEL', c.p .. ':h', token)
      redis.call('ZREM', c.p .. ':e', token)
      redis.call('HINCRBY', c.d, 'free', units)
      wake(c)
    end
  end
  return ok()
end

-- INFO: what ListObjects shows: count = the kind, value = the size, list =
-- {bytes, waiters known by their tickets}. (The client adds the waiters it
-- sees subscribed; queue and event waiters have no ticket.)
local function info(c, m)
  if not m then return err(NOT_FOUND, "no object named '" .. c.name .. "'") end
  c.kind, c.m = tonumber(m.kind), m
  local size, waiters = 0, 0
  if c.kind == DICT or c.kind == NS then
    size = redis.call('HLEN', c.d)
  elseif c.kind == COUNTER then
    size = nil
  elseif c.kind == LOCK or c.kind == RLOCK then
    size = tonumber(redis.call('HGET', c.d, 'n') or '0')
    waiters = live_tickets(c)
  elseif c.kind == QUEUE then
    size = queue_len(c)
  elseif c.kind == EVENT then
    size = is_set(c) and 1 or 0
  elseif c.kind == LIST then
    size = redis.call('LLEN', c.d)
  elseif c.kind == SEM or c.kind == BSEM then
    size = sem_purge(c)
    waiters = live_tickets(c)
  elseif c.kind == BARRIER then
    size = redis.call('HLEN', c.p .. ':qe')
    waiters = live_tickets(c)
  elseif c.kind == CONDITION then
    cond_purge(c)
    size = redis.call('ZCARD', c.p .. ':q')
    waiters = size
  end
  local bytes = redis.pcall('MEMORY', 'USAGE', c.d)
  if type(bytes) ~= 'number' then bytes = 0 end
  return ok(size and ('i' .. int(size)) or counter_value(c), false, c.kind,
    {tostring(bytes), tostring(waiters)})
end

-- The object's meta hash as a table (nil: no object). Kinds whose calls
-- read only the kind and incarnation get just those: one small read on the
-- common path.
local SIMPLE_META = {[DICT] = true, [COUNTER] = true, [LOCK] = true, [RLOCK] = true,
  [LIST] = true, [VALUE] = true, [NS] = true}
local function load_meta(c)
  local r = redis.call('HMGET', c.k, 'kind', 'inc')
  if not r[1] then return nil end
  if SIMPLE_META[tonumber(r[1])] then return {kind = r[1], inc = r[2]} end
  return hash_table(redis.call('HGETALL', c.k))
end

local function run(c)
  if c.preerr ~= '' then
    return err(tonumber(string.match(c.preerr, '^(%d+)')), string.match(c.preerr, '^%d+:(.*)$'))
  end
  local m = load_meta(c)
  if c.op == 2 then return destroy(c, m) end
  if c.op == OP_RENEW then return renew(c, m) end
  if c.op == OP_RELEASE_ALL then return release_all(c, m) end
  if c.op == OP_INFO then return info(c, m) end
  -- A waiter calling again: its object must be the one it waited on.
  if c.state ~= '' and (not m or m.inc ~= c.wait_inc) then
    return err(CLOSED, describe(c) .. ' was destroyed while this call waited')
  end
  if c.kind == 0 then return err(INVALID, "a call on '" .. c.name .. "' needs a kind") end
  if m and tonumber(m.kind) ~= c.kind then
    return err(INVALID, "object '" .. c.name .. "' is a " .. kind_name(tonumber(m.kind)) ..
      ', not a ' .. kind_name(c.kind))
  end
  local h = handlers[c.kind]
  if not h then
    return err(UNSUPPORTED, kind_name(c.kind) .. " objects are not available on the Redis backend")
  end
  c.fair = c.kind == LOCK or c.kind == RLOCK or c.kind == SEM or c.kind == BSEM or
    (c.kind == QUEUE and c.op == 3)
  if c.op == OP_GIVE_UP then  -- A waiter whose deadline passed.
    if not m then return ok() end
    c.m, c.inc = m, m.inc
    if h.give_up then return h.give_up(c) end
    if c.ticket ~= '' then  -- It leaves the line.
      redis.call('ZREM', c.p .. ':q', c.ticket)
      redis.call('HDEL', c.p .. ':qe', c.ticket)
      wake(c)
    end
    return ok()
  end
  local f = h[c.op]
  if not f and c.op ~= 1 then
    return err(UNSUPPORTED, describe(c) .. ' has no operation ' .. op_name(c.op))
  end
  if m and c.kind == CONDITION and c.lock ~= '' and c.lock ~= m.lock then
    return err(INVALID, describe(c) .. " is bound to lock '" .. m.lock .. "', not '" .. c.lock .. "'")
  end
  if not m and not only_reads(c) then
    if h.make_error then
      local bad = h.make_error(c)
      if bad then return bad end
    end
    m = make(c)
    c.created = true
  end
  c.m = m
  c.inc = m and m.inc
  if not f then return ok() end  -- CREATE of a kind with nothing to check
  local r = f(c)
  -- A call that failed makes nothing, as in ipcd: undo the making. (A call
  -- that waits keeps its object: the waiter is on it.)
  if c.created and r[1] ~= OK and #r[8] == 0 then
    for _, s in ipairs(SUFFIXES) do redis.call('DEL', c.p .. s) end
  end
  return r
end

-- Call fields, in argument order after the three leading arguments.
local F = 20
local function opt(s) return s ~= '' and tonumber(s) or nil end

local function call(keys, args)
  token, lease = args[1], tonumber(args[2])
  local ncalls = tonumber(args[3])
  local out = {}
  local at = 4
  for i = 1, ncalls do
    local p = keys[tonumber(args[at])]
    local value, expected = args[at + 4], args[at + 5]
    local c = {
      p = p, k = p .. ':k', d = p .. ':d', name = string.sub(p, 6, -2),
      kind = tonumber(args[at + 1]), op = tonumber(args[at + 2]), key = args[at + 3],
      has_value = value ~= '', value = string.sub(value, 2),
      has_expected = expected ~= '', expected = string.sub(expected, 2),
      num = args[at + 6], expected_num = args[at + 7],
      capacity = args[at + 8], order = args[at + 9],
      index = opt(args[at + 10]), index_text = args[at + 10], stop = opt(args[at + 11]),
      has_priority = args[at + 12] ~= '', priority = args[at + 12] ~= '' and args[at + 12] or '0',
      state = args[at + 13], never_equal = args[at + 14] == '1', preerr = args[at + 15],
      may_wait = args[at + 17] == '1', count = opt(args[at + 18]) and args[at + 18],
      lock = args[at + 19],
      items = {},
    }
    c.wait_inc, c.ticket = c.state, ''
    local bar = string.find(c.state, '|', 1, true)
    if bar then
      c.wait_inc, c.ticket = string.sub(c.state, 1, bar - 1), string.sub(c.state, bar + 1)
    end
    local nitems = tonumber(args[at + 16])
    at = at + F
    for j = 1, 2 * nitems do c.items[j] = args[at + j - 1] end
    at = at + 2 * nitems
    out[i] = run(c)
  end
  return out
end

-- The client names the function (and the library, on the first line it
-- adds) after this text's SHA1.
redis.register_function(FUNCTION_NAME, call)
