#!/usr/bin/env node
// The `webrecord` command (package.json "bin"): runs cli/main.ts through tsx, as `npm start` runs the service.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./main.ts');
process.exitCode = await main(process.argv.slice(2), process.env);
