//! The Lua scripts of [`super::RedisStore`]: the operations whose reads and writes must be
//! atomic (Redis runs a script alone). Keys are passed in `KEYS` except in `REFRESH`, which
//! re-arms the mapping keys listed in a message hash (fine on a single Redis, not on a cluster).

use redis::Script;

/// KEYS: mapping, parked list, message hash, parked zset, parked counter.
/// ARGV: mapping value, TTL secs, segment, SMSC id, zset member.
const INSERT: &str = r"
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
redis.call('HSET', KEYS[3], 'a' .. ARGV[3], ARGV[4], 'k' .. ARGV[3], KEYS[1])
redis.call('EXPIRE', KEYS[3], ARGV[2])
local parked = redis.call('LRANGE', KEYS[2], 0, -1)
if #parked > 0 then
  redis.call('DEL', KEYS[2])
  redis.call('ZREM', KEYS[4], ARGV[5])
  redis.call('DECRBY', KEYS[5], #parked)
end
return parked
";

/// KEYS: mapping, parked list, parked zset, parked counter.
/// ARGV: parked entry, parked at (ms), zset member.
const PARK: &str = r"
local v = redis.call('GET', KEYS[1])
if v then return v end
redis.call('RPUSH', KEYS[2], ARGV[1])
redis.call('ZADD', KEYS[3], 'NX', ARGV[2], ARGV[3])
redis.call('INCR', KEYS[4])
return false
";

/// KEYS: parked list, parked zset, parked counter. ARGV: cutoff (ms), zset member.
/// Returns the entries parked at or before the cutoff, removed.
const TAKE_EXPIRED: &str = r"
local items = redis.call('LRANGE', KEYS[1], 0, -1)
local expired, kept, oldest = {}, {}, nil
local cutoff = tonumber(ARGV[1])
for _, item in ipairs(items) do
  local at = tonumber(string.match(item, '^(%d+)|'))
  if at <= cutoff then
    table.insert(expired, item)
  else
    table.insert(kept, item)
    if oldest == nil or at < oldest then oldest = at end
  end
end
if #kept == 0 then
  redis.call('DEL', KEYS[1])
  redis.call('ZREM', KEYS[2], ARGV[2])
else
  if #expired > 0 then
    redis.call('DEL', KEYS[1])
    redis.call('RPUSH', KEYS[1], unpack(kept))
  end
  redis.call('ZADD', KEYS[2], oldest, ARGV[2])
end
if #expired > 0 then redis.call('DECRBY', KEYS[3], #expired) end
return expired
";

/// KEYS: message hash. ARGV: segment, `d`/`f`, segments, TTL secs, now (ms), lease (ms).
/// Returns {verdict, claimed}: verdict 0 pending, 1 every segment delivered, 2 a segment
/// failed; claimed 1 when the message is decided and this call set its final claim `f` (as
/// [`CLAIM`] does: a lapsed lease is taken over).
const SETTLE: &str = r"
redis.call('HSETNX', KEYS[1], 's' .. ARGV[1], ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[4])
local verdict, delivered = 0, 0
for i = 1, tonumber(ARGV[3]) do
  local s = redis.call('HGET', KEYS[1], 's' .. i)
  if s == 'f' then verdict = 2 break end
  if s == 'd' then delivered = delivered + 1 end
end
if verdict == 0 and delivered >= tonumber(ARGV[3]) then verdict = 1 end
if verdict == 0 then return {0, 0} end
local f = redis.call('HGET', KEYS[1], 'f')
if f == 'p' or (f and tonumber(f) and tonumber(f) > tonumber(ARGV[5])) then return {verdict, 0} end
redis.call('HSET', KEYS[1], 'f', tonumber(ARGV[5]) + tonumber(ARGV[6]))
return {verdict, 1}
";

/// KEYS: message hash. ARGV: now (ms), lease (ms), TTL secs. The final claim: `f` holds the
/// lease's end (ms) while the claimant publishes, `p` once published; a lapsed lease is taken
/// over (its claimant died before publishing).
const CLAIM: &str = r"
local f = redis.call('HGET', KEYS[1], 'f')
if f == 'p' or (f and tonumber(f) and tonumber(f) > tonumber(ARGV[1])) then return 0 end
redis.call('HSET', KEYS[1], 'f', tonumber(ARGV[1]) + tonumber(ARGV[2]))
redis.call('EXPIRE', KEYS[1], ARGV[3])
return 1
";

/// KEYS: message hash. ARGV: TTL secs. Re-arms the message's mapping keys and the hash.
const REFRESH: &str = r"
local fields = redis.call('HGETALL', KEYS[1])
for i = 1, #fields, 2 do
  if string.sub(fields[i], 1, 1) == 'k' then redis.call('EXPIRE', fields[i + 1], ARGV[1]) end
end
redis.call('EXPIRE', KEYS[1], ARGV[1])
return 0
";

/// The scripts, each with its SHA1 computed once (`EVALSHA`, loaded on first use).
#[derive(Debug)]
pub(super) struct Scripts {
    pub(super) insert: Script,
    pub(super) park: Script,
    pub(super) take_expired: Script,
    pub(super) settle: Script,
    pub(super) claim: Script,
    pub(super) refresh: Script,
}

impl Scripts {
    /// Every script.
    pub(super) fn new() -> Scripts {
        Scripts {
            insert: Script::new(INSERT),
            park: Script::new(PARK),
            take_expired: Script::new(TAKE_EXPIRED),
            settle: Script::new(SETTLE),
            claim: Script::new(CLAIM),
            refresh: Script::new(REFRESH),
        }
    }
}
