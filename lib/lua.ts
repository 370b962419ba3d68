// Lua scripts defined next to the code that runs them: `script(...)` answers a function that runs
// the script (EVALSHA, loaded on first use) on a given client, defining it there once. On a Redis
// Cluster every key of one call must share a slot, which the callers' hash tags see to.
import type { RedisClient } from './redis-connect.js';

type Run = (client: RedisClient, keys: string[], args: (string | number)[]) => Promise<unknown>;

const defined = new WeakMap<RedisClient, Set<string>>();

export function script(name: string, lua: string): Run {
  return (client, keys, args) => {
    let names = defined.get(client);
    if (!names) defined.set(client, (names = new Set()));
    if (!names.has(name)) {
      client.defineCommand(name, { lua });
      names.add(name);
    }
    const run = (client as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[name]!;
    return run.call(client, keys.length, ...keys, ...args);
  };
}
