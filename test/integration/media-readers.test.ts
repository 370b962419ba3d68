// The readers of media files other than the MP4 index (fmp4-duration.test.ts): the MPEG-TS span of
// an HLS segment, the playlist and its last segment at Stop, ffprobe. Real recordings, cut short
// and with bytes flipped: each reader answers or says it cannot, and never throws.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import fc from 'fast-check';
import { FfmpegArgs } from '../../recorder/ffmpeg/args.js';
import { probe } from '../../recorder/ffmpeg/probe.js';
import { runTool } from '../../recorder/ffmpeg/run.js';
import { HlsOutput, segmentsOf } from '../../recorder/outputs/hls.js';
import { tsVideoSpan } from '../../recorder/outputs/ts-duration.js';
import type { Destination } from '../../recorder/storage/target.js';
import { damaged, damageOf, fragmentedMp4, intermediateMkv } from '../helpers/media-samples.js';
import { scratchDir } from '../helpers/scratch.js';

const dir = scratchDir('media-readers');
const marker = { WEBRECORD_TEST: randomUUID() };
const recording = intermediateMkv(dir, 'recording.mkv', 5);

/** A destination that publishes the live directory as is: finalize() only needs its URL. */
function liveDestination(liveDir: string): Destination {
  const nothingToUpload = async () => {
    throw new Error('HLS publishes in place');
  };
  return {
    store: { name: 'test', put: nothingToUpload, beginMultipart: nothingToUpload, remove: nothingToUpload, urlOf: (key) => `http://127.0.0.1/${key}` },
    localDir: liveDir,
    keyFor: (name) => `t/${name}`,
    complete: async (key) => ({ url: `http://127.0.0.1/${key}` }),
  };
}

/** An HLS output made from the recording by the service's own arguments, before finalize(). */
async function hlsOutput(name: string, key?: Buffer): Promise<{ output: HlsOutput; liveDir: string }> {
  const liveDir = scratchDir(`hls-${name}`);
  const output = await HlsOutput.create({
    taskId: name,
    attempt: 1,
    segmentSeconds: 2,
    tmpDir: dir,
    destination: liveDestination(liveDir),
    ...(key ? { key: { key, authUrl: 'http://127.0.0.1/key' } } : {}),
  });
  const args = output.addTo(new FfmpegArgs().input(recording.path, { format: 'matroska' })).toArgs();
  await runTool('ffmpeg', args, marker, key ? { secret: key } : {});
  return { output, liveDir };
}

/** Every byte of `ts` read through a guard: an index past the end is a failure of the test. */
function guarded(ts: Buffer): Buffer {
  return new Proxy(ts, {
    get(target, prop) {
      if (typeof prop === 'string' && /^\d+$/.test(prop) && Number(prop) >= target.length) throw new Error(`read of byte ${prop} of ${target.length}`);
      return Reflect.get(target, prop);
    },
  });
}

const MAX_PTS_SPAN = 2 ** 33 / 90_000;

describe('MPEG-TS video span', () => {
  let segment: Buffer;
  before(async () => {
    const { liveDir } = await hlsOutput('ts');
    segment = readFileSync(
      join(
        liveDir,
        readdirSync(liveDir)
          .filter((f) => f.endsWith('.ts'))
          .sort()[0]!,
      ),
    );
  });

  it('measures an intact segment', () => {
    const s = tsVideoSpan(guarded(segment));
    assert.ok(s !== null && Math.abs(s - 2) < 0.1, `span ${s}`);
  });

  it('fuzzed: cut and flipped segments give a span or null, never a throw or a read past the end', () => {
    // The PAT, the PMT and the first PES headers come first; flips anywhere else hit packet headers too.
    fc.assert(
      fc.property(damageOf(segment.length, [[0, 188 * 6]]), (d) => {
        const s = tsVideoSpan(guarded(damaged(segment, d)));
        if (s !== null) assert.ok(Number.isFinite(s) && s > 0 && s <= 2 * MAX_PTS_SPAN, `span ${s}`);
      }),
      { numRuns: 1000 },
    );
  });

  it('is null for what is no MPEG-TS', () => {
    for (const b of [Buffer.alloc(0), Buffer.alloc(188), Buffer.alloc(188 * 3, 0x47), randomBytes(188 * 10)]) {
      assert.equal(tsVideoSpan(guarded(b)), null);
    }
  });
});

