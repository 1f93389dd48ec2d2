-- ipc::Manager's objects on Redis: every operation of every object kind,
-- run as one script so that each call (and each batch of calls) is atomic,
-- as it is in ipcd. The C++ side (redis_backend.cc) loads this script once
-- (SCRIPT LOAD, then EVALSHA) and translates ipcd Calls into its arguments.
--
-- Keys. Object NAME lives under the hash tag {ipc:NAME}, so all of its keys
-- are in one cluster slot: P..':k' a hash of what the object is (kind, an
-- incarnation id, and per kind: a queue's cap/order/closed/tasks/seq, a
-- semaphore's initial units), P..':d' its data, P..':h'/':e' a semaphore's
-- holders and their lease expiries. P..':w' is the object's shard channel:
-- a change that may unblock a waiter publishes there. KEYS holds one P per
-- object the call names.
--
-- Values are ipcd.v1.Value messages serialized canonically by the client;
-- the script compares them as bytes. Numbers the script must read (a
-- counter's delta, a semaphore's units) come as decimal strings, and a
-- counter is kept as Redis keeps integers, as text, never converted to a
-- Lua number (a double) on the way.
--
-- ARGV: token (this client's lock and semaphore holder id), lease (ms),
-- the number of calls, then per call the fields F below, then its items.
-- Reply: one array per call: {code, message, value, flag, count, list_a,
-- list_b, block}; value is '' (unset), 'v'..bytes or 'i'..decimal; block is
-- {} or, for a blocking operation that cannot complete yet, {timeout code,
-- retry hint ms (0: none), state}: the client waits for a publish on the
-- object's channel (or the hint) and calls again with that state, which
-- lets the script notice an object destroyed meanwhile.

local token = ARGV[1]
local lease = tonumber(ARGV[2])
local ncalls = tonumber(ARGV[3])

local OK, INVALID, NOT_FOUND, DEADLINE, CLOSED, UNSUPPORTED, FULL, EMPTY =
  0, 1, 2, 5, 7, 10, 12, 13

local DICT, COUNTER, LOCK, RLOCK, QUEUE, EVENT, LIST, SEM, BSEM, VALUE, NS, BARRIER, CONDITION =
  1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13

local KIND_NAMES = {'dict', 'counter', 'lock', 'rlock', 'queue', 'event', 'list',
  'semaphore', 'bounded_semaphore', 'value', 'namespace', 'barrier', 'condition'}
local OP_NAMES = {'CREATE', 'DESTROY', 'GET', 'SET', 'DELETE', 'CONTAINS', 'LEN',
  'KEYS', 'VALUES', 'ITEMS', 'UPDATE', 'POP', 'SETDEFAULT', 'CLEAR',
  'COMPARE_AND_SET', 'ADD', 'ACQUIRE', 'RELEASE', 'PUT', 'CLOSE', 'IS_SET',
  'WAIT', 'APPEND', 'EXTEND', 'INSERT', 'REMOVE', 'INDEX', 'COUNT', 'SLICE',
  'ABORT', 'RESET', 'NOTIFY', 'NOTIFY_ALL', 'TASK_DONE', 'JOIN'}
local ORDER_NAMES = {[0] = 'fifo', [1] = 'lifo', [2] = 'priority'}

-- Operations of the client itself (not in ipcd.proto).
local OP_RENEW, OP_RELEASE_ALL, OP_INFO, OP_GIVE_UP = 100, 101, 102, 103

-- The canonical bytes of a null Value.
local NULLV = '\8\0'
-- Never the bytes of a Value (those start with a field tag, never 0).
local TOMBSTONE = '\0'

-- A Lua number as an integer's digits ('..' would write 1e+14).
local function int(n) return string.format('%d', n) end
-- The most a count may reach here: Lua numbers are doubles.
local MAX_EXACT = 9007199254740992

local function kind_name(kind) return KIND_NAMES[kind] or ('kind ' .. kind) end
local function op_name(op) return OP_NAMES[op] or ('op ' .. op) end

local function reply(code, msg, value, flag, count, list)
  return {code, msg or '', value or '', flag and 1 or 0, count or 0, list or {}, '', {}, 0}
end
-- A give-up's reply that is the call's answer (not just "timed out").
local function final(r)
  r[9] = 1
  return r
end
-- The bytes of a Value holding string s (field 5, length-delimited).
local function string_value(s)
  local n, len = #s, ''
  while n >= 128 do
    len = len .. string.char(n % 128 + 128)
    n = math.floor(n / 128)
  end
  return '\42' .. len .. string.char(n) .. s
end
local function ok(value, flag, count, list) return reply(OK, '', value, flag, count, list) end
local function err(code, msg) return reply(code, msg) end
-- r, noting that the call left this client holding lock or semaphore name
-- (the client renews what it holds).
local function holding(r, name)
  r[7] = name
  return r
end
-- Not yet: the client waits and calls again with the state returned here:
-- the object's incarnation and, for kinds that wait in a line, '|' and the
-- waiter's own state (its place in line; empty until its first retry takes
-- one). opts: state (that own state), channel (another object's channel to
-- wait on), unbounded (the call's deadline no longer applies).
local function block(c, code, msg, retry_ms, opts)
  opts = opts or {}
  local r = reply(code, msg)
  local state = c.inc or ''
  if opts.state then
    state = state .. '|' .. opts.state
  elseif c.fair then
    state = state .. '|' .. c.ticket
  end
  r[8] = {code, retry_ms or 0, state, opts.channel or '', opts.unbounded and 1 or 0}
  return r
end

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function wake(c) redis.call('SPUBLISH', c.p .. ':w', '1') end

-- Waiting in line (locks, semaphores): ipcd serves its waiters in the order
-- they asked, so this does too. P:q orders the waiters' tickets by arrival,
-- P:qe holds each ticket's expiry, pushed on by each retry of its waiter (at
-- least every second): a waiter that died leaves the line within TICKET_TTL.
local TICKET_TTL = 3000

-- Drops dead waiters from the head of the line; true when c may take what
-- it asked for now (nobody waits before it). Renews c's ticket.
local function my_turn(c)
  local q, qe = c.p .. ':q', c.p .. ':qe'
  local now = now_ms()
  local head
  while true do
    head = redis.call('ZRANGE', q, 0, 0)[1]
    if not head or tonumber(redis.call('HGET', qe, head) or '0') >= now then break end
    redis.call('ZREM', q, head)
    redis.call('HDEL', qe, head)
  end
  if c.ticket ~= '' then
    if redis.call('HEXISTS', qe, c.ticket) == 1 then
      redis.call('HSET', qe, c.ticket, now + TICKET_TTL)
    else
      c.ticket = ''  -- It fell out of line (its waiter stalled): join again.
    end
  end
  return not head or head == c.ticket
end

-- c took what it waited for: out of the line, and the next one may go.
local function leave_line(c)
  if c.ticket == '' then return end
  redis.call('ZREM', c.p .. ':q', c.ticket)
  redis.call('HDEL', c.p .. ':qe', c.ticket)
  c.ticket = ''
  if redis.call('ZCARD', c.p .. ':q') > 0 then wake(c) end
end

-- Not c's turn: a waiter that retries takes a ticket at the end of the line.
local function wait_in_line(c, code, msg, retry_ms)
  if c.ticket == '' and c.enqueue then
    local seq = redis.call('HINCRBY', c.k, 'qseq', 1)
    c.ticket = token .. ':' .. seq
    redis.call('ZADD', c.p .. ':q', seq, c.ticket)
    redis.call('HSET', c.p .. ':qe', c.ticket, now_ms() + TICKET_TTL)
  end
  return block(c, code, msg, retry_ms)
end

local function describe(c) return kind_name(c.kind) .. " '" .. c.name .. "'" end

-- Redis commands take at most a few thousand arguments from Lua's unpack.
local function push_all(cmd, key, list)
  local i = 1
  while i <= #list do
    local j = math.min(i + 999, #list)
    redis.call(cmd, key, unpack(list, i, j))
    i = j + 1
  end
end

---------------------------------------------------------------------------
-- Per kind: handlers[kind][op](c) -> reply. c.m is the object's meta hash
-- as a table (nil when the object does not exist and the op only reads).

local handlers = {}

-- dict and namespace --------------------------------------------------------
local dict = {}
handlers[DICT] = dict
handlers[NS] = dict

local function no_key(c) return err(NOT_FOUND, describe(c) .. " has no key '" .. c.key .. "'") end

dict[3] = function(c)  -- GET
  local v = redis.call('HGET', c.d, c.key)
  if v then return ok('v' .. v) end
  if c.has_value then return ok('v' .. c.value) end
  return no_key(c)
end
dict[4] = function(c)  -- SET
  redis.call('HSET', c.d, c.key, c.has_value and c.value or NULLV)
  return ok()
end
dict[5] = function(c)  -- DELETE
  if redis.call('HDEL', c.d, c.key) == 0 then return no_key(c) end
  return ok()
end
dict[6] = function(c) return ok(nil, redis.call('HEXISTS', c.d, c.key) == 1) end  -- CONTAINS
dict[7] = function(c) return ok(nil, false, redis.call('HLEN', c.d)) end            -- LEN
-- KEYS, VALUES, ITEMS: every entry, flattened; the client sorts by key.
local function all_entries(c) return ok(nil, false, 0, redis.call('HGETALL', c.d)) end
dict[8] = all_entries
dict[9] = all_entries
dict[10] = all_entries
dict[11] = function(c)  -- UPDATE
  local flat = {}
  for i = 1, #c.items, 2 do
    flat[#flat + 1] = c.items[i]
    flat[#flat + 1] = c.items[i + 1]
  end
  local i = 1
  while i <= #flat do
    local j = math.min(i + 999, #flat)
    redis.call('HSET', c.d, unpack(flat, i, j))
    i = j + 1
  end
  return ok()
end
dict[12] = function(c)  -- POP
  local v = redis.call('HGET', c.d, c.key)
  if v then
    redis.call('HDEL', c.d, c.key)
    return ok('v' .. v)
  end
  if c.has_value then return ok('v' .. c.value) end
  return no_key(c)
end
dict[13] = function(c)  -- SETDEFAULT
  if not c.has_value then
    return err(INVALID, describe(c) .. ': SETDEFAULT needs a value (send null to store null)')
  end
  redis.call('HSETNX', c.d, c.key, c.value)
  return ok('v' .. redis.call('HGET', c.d, c.key))
end
dict[14] = function(c) redis.call('DEL', c.d); return ok() end  -- CLEAR
dict[15] = function(c)  -- COMPARE_AND_SET
  local cur = redis.call('HGET', c.d, c.key)
  local match
  if c.has_expected then
    match = cur and not c.never_equal and cur == c.expected
  else
    match = not cur
  end
  if match then
    cur = c.has_value and c.value or NULLV
    redis.call('HSET', c.d, c.key, cur)
  end
  return ok(cur and ('v' .. cur) or '', match)
end

-- counter ------------------------------------------------------------------
local counter = {}
handlers[COUNTER] = counter
local function counter_value(c) return 'i' .. (redis.call('GET', c.d) or '0') end
counter[3] = function(c) return ok(counter_value(c)) end  -- GET
counter[4] = function(c) redis.call('SET', c.d, c.num); return ok() end  -- SET
counter[16] = function(c)  -- ADD
  local r = redis.pcall('INCRBY', c.d, c.num)
  if type(r) == 'table' and r.err then
    return err(INVALID, describe(c) .. ': adding ' .. c.num .. ' overflows int64')
  end
  return ok(counter_value(c))
end
counter[15] = function(c)  -- COMPARE_AND_SET
  local cur = redis.call('GET', c.d) or '0'
  local match = cur == c.expected_num
  if match then
    redis.call('SET', c.d, c.num)
    cur = c.num
  end
  return ok('i' .. cur, match)
end

-- value ----------------------------------------------------------------------
local value = {}
handlers[VALUE] = value
value[1] = function(c)  -- CREATE: a new value holds the given one
  if c.created then redis.call('SET', c.d, c.has_value and c.value or NULLV) end
  return ok()
end
value[3] = function(c) return ok('v' .. (redis.call('GET', c.d) or NULLV)) end  -- GET
value[4] = function(c) redis.call('SET', c.d, c.has_value and c.value or NULLV); return ok() end
value[15] = function(c)  -- COMPARE_AND_SET (unset expected: null)
  local cur = redis.call('GET', c.d) or NULLV
  local expected = c.has_expected and c.expected or NULLV
  local match = not c.never_equal and cur == expected
  if match then
    cur = c.has_value and c.value or NULLV
    redis.call('SET', c.d, cur)
  end
  return ok('v' .. cur, match)
end

-- event ----------------------------------------------------------------------
local event = {}
handlers[EVENT] = event
local function is_set(c) return redis.call('EXISTS', c.d) == 1 end
-- Each SET counts in meta 'sets': a waiter that saw count N and finds more
-- was woken by a SET, even if a CLEAR came before its retry (ipcd answers
-- every waiter at the SET).
event[4] = function(c)  -- SET
  redis.call('SET', c.d, '1')
  redis.call('HINCRBY', c.k, 'sets', 1)
  wake(c)
  return ok()
end
event[14] = function(c) redis.call('DEL', c.d); return ok() end              -- CLEAR
event[21] = function(c) return ok(nil, is_set(c)) end                        -- IS_SET
event[22] = function(c)                                                      -- WAIT
  local sets = c.m.sets or '0'
  if is_set(c) or (c.ticket ~= '' and tonumber(sets) > tonumber(c.ticket)) then
    return ok(nil, true)
  end
  return block(c, DEADLINE, describe(c) .. ' was not set in time', 0, {state = sets})
end

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

-- list -------------------------------------------------------------------------
local list = {}
handlers[LIST] = list
local function list_at(c, default_index)
  local index = c.index or default_index
  local n = redis.call('LLEN', c.d)
  local at = index < 0 and index + n or index
  if at < 0 or at >= n then
    -- The index as the caller wrote it: past 2^53 a Lua number has lost digits.
    return nil, err(INVALID, describe(c) .. ': index ' .. (c.index and c.index_text or index) ..
      ' is out of range for length ' .. n)
  end
  return at, nil, n
end
local function needs_value(c)
  if not c.has_value then
    return err(INVALID, describe(c) .. ': ' .. op_name(c.op) .. ' needs a value')
  end
end
local function no_item(c) return err(NOT_FOUND, describe(c) .. ' holds no item equal to the value') end
list[23] = function(c)  -- APPEND
  local bad = needs_value(c); if bad then return bad end
  redis.call('RPUSH', c.d, c.value)
  return ok()
end
list[24] = function(c)  -- EXTEND: the items come as c.items values
  local values = {}
  for i = 2, #c.items, 2 do values[#values + 1] = c.items[i] end
  push_all('RPUSH', c.d, values)
  return ok()
end
list[3] = function(c)  -- GET
  local at, bad = list_at(c, 0); if bad then return bad end
  return ok('v' .. redis.call('LINDEX', c.d, at))
end
list[4] = function(c)  -- SET
  local bad = needs_value(c); if bad then return bad end
  local at; at, bad = list_at(c, 0); if bad then return bad end
  redis.call('LSET', c.d, at, c.value)
  return ok()
end
list[25] = function(c)  -- INSERT: clamped as Python's list.insert
  local bad = needs_value(c); if bad then return bad end
  local n = redis.call('LLEN', c.d)
  local at = c.index or 0
  if at < 0 then at = at + n end
  at = math.max(0, math.min(at, n))
  if at == 0 then
    redis.call('LPUSH', c.d, c.value)
  elseif at == n then
    redis.call('RPUSH', c.d, c.value)
  else
    local tail = redis.call('LRANGE', c.d, at, -1)
    redis.call('LTRIM', c.d, 0, at - 1)
    redis.call('RPUSH', c.d, c.value)
    push_all('RPUSH', c.d, tail)
  end
  return ok()
end
list[12] = function(c)  -- POP (the last item by default)
  local at, bad, n = list_at(c, -1); if bad then return bad end
  local v
  if at == n - 1 then
    v = redis.call('RPOP', c.d)
  elseif at == 0 then
    v = redis.call('LPOP', c.d)
  else
    v = redis.call('LINDEX', c.d, at)
    redis.call('LSET', c.d, at, TOMBSTONE)
    redis.call('LREM', c.d, 1, TOMBSTONE)
  end
  return ok('v' .. v)
end
list[26] = function(c)  -- REMOVE
  local bad = needs_value(c); if bad then return bad end
  if c.never_equal or redis.call('LREM', c.d, 1, c.value) == 0 then return no_item(c) end
  return ok()
end
list[27] = function(c)  -- INDEX
  local bad = needs_value(c); if bad then return bad end
  local at = not c.never_equal and redis.call('LPOS', c.d, c.value)
  if not at then return no_item(c) end
  return ok(nil, false, at)
end
list[28] = function(c)  -- COUNT
  local bad = needs_value(c); if bad then return bad end
  if c.never_equal then return ok(nil, false, 0) end
  return ok(nil, false, #redis.call('LPOS', c.d, c.value, 'COUNT', 0))
end
list[29] = function(c)  -- SLICE, clamped as Python's list[start:stop]
  local n = redis.call('LLEN', c.d)
  local function clamp(i)
    if i < 0 then i = i + n end
    return math.max(0, math.min(i, n))
  end
  local from, to = clamp(c.index or 0), clamp(c.stop or n)
  if to <= from then return ok() end
  return ok(nil, false, 0, redis.call('LRANGE', c.d, from, to - 1))
end
list[7] = function(c) return ok(nil, false, redis.call('LLEN', c.d)) end  -- LEN
list[14] = function(c) redis.call('DEL', c.d); return ok() end             -- CLEAR

-- barrier: each waiting party has a ticket in P:qe ("gen;epoch;index;id" ->
-- expiry, renewed by every retry of its waiter, so a party that died is
-- seen within TICKET_TTL and breaks the round, as a closed connection does
-- in ipcd). When a round passes, each waiting ticket's arrival index goes
-- to P:r, where its waiter's retry finds it. Meta: parties, gen (rounds
-- passed), epoch (resets), broken.
local barrier = {}
handlers[BARRIER] = barrier
local function barrier_break(c)
  redis.call('HSET', c.k, 'broken', '1')
  redis.call('DEL', c.p .. ':qe')
  wake(c)
end
local function barrier_party_left(c)
  local now = now_ms()
  local flat = redis.call('HGETALL', c.p .. ':qe')
  for i = 2, #flat, 2 do
    if tonumber(flat[i]) < now then return true end
  end
  return false
end
local function barrier_parties_differ(c)
  if c.capacity ~= '0' and c.capacity ~= c.m.parties then
    return err(INVALID, describe(c) .. ' exists with ' .. c.m.parties .. ' parties, not ' ..
      c.capacity)
  end
end
local function barrier_broken(c) return err(CLOSED, describe(c) .. ' is broken') end
local function barrier_late(c, came)
  return describe(c) .. ': ' .. came .. ' of ' .. c.m.parties .. ' parties came in time; broken'
end
barrier.make_error = function(c)
  if c.capacity == '0' then
    return err(INVALID, describe(c) .. ' does not exist: CREATE it (or WAIT) with capacity = ' ..
      'the number of parties')
  end
  if tonumber(c.capacity) < 1 then
    return err(INVALID, describe(c) .. ': capacity (the number of parties) must be at least 1, not ' ..
      c.capacity)
  end
end
barrier[1] = function(c) return barrier_parties_differ(c) or ok() end  -- CREATE
barrier[3] = function(c)  -- GET
  return ok('i' .. int(redis.call('HLEN', c.p .. ':qe')), c.m.broken == '1', tonumber(c.m.parties))
end
barrier[30] = function(c) barrier_break(c); return ok() end  -- ABORT
barrier[31] = function(c)  -- RESET
  redis.call('HSET', c.k, 'broken', '0')
  redis.call('HINCRBY', c.k, 'epoch', 1)
  redis.call('DEL', c.p .. ':qe')
  wake(c)
  return ok()
end
barrier[22] = function(c)  -- WAIT
  local bad = barrier_parties_differ(c); if bad then return bad end
  local qe = c.p .. ':qe'
  if c.ticket ~= '' then  -- a party waiting
    local _, epoch = string.match(c.ticket, '^(%d+);(%d+);(%d+);')
    local passed = redis.call('HGET', c.p .. ':r', c.ticket)
    if passed then
      redis.call('HDEL', c.p .. ':r', c.ticket)
      return ok(nil, false, tonumber(passed))
    end
    if c.m.epoch ~= epoch then
      return err(CLOSED, describe(c) .. ' was reset while this party waited')
    end
    if c.m.broken == '1' then return barrier_broken(c) end
    if redis.call('HEXISTS', qe, c.ticket) == 0 or barrier_party_left(c) then
      barrier_break(c)
      return barrier_broken(c)
    end
    redis.call('HSET', qe, c.ticket, now_ms() + TICKET_TTL)
    return block(c, DEADLINE, barrier_late(c, redis.call('HLEN', qe)), 0, {state = c.ticket})
  end
  if c.m.broken == '1' then return barrier_broken(c) end
  if barrier_party_left(c) then
    barrier_break(c)
    return barrier_broken(c)
  end
  local n = redis.call('HLEN', qe)
  if n + 1 >= tonumber(c.m.parties) then  -- the last party: the round passes
    local results = {}
    for _, ticket in ipairs(redis.call('HKEYS', qe)) do
      results[#results + 1] = ticket
      results[#results + 1] = string.match(ticket, '^%d+;%d+;(%d+);')
    end
    if #results > 0 then
      redis.call('HSET', c.p .. ':r', unpack(results))
      -- Results of waiters that died before reading them go in time.
      redis.call('PEXPIRE', c.p .. ':r', 60000)
    end
    redis.call('HINCRBY', c.k, 'gen', 1)
    redis.call('DEL', qe)
    wake(c)
    return ok(nil, false, n)
  end
  if not c.may_wait then
    barrier_break(c)
    return err(DEADLINE, barrier_late(c, n + 1))
  end
  local ticket = c.m.gen .. ';' .. c.m.epoch .. ';' .. n .. ';' .. token .. ':' ..
    redis.call('HINCRBY', c.k, 'qseq', 1)
  redis.call('HSET', qe, ticket, now_ms() + TICKET_TTL)
  return block(c, DEADLINE, barrier_late(c, n + 1), 0, {state = ticket})
end
barrier.give_up = function(c)  -- the deadline passed: the round breaks, unless it passed
  local passed = redis.call('HGET', c.p .. ':r', c.ticket)
  if passed then
    redis.call('HDEL', c.p .. ':r', c.ticket)
    return final(ok(nil, false, tonumber(passed)))
  end
  if redis.call('HEXISTS', c.p .. ':qe', c.ticket) == 1 and c.m.broken ~= '1' then
    barrier_break(c)
  end
  return ok()
end

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

-- INFO: what ListObjects shows: the kind in count... see redis_backend.cc.
-- Waiters with a live ticket (their process retried within TICKET_TTL).
local function live_tickets(c)
  local now = now_ms()
  local flat = redis.call('HGETALL', c.p .. ':qe')
  local n = 0
  for i = 2, #flat, 2 do
    if tonumber(flat[i]) >= now then n = n + 1 end
  end
  return n
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

local function run(c)
  if c.preerr ~= '' then
    return err(tonumber(string.match(c.preerr, '^(%d+)')), string.match(c.preerr, '^%d+:(.*)$'))
  end
  local m = redis.call('HGETALL', c.k)
  m = m[1] and hash_table(m) or nil
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

-- Call fields, in ARGV order after the three leading arguments.
local F = 20
local out = {}
local at = 4
for i = 1, ncalls do
  local p = KEYS[tonumber(ARGV[at])]
  local value, expected = ARGV[at + 4], ARGV[at + 5]
  local function opt(s) return s ~= '' and tonumber(s) or nil end
  local c = {
    p = p, k = p .. ':k', d = p .. ':d', name = string.sub(p, 6, -2),
    kind = tonumber(ARGV[at + 1]), op = tonumber(ARGV[at + 2]), key = ARGV[at + 3],
    has_value = value ~= '', value = string.sub(value, 2),
    has_expected = expected ~= '', expected = string.sub(expected, 2),
    num = ARGV[at + 6], expected_num = ARGV[at + 7],
    capacity = ARGV[at + 8], order = ARGV[at + 9],
    index = opt(ARGV[at + 10]), index_text = ARGV[at + 10], stop = opt(ARGV[at + 11]),
    has_priority = ARGV[at + 12] ~= '', priority = ARGV[at + 12] ~= '' and ARGV[at + 12] or '0',
    state = ARGV[at + 13], never_equal = ARGV[at + 14] == '1', preerr = ARGV[at + 15],
    may_wait = ARGV[at + 17] == '1', count = opt(ARGV[at + 18]) and ARGV[at + 18],
    lock = ARGV[at + 19],
    items = {},
  }
  c.wait_inc, c.enqueue, c.ticket = c.state, false, ''
  local bar = string.find(c.state, '|', 1, true)
  if bar then
    c.wait_inc, c.enqueue, c.ticket = string.sub(c.state, 1, bar - 1), true,
      string.sub(c.state, bar + 1)
  end
  local nitems = tonumber(ARGV[at + 16])
  at = at + F
  for j = 1, 2 * nitems do c.items[j] = ARGV[at + j - 1] end
  at = at + 2 * nitems
  out[i] = run(c)
end
return out
