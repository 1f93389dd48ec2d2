-- Part of the Manager's Redis function library: see base.lua.

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
