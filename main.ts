// `npm start`: composes the rooms. The edge app (web-standard) is served by the Node runtime, which
// also hosts the task actors and, on the embedded default, a recorder and a private Redis.
import { createEdgeApp } from './edge/app.js';
import { run } from './wrangler-free-runtime/main.js';

await run((gateway, log) => createEdgeApp({ gateway, log }));
