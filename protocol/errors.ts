// Error codes on the wire. Request errors answer in the envelope; task errors land in Result.ErrorCode.

export const RequestErrorCode = {
  InvalidParam: 'InvalidParam',
  TaskNotFound: 'TaskNotFound',
  InvalidState: 'InvalidState',
  TaskExist: 'TaskExist',
  AuthFailure: 'AuthFailure',
  RequestTooLarge: 'RequestTooLarge',
  /** No such endpoint (HTTP 404), or not this method there (HTTP 405). */
  NotFound: 'NotFound',
  MethodNotAllowed: 'MethodNotAllowed',
  InternalError: 'InternalError',
  ServiceUnavailable: 'ServiceUnavailable',
  /** Over RATE_LIMIT (HTTP 429). */
  RequestLimitExceeded: 'RequestLimitExceeded',
  /** MAX_TASKS unfinished tasks already: nothing was created. */
  ResourceExhausted: 'ResourceExhausted',
} as const;
export type RequestErrorCode = (typeof RequestErrorCode)[keyof typeof RequestErrorCode];

export const TaskErrorCode = {
  PageLoadFailed: 'PageLoadFailed',
  NothingRecorded: 'NothingRecorded',
  RecordFailed: 'RecordFailed',
  RecorderLost: 'RecorderLost',
  /** No recorder took the task within QUEUE_TIMEOUT_S. */
  NoRecorder: 'NoRecorder',
  TranscodeFailed: 'TranscodeFailed',
  UploadFailed: 'UploadFailed',
  CallbackFailed: 'CallbackFailed',
} as const;
export type TaskErrorCode = (typeof TaskErrorCode)[keyof typeof TaskErrorCode];