describe('HLS playlist and its last segment at Stop', () => {
  it('segmentsOf: any text gives segments with finite durations, never a throw', () => {
    const line = fc.oneof(fc.constantFrom('#EXTM3U', '#EXTINF:2.000000,', '#EXTINF:', '#EXTINF:1.2.3,', '#EXTINF:.', '#EXTINF:9e999', 'index_00001.ts', '#EXT-X-ENDLIST', '', '\r'), fc.string());
    fc.assert(
      fc.property(fc.array(line, { maxLength: 30 }), (lines) => {
        for (const s of segmentsOf(lines.join('\n'))) {
          assert.ok(Number.isFinite(s.duration) && s.duration >= 0, `duration ${s.duration}`);
          assert.ok(s.uri.length > 0 && !s.uri.startsWith('#'));
        }
      }),
      { numRuns: 1000 },
    );
  });

  for (const encrypted of [false, true]) {
    it(`fuzzed${encrypted ? ', encrypted' : ''}: finalize() with a damaged last segment or playlist describes the video, never throws`, async () => {
      const { output, liveDir } = await hlsOutput(encrypted ? 'hls-aes' : 'hls-plain', encrypted ? randomBytes(16) : undefined);
      const playlistPath = join(liveDir, output.playlist);
      const playlist = readFileSync(playlistPath, 'utf8');
      const lastName = segmentsOf(playlist).at(-1)!.uri;
      const lastPath = join(liveDir, lastName);
      const last = readFileSync(lastPath);
      copyFileSync(lastPath, `${lastPath}.orig`);

      const intact = await output.finalize();
      assert.ok(Math.abs(intact.FileDuration - 5) < 0.2, `duration ${intact.FileDuration}`);

      const text = Buffer.from(playlist);
      await fc.assert(
        fc.asyncProperty(
          damageOf(last.length, [
            [0, 188 * 6],
            [last.length - 188 * 4, last.length],
          ]),
          damageOf(text.length),
          fc.boolean(),
          async (seg, list, both) => {
            writeFileSync(lastPath, damaged(last, seg));
            writeFileSync(playlistPath, both ? damaged(text, list) : text);
            const video = await output.finalize();
            assert.ok(Number.isFinite(video.FileDuration) && video.FileDuration >= 0, `duration ${video.FileDuration}`);
            assert.ok(Number.isFinite(video.FileSize) && video.FileSize > 0);
          },
        ),
        { numRuns: 300 },
      );
    });
  }

  it('a last segment that is missing, or names a path outside the directory, keeps its EXTINF', async () => {
    const { output, liveDir } = await hlsOutput('hls-missing');
    const playlistPath = join(liveDir, output.playlist);
    const playlist = readFileSync(playlistPath, 'utf8');
    const lastName = segmentsOf(playlist).at(-1)!.uri;
    for (const uri of ['gone.ts', '../recording.mkv', '/etc/passwd', '..']) {
      writeFileSync(playlistPath, playlist.replace(lastName, uri));
      const before = segmentsOf(playlist).reduce((a, s) => a + s.duration, 0);
      const video = await output.finalize();
      assert.ok(Math.abs(video.FileDuration - before) < 0.001, `${uri}: ${video.FileDuration} vs ${before}`);
    }
  });
});

describe('ffprobe of a damaged file', () => {
  it('answers for an intact file', async () => {
    const p = await probe('ffprobe', recording.path, marker);
    assert.ok(p.ok);
    assert.deepEqual(p.streams.map((s) => s.codec_name).sort(), ['h264', 'opus']);
  });

  it('fuzzed: a cut or flipped MP4 or Matroska file gives a probe or a typed failure, never a throw', async () => {
    const mp4 = readFileSync(fragmentedMp4(dir, 'probe-me.mp4', 2));
    const mkv = readFileSync(recording.path);
    const target = join(dir, 'probed');
    let failures = 0;
    // ffprobe is a process per run: a few dozen runs, the damage near the structure it reads.
    for (const [bytes, hot] of [
      [
        mp4,
        [
          [0, 2048],
          [mp4.length - 1024, mp4.length],
        ],
      ],
      [mkv, [[0, 1024]]],
    ] as const) {
      await fc.assert(
        fc.asyncProperty(
          damageOf(
            bytes.length,
            hot.map((h) => [...h] as [number, number]),
          ),
          async (d) => {
            writeFileSync(target, damaged(bytes, d));
            const p = await probe('ffprobe', target, marker);
            if (!p.ok) failures++;
            if (p.durationSeconds !== null) assert.ok(Number.isFinite(p.durationSeconds) && p.durationSeconds >= 0);
            assert.ok(Array.isArray(p.streams));
          },
        ),
        { numRuns: 20 },
      );
    }
    assert.ok(failures < 40, 'some damaged files still probe');
  });

  it('what is no media at all is a typed failure', async () => {
    const f = join(dir, 'noise.mp4');
    writeFileSync(f, randomBytes(4096));
    const p = await probe('ffprobe', f, marker);
    assert.equal(p.ok, false);
    assert.equal(p.durationSeconds, null);
    const missing = await probe('ffprobe', join(dir, 'nowhere.mp4'), marker);
    assert.equal(missing.ok, false);
  });
});
