// The typed client of the recording API: `import { WebRecordClient, verifyCallback } from './client/index.js'`.
export { type Answer, type ClientOptions, type StartInput, WebRecordClient, WebRecordError } from './client.js';
export { type Algorithm, type Credentials, signedHeaders, verifyCallback } from './sign.js';
export type { RecorderView } from '../protocol/listing.js';
