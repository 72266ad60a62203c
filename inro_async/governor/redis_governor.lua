-- RedisGovernor's one script: every decision for every process sharing a key, atomically, on
-- Redis's clock. Loaded by inro_async/governor/_redis_script.py, which also encodes the
-- arguments and decodes the replies below (one function per reply shape); see redis.py for
-- the design.
--
-- KEYS: pause (until when a 429 holds everyone), last (the latest slot granted), then per
-- quota its log (a list of 'first|last|count' entries, oldest first) and its total (the
-- members of that log), then askers (a sorted set: processes that asked lately).
-- ARGV: op, margin, horizon, n (quotas), per quota (limit, period, server limit), resolution,
-- then the op's own arguments (below).
-- Replies: times and durations as '%.6f' strings (a Lua number in a reply is cut to an
-- integer), counts as integers.
--   reserve (wanted, near, ahead, asker):
--     {granted, wait, binding, now, last, count_1..count_n, slot_1..slot_granted}
--     (with granted = 0: the first five only)
--   release (slot):                                   {1, '0', 0, now}
--   pause (seconds):                                  {1, paused_for, 0, now}
--   correct (server limit, remaining, sent, counted, count_1..count_n):  {1, added, 0, now}
--   peek:                       {1, '0', 0, now, used_1, free_in_1, ..., used_n, free_in_n}
local op = ARGV[1]
local margin = tonumber(ARGV[2])
local horizon = tonumber(ARGV[3])
local nq = tonumber(ARGV[4])
local resolution = tonumber(ARGV[5 + 3 * nq])
local base = 5 + 3 * nq   -- ARGV[base + 1] is the first op-specific argument
local t = redis.call('TIME')  -- the only clock read: every process agrees on it
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local pause_key, last_key = KEYS[1], KEYS[2]
local _ASKERS_WINDOW = 10  -- seconds a process counts as sharing the quota after it last asked

local function fmt(x) return string.format('%.6f', x) end
local function entry(f, l, c) return fmt(f) .. '|' .. fmt(l) .. '|' .. c end
local function parse(e)
  local a, b, c = string.match(e, '([^|]+)|([^|]+)|([^|]+)')
  return tonumber(a), tonumber(b), tonumber(c)
end
local function q(i)  -- limit, period, server limit, log key, total key
  return tonumber(ARGV[2 + 3 * i]), tonumber(ARGV[3 + 3 * i]), tonumber(ARGV[4 + 3 * i]),
         KEYS[1 + 2 * i], KEYS[2 + 2 * i]
end
local function total_of(tk) return tonumber(redis.call('GET', tk) or '0') end
local function expire(lk, tk, span, at)
  while true do
    local e = redis.call('LINDEX', lk, 0)
    if not e then return end
    local f, l, c = parse(e)
    if l + span <= at then
      redis.call('LPOP', lk)
      redis.call('DECRBY', tk, c)
    else
      return
    end
  end
end
-- Entries are dropped only once expired *now*: one that expires before a reserved slot stays
-- until then, since a response to a request sent before it may still need it (``correct``).
local function walk(lk, visit)  -- entries from the oldest until visit returns a value
  local i, size = 0, 1  -- the answer is nearly always in the first entry: fetch few at first
  while true do
    local batch = redis.call('LRANGE', lk, i, i + size - 1)
    for _, e in ipairs(batch) do
      local result = visit(parse(e))
      if result then return result end
    end
    if #batch < size then return nil end
    i, size = i + size, math.min(size * 4, 64)
  end
end
local function free_at(lk, tk, limit, span, at)  -- earliest time >= at with a free slot
  expire(lk, tk, span, now)
  local excess = total_of(tk) - limit + 1
  if excess <= 0 then return at end
  return walk(lk, function(f, l, c)
    excess = excess - c
    if excess <= 0 then return math.max(at, l + span) end
  end) or at
end
local function alive_at(lk, tk, span, at)  -- members still in the window at ``at``
  local n = total_of(tk)
  return walk(lk, function(f, l, c)
    if l + span > at then return n end
    n = n - c
  end) or n
end
local function add(lk, tk, step, at, count)  -- at >= every entry (reservations go in order)
  local e = redis.call('LINDEX', lk, -1)
  if e then
    local f, l, c = parse(e)
    if at - f < step then
      redis.call('LSET', lk, -1, entry(f, math.max(l, at), c + count))
      redis.call('INCRBY', tk, count)
      return
    end
  end
  redis.call('RPUSH', lk, entry(at, at, count))
  redis.call('INCRBY', tk, count)
end
local function insert(lk, tk, step, at, count)  -- anywhere in time, keeping the log in order
  local n = redis.call('LLEN', lk)
  for j = -1, -n, -1 do
    local e = redis.call('LINDEX', lk, j)
    local f, l, c = parse(e)
    if f <= at then
      if at <= l or at - f < step then
        redis.call('LSET', lk, j, entry(f, math.max(l, at), c + count))
      else
        redis.call('LINSERT', lk, 'AFTER', e, entry(at, at, count))
      end
      redis.call('INCRBY', tk, count)
      return
    end
  end
  redis.call('LPUSH', lk, entry(at, at, count))
  redis.call('INCRBY', tk, count)
end
local function between(lk, a, b)  -- members of entries that began in (a, b], from the tail
  local n, stop = 0, -1
  while true do
    local batch = redis.call('LRANGE', lk, stop - 63, stop)
    for j = #batch, 1, -1 do
      local f, l, c = parse(batch[j])
      if f <= a then return n end
      if f <= b then n = n + c end
    end
    if #batch < 64 then return n end
    stop = stop - 64
  end
