-- ipc::Manager's objects on Redis: every operation of every object kind,
-- as one Redis function, so that each call (and each batch of calls) is
-- atomic, as it is in ipcd.
--
-- The library is one Lua chunk made of this directory's files, joined in
-- the order libipc/CMakeLists.txt lists them: this one (what every kind
-- uses), one file per kind (its handlers), and dispatch.lua (checks, the
-- client's own operations, and the function FCALL runs). Locals defined in
-- an earlier file are seen by the later ones. The client (redis_router.cc) loads this library
-- with FUNCTION LOAD under a name made from its SHA1 (so clients of other
-- versions keep their own) and runs it with FCALL; call_codec.cc builds the
-- arguments from ipcd Calls and reads the replies. A library runs its body
-- once, when it is loaded: a call pays only for its own operation.
--
-- Keys. Object NAME lives under the hash tag {ipc:NAME}, so all of its keys
-- are in one cluster slot: P..':k' a hash of what the object is (kind, an
-- incarnation id, and per kind: a queue's cap/order/closed/tasks/seq, a
-- semaphore's initial units, a barrier's parties, a condition's lock),
-- P..':d' its data, and per kind the keys named where the kind is. P..':w'
-- is the object's shard channel: a change that may unblock a waiter
-- publishes there. The keys given to the function hold one P per object
-- the call names.
--
-- Values are ipcd.v1.Value messages serialized canonically by the client;
-- the function compares them as bytes. Numbers it must read (a counter's
-- delta, a semaphore's units) come as decimal strings, and a counter is
-- kept as Redis keeps integers, as text, never converted to a Lua number (a
-- double) on the way; counts that pass through Lua numbers stay below 2^53.
--
-- Arguments: token (this client's holder id for locks and semaphores),
-- lease (ms), the number of calls, then per call the F fields read at the
-- end of this file, then its items.
-- Reply: one array per call: {code, message, value, flag, count, list,
-- held, block, final}; value is '' (unset), 'v'..bytes or 'i'..decimal;
-- held names a lock or semaphore the call left this client holding; block
-- is {} or, for an operation that cannot complete yet, {timeout code,
-- retry hint ms (0: none), state, channel, unbounded}: the client waits for
-- a publish on the object's channel (or the one named, or the hint) and
-- calls again with that state, which lets the function notice an object
-- destroyed meanwhile and keeps a waiter's place in line; final marks a
-- give-up's reply that answers the call.

-- Set by each call (one call runs at a time).
local token, lease

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

-- c took what it waited for: out of the line, and the next one may go.
local function leave_line(c)
  if c.ticket == '' then return end
  redis.call('ZREM', c.p .. ':q', c.ticket)
  redis.call('HDEL', c.p .. ':qe', c.ticket)
  c.ticket = ''
  if redis.call('ZCARD', c.p .. ':q') > 0 then wake(c) end
end

-- Not c's turn: a call that will wait takes a ticket at the end of the
-- line now, at its first try, as ipcd parks it (one that will not wait, a
-- timeout of 0 or a batch, takes none).
local function wait_in_line(c, code, msg, retry_ms)
  if c.ticket == '' and c.may_wait then
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
