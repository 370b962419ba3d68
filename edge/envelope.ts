// Every answer is JSON in one envelope carrying RequestID; errors add ErrorCode and ErrorMessage.
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { ApiKey } from '../protocol/api-keys.js';
import type { RequestErrorCode } from '../protocol/errors.js';

/**
 * Only the key that signed the request is kept on the context; a RequestID is made when the answer
 * is (a middleware per call costs).
 */
export type EdgeEnv = { Variables: { apiKey?: ApiKey; action?: string; errorCode?: string } };
// Validator hooks hand over a context typed with hono's base Env.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyContext = Context<any>;

export function newRequestId(): string {
  return crypto.randomUUID().replaceAll('-', '');
}

export function answer(c: AnyContext, body: Record<string, unknown>) {
  return c.json({ ...body, RequestID: newRequestId() }, 200);
}

/** Clients of the original product read ErrorCode, so errors answer 200 unless API.md says otherwise. */
export function fail(c: AnyContext, code: RequestErrorCode, message: string, status: ContentfulStatusCode = 200, extra: Record<string, unknown> = {}) {
  c.set('errorCode', code); // for the request metrics
  return c.json({ ...extra, ErrorCode: code, ErrorMessage: message, RequestID: newRequestId() }, status);
}
