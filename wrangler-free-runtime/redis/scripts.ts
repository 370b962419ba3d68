// Lua scripts: the only way task state is written. Each checks the task's lease fencing token, so a
// host that lost its lease (paused, partitioned) can never overwrite the state of the new holder.
import type { Redis } from 'ioredis';

const ACQUIRE = `
-- KEYS: lease, fence. ARGV: owner, ttlMs. Returns {1, token} or {0, owner, pttl}.
local owner = redis.call('HGET', KEYS[1], 'owner')
if owner and owner ~= ARGV[1] then return {0, owner, redis.call('PTTL', KEYS[1])} end
if owner == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {1, tonumber(redis.call('HGET', KEYS[1], 'token'))}
end
local token = redis.call('INCR', KEYS[2])
redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'token', token)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return {1, token}`;

const RENEW = `
-- KEYS: lease. ARGV: owner, token, ttlMs. Returns 1 if still held.
if redis.call('HGET', KEYS[1], 'owner') == ARGV[1] and redis.call('HGET', KEYS[1], 'token') == ARGV[2] then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return 1
end
return 0`;

const RELEASE = `
-- KEYS: lease. ARGV: owner, token.
if redis.call('HGET', KEYS[1], 'owner') == ARGV[1] and redis.call('HGET', KEYS[1], 'token') == ARGV[2] then
  return redis.call('DEL', KEYS[1])
end
return 0`;

const FENCED_WRITE = `
-- KEYS: task, lease, fence. ARGV: token, json, ttlMs (0 = keep forever), mode ('create' | 'update').
-- Returns 1 written, 0 stale token, -1 create of an existing task, -2 update of a missing task.
if redis.call('HGET', KEYS[2], 'token') ~= ARGV[1] then return 0 end
local exists = redis.call('EXISTS', KEYS[1])
if ARGV[4] == 'create' and exists == 1 then return -1 end
if ARGV[4] == 'update' and exists == 0 then return -2 end
local ttl = tonumber(ARGV[3])
if ttl > 0 then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ttl)
  redis.call('PEXPIRE', KEYS[3], ttl)
else
  redis.call('SET', KEYS[1], ARGV[2])
end
return 1`;

const POP_DUE_ALARMS = `
-- KEYS: alarms zset. ARGV: now, limit, retryAfterMs. Claims due members by pushing them retryAfterMs
-- ahead (fired again then if whoever claimed them never rescheduled), and returns them.
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, id in ipairs(due) do redis.call('ZADD', KEYS[1], 'XX', tonumber(ARGV[1]) + tonumber(ARGV[3]), id) end
return due`;

export interface WebrecordCommands {
  wrAcquireLease(lease: string, fence: string, owner: string, ttlMs: number): Promise<[number, number | string, number?]>;
  wrRenewLease(lease: string, owner: string, token: number, ttlMs: number): Promise<number>;
  wrReleaseLease(lease: string, owner: string, token: number): Promise<number>;
  wrFencedWrite(
    task: string,
    lease: string,
    fence: string,
    token: number,
    json: string,
    ttlMs: number,
    mode: 'create' | 'update',
  ): Promise<number>;
  wrPopDueAlarms(alarms: string, now: number, limit: number, retryAfterMs: number): Promise<string[]>;
}

export type ScriptedRedis = Redis & WebrecordCommands;

export function withScripts(redis: Redis): ScriptedRedis {
  redis.defineCommand('wrAcquireLease', { numberOfKeys: 2, lua: ACQUIRE });
  redis.defineCommand('wrRenewLease', { numberOfKeys: 1, lua: RENEW });
  redis.defineCommand('wrReleaseLease', { numberOfKeys: 1, lua: RELEASE });
  redis.defineCommand('wrFencedWrite', { numberOfKeys: 3, lua: FENCED_WRITE });
  redis.defineCommand('wrPopDueAlarms', { numberOfKeys: 1, lua: POP_DUE_ALARMS });
  return redis as ScriptedRedis;
}
