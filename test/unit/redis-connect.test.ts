import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isRedisUnavailable, parseClusterNodes } from '../../lib/redis-connect.js';

describe('the store away or not', () => {
  it('knows the errors of a store that cannot be reached now (a 503), and no others', () => {
    for (const message of [
      'Command timed out',
      'Connection is closed.',
      "Stream isn't writeable and enableOfflineQueue options is false",
      'Too many Cluster redirections. Last error: Error: Connection is closed.',
      // The client's tries used up while the slots move (a failover): not a bug.
      'MOVED 13172 127.0.0.1:37235',
      'ASK 13172 127.0.0.1:37235',
      'LOADING Redis is loading the dataset in memory',
      'CLUSTERDOWN The cluster is down',
      'TRYAGAIN Multiple keys request during rehashing of slot',
      'MASTERDOWN Link with MASTER is down',
      "READONLY You can't write against a read only replica.",
      'MISCONF Errors writing to the AOF file: No space left on device',
    ]) {
      assert.equal(isRedisUnavailable(new Error(message)), true, message);
    }
    assert.equal(isRedisUnavailable(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' })), true);
    assert.equal(isRedisUnavailable(Object.assign(new Error('x'), { name: 'MaxRetriesPerRequestError' })), true);
    for (const message of ['ERR unknown command', 'WRONGTYPE Operation against a key holding the wrong kind of value', 'NOSCRIPT No matching script']) {
      assert.equal(isRedisUnavailable(new Error(message)), false, message);
    }
    assert.equal(isRedisUnavailable('Command timed out'), false, 'not an Error');
  });

  it('reads REDIS_CLUSTER_NODES, naming a bad entry', () => {
    assert.deepEqual(parseClusterNodes('127.0.0.1:7000, [::1]:7001'), [
      { host: '127.0.0.1', port: 7000 },
      { host: '::1', port: 7001 },
    ]);
    assert.throws(() => parseClusterNodes('127.0.0.1:7000,redis-b'), /"redis-b" is not host:port/);
    assert.throws(() => parseClusterNodes('h:70000'), /"h:70000" is not host:port/);
  });
});
