// The wire contract as an OpenAPI 3.1 document, made from the same zod schemas that check requests
// (z.toJSONSchema), so the document cannot drift from what the service accepts. Served at
// /openapi.json. Refinements a JSON Schema cannot say (a URL's policy, a bucket's name pattern) are
// in the field checks only; the document says the shape, the lengths and the ranges.
import { z } from 'zod';
import { type Action, ACTIONS, API_PATHS, StartData, TaskRef } from './api.js';
import { RequestErrorCode } from './errors.js';
import { DescribeRecordersData, ListTasksData, RecorderView } from './listing.js';
import { DescribeView } from './task.js';

const schema = (s: z.ZodType, io: 'input' | 'output') => {
  const { $schema: _drop, ...rest } = z.toJSONSchema(s, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as Record<string, unknown>;
  return rest;
};

const REQUEST_ID = { type: 'string', pattern: '^[0-9a-f]{32}$' };

/** The wire contract's version (API.md's), not the package's: it changes when the contract does. */
export const CONTRACT_VERSION = '1.0.0';

/** Each Action's Data, by its schema's name under components. */
const DATA_OF: Record<Action, string> = {
  Start: 'StartData',
  Pause: 'TaskRef',
  Resume: 'TaskRef',
  Refresh: 'TaskRef',
  Stop: 'TaskRef',
  Describe: 'TaskRef',
  ListTasks: 'ListTasksData',
  DescribeRecorders: 'DescribeRecordersData',
};

export function openApiDocument(): Record<string, unknown> {
  const request = {
    oneOf: ACTIONS.map((action) => ({
      type: 'object',
      title: action,
      properties: { Action: { const: action }, Data: { $ref: `#/components/schemas/${DATA_OF[action]}` } },
      required: ['Action', 'Data'],
    })),
    discriminator: { propertyName: 'Action' },
  };
  const list = (title: string, field: string, item: string) => ({
    title,
    type: 'object',
    properties: { [field]: { type: 'array', items: { $ref: `#/components/schemas/${item}` } }, RequestID: REQUEST_ID },
    required: [field, 'RequestID'],
  });
  const answers = {
    oneOf: [
      { title: 'Start', type: 'object', properties: { TaskID: { type: 'string' }, RequestID: REQUEST_ID }, required: ['TaskID', 'RequestID'] },
      { title: 'Describe', allOf: [{ $ref: '#/components/schemas/DescribeView' }, { type: 'object', properties: { RequestID: REQUEST_ID }, required: ['RequestID'] }] },
      list('ListTasks (addition): the newest tasks, newest first', 'Tasks', 'DescribeView'),
      list('DescribeRecorders (addition): the live recorders', 'Recorders', 'RecorderView'),
      { title: 'Pause, Resume, Refresh, Stop', type: 'object', properties: { RequestID: REQUEST_ID }, required: ['RequestID'] },
      { $ref: '#/components/schemas/Error' },
    ],
  };
  const error = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });
  const operation = (operationId: string) => ({
    operationId,
    summary: 'One of the Actions (the six of the original product, and ListTasks and DescribeRecorders), named in the body',
    description: 'Every answered request is HTTP 200, errors included: clients read ErrorCode.',
    requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/Request' } } } },
    responses: {
      200: { description: 'The answer, or an error in the envelope', content: { 'application/json': { schema: answers } } },
      401: error('AuthFailure: the signature, key, date or Content-MD5 failed (when API keys are set)'),
      404: error('NotFound: no such endpoint'),
      405: error('MethodNotAllowed: POST the request'),
      413: error('RequestTooLarge: the body is over 64 KiB'),
      429: error("RequestLimitExceeded: over the rate limit (RATE_LIMIT, or the key's own)"),
      503: error('ServiceUnavailable: the task store cannot be reached'),
    },
    security: [{}, { appAuth: [] }],
  });
  // operationIds must be unique: `action`, `action_record`, `action_release_record`, …
  const paths = Object.fromEntries(API_PATHS.map((path) => [path, { post: operation(['action', ...path.split('/').filter(Boolean)].join('_')) }]));
  return {
    openapi: '3.1.0',
    info: {
      title: 'webrecord',
      version: CONTRACT_VERSION,
      description: 'Records a web page into MP4 or HLS. The body names the Action; Data holds its fields.',
    },
    paths,
    components: {
      schemas: {
        Request: request,
        StartData: schema(StartData, 'input'),
        TaskRef: schema(TaskRef, 'input'),
        ListTasksData: schema(ListTasksData, 'input'),
        DescribeRecordersData: schema(DescribeRecordersData, 'input'),
        DescribeView: schema(DescribeView, 'output'),
        RecorderView: schema(RecorderView, 'output'),
        Error: {
          type: 'object',
          properties: { RequestID: REQUEST_ID, ErrorCode: { type: 'string', examples: Object.keys(RequestErrorCode) }, ErrorMessage: { type: 'string' } },
          required: ['RequestID', 'ErrorCode', 'ErrorMessage'],
        },
      },
      securitySchemes: {
        appAuth: {
          type: 'apiKey',
          in: 'header',
          name: 'Authorization',
          description: 'Tencent API Gateway application authentication: hmac id="<key>", algorithm="hmac-sha256", headers="x-date", signature="<base64>"',
        },
      },
    },
  };
}
