// One handler per Action: parse Data with its schema, ask the gateway, shape the answer.
import type { Context } from 'hono';
import { type Action, firstIssue, normalizeStart, StartData, TaskRef, type TaskCommand } from '../protocol/api.js';
import type { TaskGateway } from '../protocol/gateway.js';
import { DescribeRecordersData, ListTasksData, taskQuery } from '../protocol/listing.js';
import { checkUrlTarget, type UrlPolicy } from '../protocol/url-policy.js';
import { answer, type EdgeEnv, fail } from './envelope.js';

export async function runAction(c: Context<EdgeEnv>, gateway: TaskGateway, policy: UrlPolicy, action: Action, data: unknown) {
  if (action === 'Start') return start(c, gateway, policy, data);
  if (action === 'ListTasks') {
    const query = ListTasksData.safeParse(data);
    if (!query.success) return fail(c, 'InvalidParam', firstIssue(query.error));
    return answer(c, { Tasks: await gateway.listTasks(taskQuery(query.data)) });
  }
  if (action === 'DescribeRecorders') {
    const query = DescribeRecordersData.safeParse(data);
    if (!query.success) return fail(c, 'InvalidParam', firstIssue(query.error));
    return answer(c, { Recorders: await gateway.describeRecorders(query.data.Region) });
  }
  const ref = TaskRef.safeParse(data);
  if (!ref.success) return fail(c, 'InvalidParam', firstIssue(ref.error));
  const taskId = ref.data.TaskID;
  if (action === 'Describe') {
    const view = await gateway.describe(taskId);
    if (!view) return fail(c, 'TaskNotFound', `TaskID ${JSON.stringify(taskId)} not found`);
    return answer(c, view);
  }
  const outcome = await gateway.command(taskId, action satisfies TaskCommand);
  if (!outcome.ok) return fail(c, outcome.code, outcome.message, outcome.code === 'ServiceUnavailable' ? 503 : 200);
  return answer(c, { TaskID: taskId });
}

async function start(c: Context<EdgeEnv>, gateway: TaskGateway, policy: UrlPolicy, data: unknown) {
  const parsed = StartData.safeParse(data);
  if (!parsed.success) return fail(c, 'InvalidParam', firstIssue(parsed.error));
  // What an address literal points at is known now; a name is judged at each connection (the
  // recorder's egress proxy, the callback sender), by what it resolves to then.
  for (const field of ['RecordURL', 'CallbackURL'] as const) {
    const url = parsed.data[field];
    const verdict = url === undefined ? { ok: true as const } : checkUrlTarget(policy, url);
    if (!verdict.ok) return fail(c, 'InvalidParam', `Data.${field} is outside the URL policy: ${verdict.reason} (URL_ALLOWLIST can open it)`);
  }
  const outcome = await gateway.start(normalizeStart(parsed.data));
  if (!outcome.ok) return fail(c, outcome.code, outcome.message, outcome.code === 'ServiceUnavailable' ? 503 : 200);
  if (outcome.existed) {
    return fail(c, 'TaskExist', `a task with this RecordId already exists`, 200, { TaskID: outcome.TaskID });
  }
  return answer(c, { TaskID: outcome.TaskID });
}
