// Recovery from a damaged intermediate Matroska file (a crash cuts it short or leaves zeroed blocks;
// a bad disk flips bytes): the output made again from it (remake, as Recovery and Session do) keeps
// every whole cluster before the damage, decodes, and nothing throws but the typed failure.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { FfmpegError } from '../../recorder/ffmpeg/run.js';
import { fragmentedMp4Duration } from '../../recorder/outputs/fmp4-duration.js';
import { Mp4Output } from '../../recorder/outputs/mp4.js';
import { remake } from '../../recorder/outputs/plan.js';
import type { Destination } from '../../recorder/storage/target.js';
import { type Cluster, intermediateMkv, mediaEndBefore } from '../helpers/media-samples.js';
import { scratchDir } from '../helpers/scratch.js';

const dir = scratchDir('damaged-intermediate');
const marker = { WEBRECORD_TEST: randomUUID() };
const SECONDS = 10;
const recording = intermediateMkv(dir, 'recording.mkv', SECONDS);
const bytes = readFileSync(recording.path);
const TOLERANCE = 0.05; // an audio frame

// remake only writes the file; nothing is published here
const noDestination = { localDir: dir } as Destination;

/** Remakes the MP4 from `files` the way recovery does; its duration (read from its index: null when empty). */
async function remade(files: string[]): Promise<{ path: string; seconds: number | null }> {
  const taskId = randomUUID();
  const output = new Mp4Output({ taskId, attempt: 1, tmpDir: dir, destination: noDestination, ffprobePath: 'ffprobe', marker });
  await remake('ffmpeg', output, files, marker, dir);
  const path = join(dir, `${taskId}-1.mp4`);
  return { path, seconds: await fragmentedMp4Duration(path) };
}

/** The end of the media in the clusters wholly before `offset`. */
function wholeClustersBefore(offset: number): number {
  const within = recording.clusters.filter((c) => c.offset <= offset).at(-1);
  return within ? mediaEndBefore(recording.path, within.offset) : 0;
}

function decodedVideoFrames(path: string): number {
  const args = ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=nb_read_frames', '-of', 'csv=p=0', path];
  // The frame cut in two by the damage may not decode: its errors are expected, not shown.
  const out = execFileSync('ffprobe', args, { stdio: ['ignore', 'pipe', 'ignore'] });
  return Number(out.toString().trim());
}

function write(name: string, b: Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, b);
  return path;
}

/** The middle of cluster `i`: damage there loses that cluster at most. */
const middleOf = (c: Cluster[], i: number) => Math.floor((c[i]!.offset + c[i + 1]!.offset) / 2);

describe('recovery from a damaged intermediate Matroska file', () => {
  const clusters = recording.clusters;
  const at = middleOf(clusters, Math.floor(clusters.length / 2));
  const cases: Record<string, () => Buffer> = {
    'cut short in a cluster': () => bytes.subarray(0, at),
    'zeroed from a cluster on': () => Buffer.from(bytes).fill(0, at),
    'garbage in a cluster': () => {
      const b = Buffer.from(bytes);
      for (let i = at; i < at + 4096; i++) b[i] = (i * 7919) & 0xff;
      return b;
    },
    "a cluster's id destroyed": () => Buffer.from(bytes).fill(0, clusters.at(-3)!.offset, clusters.at(-3)!.offset + 4),
    "a cluster's size made huge": () => {
      const b = Buffer.from(bytes);
      b.set([0x01, 0x00, 0x00, 0x00, 0x7f, 0xff, 0xff, 0xff], clusters.at(-3)!.offset + 4);
      return b;
    },
  };

  for (const [name, damage] of Object.entries(cases)) {
    it(`${name}: every whole cluster before the damage is kept, and it decodes`, async () => {
      const b = damage();
      const firstDamage = b.findIndex((x, i) => x !== bytes[i]);
      const prefix = wholeClustersBefore(firstDamage < 0 ? b.length : firstDamage);
      assert.ok(prefix > 2, `a damage after some clusters (${prefix} s)`);
      const out = await remade([write(`${name.replace(/\W/g, '-')}.mkv`, b)]);
      assert.ok(out.seconds !== null && out.seconds >= prefix - TOLERANCE, `${out.seconds} s kept of the ${prefix} s before the damage`);
      assert.ok(decodedVideoFrames(out.path) >= Math.floor(prefix * 30) - 1, 'the video decodes');
    });
  }

  it('an earlier attempt cut short is joined to the next whole one', async () => {
    const cut = write('attempt-1.mkv', bytes.subarray(0, at));
    const out = await remade([cut, recording.path]);
    assert.ok(out.seconds !== null && out.seconds >= wholeClustersBefore(at) + SECONDS - 2 * TOLERANCE, `${out.seconds} s`);
  });

  it('fuzzed: a cut anywhere keeps every whole cluster before it, or (before the first) is a typed failure', async () => {
    // A process per run: a few runs, each a real remake.
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: bytes.length }), async (cut) => {
        const path = write('cut.mkv', bytes.subarray(0, cut));
        const prefix = wholeClustersBefore(cut);
        try {
          const out = await remade([path]);
          assert.ok((out.seconds ?? 0) >= prefix - TOLERANCE, `cut at ${cut}: ${out.seconds} s of ${prefix} s`);
        } catch (err) {
          assert.ok(err instanceof FfmpegError, `a typed failure, not ${String(err)}`);
          assert.ok(prefix === 0, `cut at ${cut} lost ${prefix} s: ${err.message}`);
        }
      }),
      { numRuns: 8, examples: [[0], [100], [clusters[0]!.offset], [clusters[0]!.offset + 20], [clusters[1]!.offset + 10]] },
    );
  });
});
