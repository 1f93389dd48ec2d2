-- Part of the Manager's Redis function library: see base.lua.

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
