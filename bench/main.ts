// `npm run bench` runs every benchmark; `npm run bench:<name>` one of them. Each prints its table and
// figures; the run's results go to bench/results/<timestamp>.json, its charts next to them.
import { api } from './api.js';
import { auth } from './auth.js';
import { cluster } from './cluster.js';
import { edge } from './edge.js';
import { finish } from './finish.js';
import { record } from './record.js';
import { type BenchReport, print, save } from './report.js';
import { soak } from './soak.js';
import { start } from './start.js';
import { threads } from './threads.js';

const BENCHES: Record<string, () => Promise<BenchReport>> = { api, auth, cluster, edge, start, record, threads, finish, soak };

const asked = process.argv[2];
if (asked && !BENCHES[asked]) {
  console.error(`unknown benchmark "${asked}": one of ${Object.keys(BENCHES).join(', ')}`);
  process.exit(2);
}
const names = asked ? [asked] : Object.keys(BENCHES);
const reports: BenchReport[] = [];
for (const name of names) {
  const r = await BENCHES[name]!();
  print(r);
  reports.push(r);
}
const file = save(reports, asked ? `npm run bench:${asked}` : 'npm run bench');
console.log(`\nresults: ${file}`);
