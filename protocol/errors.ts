// Error codes on the wire. Request errors answer in the envelope; task errors land in Result.ErrorCode.

export const RequestErrorCode = {
  InvalidParam: 'InvalidParam',
  TaskNotFound: 'TaskNotFound',
  InvalidState: 'InvalidState',
  TaskExist: 'TaskExist',
  AuthFailure: 'AuthFailure',
  RequestTooLarge: 'RequestTooLarge',
  InternalError: 'InternalError',
  ServiceUnavailable: 'ServiceUnavailable',
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
