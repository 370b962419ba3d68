// The used request signatures of the API's authentication, kept in Redis for as long as they could be
// replayed: any host refuses a signature that any other host has already accepted.
import type { RedisClient } from './redis-connect.js';

export function redisSeenSignatures(redis: RedisClient): { firstUse(id: string, ttlMs: number): Promise<boolean> } {
  return {
    async firstUse(id, ttlMs) {
      // SET NX: one round trip, and the first of two racing hosts wins.
      return (await redis.set(`wr:seen-sig:${id}`, '1', 'PX', Math.ceil(ttlMs), 'NX')) === 'OK';
    },
  };
}
