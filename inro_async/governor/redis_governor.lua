-- RedisGovernor's one script: every decision for every process sharing a key, atomically, on
-- Redis's clock. Loaded by inro_async/governor/_redis_script.py, which also encodes the
-- arguments and decodes the replies below (one function per reply shape); see redis.py for
-- the design.
--
-- KEYS: pause (until when a 429 holds everyone), last (the latest slot granted), then per
-- quota its log (a list of entries, oldest first) and its total (the members of that log),
-- then askers (a sorted set: processes that asked lately).
-- An entry is 'first|last|count' or 'first|last|count|held|answered|answered_at': ``count``
-- slots from ``first`` to ``last``, of which ``held`` were granted to a process that reports
-- its answers and are still unanswered, and ``answered`` have been answered (or ended without
-- one), the latest at ``answered_at`` (Redis time). As in ``_logs.SlidingLog``: while a member
-- is held the entry stays (``held_for`` past W + margin at most: a killed process's); once
-- every member is answered it leaves W after the last answer (the server counted each request
-- before answering it); otherwise W + margin after ``last``.
-- ARGV: op, margin, horizon, n (quotas), per quota (limit, period, server limit), resolution,
-- held_for, then the op's own arguments (below).
-- Replies: times and durations as '%.17g' strings (a Lua number in a reply is cut to an
-- integer; these keep every bit), counts as integers.
--   reserve (wanted, near, ahead, asker, hold, answered slot_1..slot_k):
--     {granted, wait, binding, now, last, likely, count_1..count_n, slot_1..slot_granted}
--     (with granted = 0: the first six only; likely: the wait were every held slot answered
--     as its window ends, what a bound on waiting is judged by)
--   release (slot, held):                             {1, '0', 0, now}
--   answered (slot_1..slot_k): those held slots were answered now     {1, found, 0, now}
--   pause (seconds):                                  {1, paused_for, 0, now}
--   correct (server limit, remaining, sent, counted, count_1..count_n):  {1, added, 0, now}
--   peek:                       {1, '0', 0, now, used_1, free_in_1, ..., used_n, free_in_n}
--     (free_in as ``likely``: a held slot guessed answered as its window ends)
local op = ARGV[1]
local margin = tonumber(ARGV[2])
local horizon = tonumber(ARGV[3])
local nq = tonumber(ARGV[4])
local resolution = tonumber(ARGV[5 + 3 * nq])
local held_for = tonumber(ARGV[6 + 3 * nq])
local base = 6 + 3 * nq   -- ARGV[base + 1] is the first op-specific argument
local t = redis.call('TIME')  -- the only clock read: every process agrees on it
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local pause_key, last_key = KEYS[1], KEYS[2]
local _ASKERS_WINDOW = 10  -- seconds a process counts as sharing the quota after it last asked

local function fmt(x) return string.format('%.17g', x) end  -- exact: a double's every digit
local function entry(f, l, c, h, k, a)
  if (h or 0) == 0 and (k or 0) == 0 then return fmt(f) .. '|' .. fmt(l) .. '|' .. c end
  return fmt(f) .. '|' .. fmt(l) .. '|' .. c .. '|' .. h .. '|' .. k .. '|' .. fmt(a)
end
local function parse(e)  -- first, last, count, held, answered, answered_at
  local f, l, c, h, k, a = string.match(e, '^([^|]+)|([^|]+)|([^|]+)|?([^|]*)|?([^|]*)|?([^|]*)$')
  return tonumber(f), tonumber(l), tonumber(c), tonumber(h) or 0, tonumber(k) or 0,
         tonumber(a) or 0
end
local function q(i)  -- limit, period, server limit, log key, total key
  return tonumber(ARGV[2 + 3 * i]), tonumber(ARGV[3 + 3 * i]), tonumber(ARGV[4 + 3 * i]),
         KEYS[1 + 2 * i], KEYS[2 + 2 * i]
end
local function total_of(tk) return tonumber(redis.call('GET', tk) or '0') end
-- When an entry leaves the window, and when it would if its held members were answered as
-- their window ends (what estimates and bounds on waiting assume). An answered request left
-- the server's window W after its answer: 10 ppm (and a microsecond) for the clocks' rates.
local function ends(l, c, h, k, a, period, span)
  local free = l + span
  if k > 0 then
    local answered = a + (period * (1 + 1e-5) + 1e-6)  -- as SlidingLog.after, to the bit
    if k >= c then free = answered elseif answered > free then free = answered end
  end
  if h > 0 then return l + span + held_for, l + span end
  return free, free
end
local function expire(lk, tk, period, span, at)
  while true do
    local e = redis.call('LINDEX', lk, 0)
    if not e then return end
    local f, l, c, h, k, a = parse(e)
    if ends(l, c, h, k, a, period, span) <= at then  -- in order: a later entry waits its turn
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
-- The earliest time >= at with a free slot, and the same guessing held slots answered as their
-- window ends. The log is a queue: no entry frees before an older one.
local function free_at(lk, tk, limit, period, span, at)
  expire(lk, tk, period, span, now)
  local excess = total_of(tk) - limit + 1
  if excess <= 0 then return at, at end
  local frees, likely = at, at
  walk(lk, function(f, l, c, h, k, a)
    local free, guess = ends(l, c, h, k, a, period, span)
    if free > frees then frees = free end
    if guess > likely then likely = guess end
    excess = excess - c
    if excess <= 0 then return true end
  end)
  return frees, likely
end
-- Members still in the window at ``at``: not those of an entry that left by then and only
-- waits in the queue behind a held one (as ``SlidingLog.held_since``). The walk stops at the
-- first entry that began within W of ``at`` (none of those has left), at one that is not held
-- (those behind it wait at most a margin, and are counted) and after 64 entries (behind a
-- slot whose answer never comes, from a killed process: counted, as the server may have).
local function alive_at(lk, tk, period, span, at)
  local n, seen = total_of(tk), 0
  return walk(lk, function(f, l, c, h, k, a)
    seen = seen + 1
    if f + period > at or seen > 64 then return n end
    if ends(l, c, h, k, a, period, span) <= at then
      n = n - c
    elseif h == 0 then
      return n
    end
  end) or n
end
local function add(lk, tk, step, at, count, held)  -- at >= every entry (reservations in order)
  local e = redis.call('LINDEX', lk, -1)
  if e then
    local f, l, c, h, k, a = parse(e)
    if at - f < step then
      redis.call('LSET', lk, -1, entry(f, math.max(l, at), c + count, h + held, k, a))
      redis.call('INCRBY', tk, count)
      return
    end
  end
  redis.call('RPUSH', lk, entry(at, at, count, held, 0, 0))
  redis.call('INCRBY', tk, count)
end
-- Requests someone else made, which the server counted by ``at``: answered then, so they leave
-- W after it. An entry of their own (as ``SlidingLog.add_correction``), never part of one that
-- holds slots (they would stay as long as those do), anywhere in time, keeping the log in order.
local function insert(lk, tk, at, count)
  local n = redis.call('LLEN', lk)
  local own = entry(at, at, count, 0, count, at)
  redis.call('INCRBY', tk, count)
  for j = -1, -n, -1 do
    local e = redis.call('LINDEX', lk, j)
    if parse(e) <= at then
      redis.call('LINSERT', lk, 'AFTER', e, own)
      return
    end
  end
  redis.call('LPUSH', lk, own)
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
-- The held slots in ARGV[from..]: answered now, or their attempts ended without an answer (if a
-- request reached the server at all, it did so by now). Each counts as answered in its entry,
-- found from the newest (answers come soon after their slots); returns how many were held.
local function answer(from)
  local slots = {}
  for j = from, #ARGV do table.insert(slots, tonumber(ARGV[j])) end
  table.sort(slots, function(x, y) return x > y end)
  local found = 0
  for i = 1, nq do
    local lk = KEYS[1 + 2 * i]
    local s, stop, size = 1, -1, 1  -- one at first: the answer is nearly always at the tail
    while s <= #slots do
      local batch = redis.call('LRANGE', lk, stop - size + 1, stop)
      for j = #batch, 1, -1 do
        local f, l, c, h, k, a = parse(batch[j])
        local changed = false
        while s <= #slots and slots[s] >= f - 1e-6 do
          if slots[s] > l + 1e-6 then
            s = s + 1  -- in no entry (given back, or gone with its window)
          elseif h > 0 then
            h, k, a, changed = h - 1, k + 1, math.max(a, now), true
            if i == 1 then found = found + 1 end
            s = s + 1
          else
            break  -- an entry of corrections at the same time: the slot's is an older one
          end
        end
        if changed then redis.call('LSET', lk, stop - (#batch - j), entry(f, l, c, h, k, a)) end
        if s > #slots then break end
      end
      if #batch < size then break end
      stop, size = stop - size, math.min(size * 4, 64)
    end
  end
  return found
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
  -- ``hold`` ('1') holds each slot until its answer (the process reports its answers); any
  -- further arguments are held slots answered since the last call (as ``answered``).
  -- Returns: granted, wait for the first, binding quota, now, the last slot granted, the wait
  -- for the first were held slots answered as their windows end, every quota's count in its
  -- window at the last slot (these dispatches included), then the slots.
  local wanted, near, ahead = tonumber(ARGV[base + 1]), tonumber(ARGV[base + 2]),
                              tonumber(ARGV[base + 3])
  local hold = tonumber(ARGV[base + 5] or '0')
  answer(base + 6)
  local askers_key = KEYS[3 + 2 * nq]
  redis.call('ZADD', askers_key, now, ARGV[base + 4])
  redis.call('ZREMRANGEBYSCORE', askers_key, '-inf', now - _ASKERS_WINDOW)
  local smallest = math.huge
  for i = 1, nq do smallest = math.min(smallest, (q(i))) end
  wanted = math.min(wanted, math.max(1, math.ceil(smallest / redis.call('ZCARD', askers_key))))
  local out = {0, '0', 0, fmt(now), '0', '0'}
  local slots = {}
  local granted = 0
  while granted < wanted do
    local from = math.max(now, pause, last)
    local at, likely, binding = from, from, 0
    for i = 1, nq do
      local limit, period, _, lk, tk = q(i)
      local free, guess = free_at(lk, tk, limit, period, period + margin, from)
      if free > at then at = free; binding = i end
      if guess > likely then likely = guess end
    end
    if granted == 0 then
      out[2], out[3], out[6] = fmt(at - now), binding, fmt(likely - now)
      if at - now > ahead then break end
    elseif at - now > near then
      break
    end
    table.insert(slots, fmt(at))
    for i = 1, nq do
      local _, period, _, lk, tk = q(i)
      add(lk, tk, period / resolution, at, 1, hold)
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
      table.insert(out, alive_at(lk, tk, period, period + margin, last))
    end
    for _, slot in ipairs(slots) do table.insert(out, slot) end
  end
  return out
elseif op == 'release' then  -- a slot reserved and never used (``held``: '1' if it was held)
  local at, held = tonumber(ARGV[base + 1]), tonumber(ARGV[base + 2] or '0')
  for i = 1, nq do
    local _, _, _, lk, tk = q(i)
    local n = redis.call('LLEN', lk)
    for j = n - 1, math.max(0, n - 64), -1 do
      local e = redis.call('LINDEX', lk, j)
      local f, l, c, h, k, a = parse(e)
      if f <= at + 1e-6 and at - 1e-6 <= l and c > 0 then
        if held > 0 and h > 0 then h = h - 1 end
        redis.call('LSET', lk, j, entry(f, l, c - 1, h, math.min(k, c - 1), a))
        redis.call('DECRBY', tk, 1)
        break
      end
    end
  end
  return {1, '0', 0, fmt(now)}
elseif op == 'answered' then
  return {1, tostring(answer(base + 1)), 0, fmt(now)}
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
      expire(lk, tk, period, period + margin, sent)
      local known = alive_at(lk, tk, period, period + margin, sent)
                    - between(lk, sent + grace, math.huge)
      local count = tonumber(ARGV[base + 4 + i])
      if count >= 0 then
        known = math.max(known, count + between(lk, counted, sent + grace))
      end
      local missing = used - (slimit - limit) - known
      if missing > 0 then
        insert(lk, tk, sent, missing)
        added = math.max(added, missing)
      end
    end
  end
  keep(ttl)
  return {1, tostring(added), 0, fmt(now)}
else -- 'peek': per quota total and seconds until a slot frees (held ones as ``likely``)
  local out = {1, '0', 0, fmt(now)}
  for i = 1, nq do
    local limit, period, _, lk, tk = q(i)
    local _, likely = free_at(lk, tk, limit, period, period + margin, now)
    table.insert(out, total_of(tk))
    table.insert(out, fmt(math.max(likely, pause) - now))
  end
  return out
end
