-- Part of the Manager's Redis function library: see base.lua.

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
  -- The sum as a Lua number is exact below 2^53; past that, read its text.
  if r > -MAX_EXACT and r < MAX_EXACT then return ok('i' .. int(r)) end
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
