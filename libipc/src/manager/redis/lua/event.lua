-- Part of the Manager's Redis function library: see base.lua.

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
