-- Part of the Manager's Redis function library: see base.lua.

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
