// What every benchmark answers, and how the results are kept: one JSON file per `npm run bench…`
// in bench/results/, and the charts next to it (the newest also as bench/charts/<name>.svg).
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';

export type BenchReport = {
  name: string;
  /** One row per measured case, printed as a table. */
  rows: Record<string, unknown>[];
  /** The headline figures (medians, ratios), with the targets they are held to. */
  figures: Record<string, number | string | null>;
  targets?: Record<string, string>;
  charts?: { name: string; svg: string }[];
};

const DIR = new URL('./', import.meta.url).pathname;

export const median = (xs: number[]) => {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return NaN;
  return v.length % 2 ? v[v.length >> 1]! : (v[v.length / 2 - 1]! + v[v.length / 2]!) / 2;
};

export const percentile = (xs: number[], p: number) => {
  const v = [...xs].sort((a, b) => a - b);
  return v[Math.min(v.length - 1, Math.floor((p / 100) * v.length))]!;
};

function version(cmd: string, args: string[]): string {
  try {
    // stderr ignored: Debian's chromium wrapper prints a shell error from its /dev/shm check.
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
      .split('\n')[0]!
      .trim();
  } catch {
    return 'unknown';
  }
}

export function machine() {
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGb: +(totalmem() / 1024 ** 3).toFixed(1),
    node: process.version,
    chromium: version('/usr/bin/chromium', ['--version']),
    ffmpeg: version('ffmpeg', ['-version']),
  };
}

export function print(r: BenchReport): void {
  console.log(`\n== ${r.name}`);
  console.table(r.rows);
  console.log(JSON.stringify({ bench: r.name, figures: r.figures, targets: r.targets ?? {} }));
}

/** Writes the run's JSON and charts; answers the JSON file's path. */
export function save(reports: BenchReport[], command: string): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const results = join(DIR, 'results');
  const charts = join(DIR, 'charts');
  mkdirSync(results, { recursive: true });
  mkdirSync(charts, { recursive: true });
  for (const r of reports) {
    for (const c of r.charts ?? []) {
      const file = join(results, `${stamp}-${c.name}.svg`);
      writeFileSync(file, c.svg);
      copyFileSync(file, join(charts, `${c.name}.svg`));
    }
  }
  const file = join(results, `${stamp}.json`);
  const json = { command, at: new Date().toISOString(), machine: machine(), results: reports.map(({ charts: _, ...r }) => r) };
  writeFileSync(file, `${JSON.stringify(json, null, 2)}\n`);
  return file;
}
