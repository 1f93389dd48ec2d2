-- Part of the Manager's Redis function library: see base.lua.

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
  return live_tickets(c) < redis.call('HLEN', c.p .. ':qe')
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