end
local function keep(ttl)
  for k = 1, #KEYS do redis.call('PEXPIRE', KEYS[k], ttl) end
end
local longest = 0
for i = 1, nq do
  local _, period = q(i)
  if period > longest then longest = period end
end
local ttl = math.ceil((longest + margin + horizon + 60) * 1000)
local pause = tonumber(redis.call('GET', pause_key) or '0')
local last = tonumber(redis.call('GET', last_key) or '0')

if op == 'reserve' then
  -- Up to ``wanted`` slots, in time order: the first if it is at most ``ahead`` seconds away,
  -- the others only while they are at most ``near`` away (what a killed process can strand).
  -- Beyond the first, at most a fair share of the smallest quota per call among the processes
  -- that asked lately (``asker`` names this one), so the first to ask does not take a whole
  -- burst; it may ask again at once for what is left, so nothing goes unused.
  -- Returns: granted, wait for the first, binding quota, now, the last slot granted, every
  -- quota's count in its window at that slot (these dispatches included), then the slots.
  local wanted, near, ahead = tonumber(ARGV[base + 1]), tonumber(ARGV[base + 2]),
                              tonumber(ARGV[base + 3])
  local askers_key = KEYS[3 + 2 * nq]
  redis.call('ZADD', askers_key, now, ARGV[base + 4])
  redis.call('ZREMRANGEBYSCORE', askers_key, '-inf', now - _ASKERS_WINDOW)
  local smallest = math.huge
  for i = 1, nq do smallest = math.min(smallest, (q(i))) end
  wanted = math.min(wanted, math.max(1, math.ceil(smallest / redis.call('ZCARD', askers_key))))
  local out = {0, '0', 0, fmt(now), '0'}
  local slots = {}
  local granted = 0
  while granted < wanted do
    local at = math.max(now, pause, last)
    local binding = 0
    for i = 1, nq do
      local limit, period, _, lk, tk = q(i)
      local free = free_at(lk, tk, limit, period + margin, at)
      if free > at then at = free; binding = i end
    end
    if granted == 0 then
      out[2], out[3] = fmt(at - now), binding
      if at - now > ahead then break end
    elseif at - now > near then
      break
    end
    table.insert(slots, fmt(at))
    for i = 1, nq do
      local _, period, _, lk, tk = q(i)
      add(lk, tk, period / resolution, at, 1)
    end
    last = at
    granted = granted + 1
  end
  out[1] = granted
  if granted > 0 then
    redis.call('SET', last_key, fmt(last))
    keep(ttl)
    out[5] = fmt(last)
    for i = 1, nq do
      local _, period, _, lk, tk = q(i)
      table.insert(out, alive_at(lk, tk, period + margin, last))
    end
    for _, slot in ipairs(slots) do table.insert(out, slot) end
  end
  return out
elseif op == 'release' then
  local at = tonumber(ARGV[base + 1])
  for i = 1, nq do
    local _, _, _, lk, tk = q(i)
    local n = redis.call('LLEN', lk)
    for j = n - 1, math.max(0, n - 64), -1 do
      local e = redis.call('LINDEX', lk, j)
      local f, l, c = parse(e)
      if f <= at + 1e-6 and at - 1e-6 <= l and c > 0 then
        redis.call('LSET', lk, j, entry(f, l, c - 1))
        redis.call('DECRBY', tk, 1)
        break
      end
    end
  end
  return {1, '0', 0, fmt(now)}
elseif op == 'pause' then
  local until_ = now + tonumber(ARGV[base + 1])
  if until_ > pause then redis.call('SET', pause_key, fmt(until_)) end
  keep(ttl)
  return {1, fmt(math.max(until_, pause) - now), 0, fmt(now)}
elseif op == 'correct' then
  -- The server counted ``used`` requests in the window ending when this one arrived, so compare
  -- with what was known *at its dispatch* (``sent``, Redis time; <= 0: that long before now),
  -- not at the response: entries that left the window while the request was in flight are not
  -- requests someone else made. Known: the log's entries in (sent - W - margin, sent + grace],
  -- whatever the wire did to their order, or, if more, the count the reservation returned (up
  -- to ``counted``) plus what was reserved after it within the grace: entries expired since
  -- then are gone from the log. The shortfall is stamped at ``sent``: the server saw them by
  -- then, and stamping them later would hold their slots too long.
  local server_limit = tonumber(ARGV[base + 1])
  local used = server_limit - math.max(0, tonumber(ARGV[base + 2]))
  local sent, counted = tonumber(ARGV[base + 3]), tonumber(ARGV[base + 4])
  if sent <= 0 then sent = now + sent end
  if sent > now then sent = now end
  local grace = math.max(margin, 0.01)
  local added = 0
  for i = 1, nq do
    local limit, period, slimit, lk, tk = q(i)
    if slimit == server_limit then
      expire(lk, tk, period + margin, sent)
      local known = total_of(tk) - between(lk, sent + grace, math.huge)
      local count = tonumber(ARGV[base + 4 + i])
      if count >= 0 then
        known = math.max(known, count + between(lk, counted, sent + grace))
      end
      local missing = used - (slimit - limit) - known
      if missing > 0 then
        insert(lk, tk, period / resolution, sent, missing)
        added = math.max(added, missing)
      end
    end
  end
  keep(ttl)
  return {1, tostring(added), 0, fmt(now)}
else -- 'peek': per quota total and seconds until a slot frees
  local out = {1, '0', 0, fmt(now)}
  for i = 1, nq do
    local limit, period, _, lk, tk = q(i)
    local free = free_at(lk, tk, limit, period + margin, now)
    table.insert(out, total_of(tk))
    table.insert(out, fmt(math.max(free, pause) - now))
  end
  return out
end
