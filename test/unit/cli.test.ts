// The `webrecord` command line: what it parses (and the usage mistakes it names), what a Start
// sends for its options, and the progress line it shows.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCommand, UsageError } from '../../cli/args.js';
import { startData } from '../../cli/commands.js';
import { clock, listLine, progressLine, size } from '../../cli/progress-line.js';
import type { DescribeView } from '../../protocol/task.js';

const usage = (argv: string[], pattern: RegExp) =>
  assert.throws(
    () => parseCommand(argv),
    (e: Error) => e instanceof UsageError && pattern.test(e.message),
  );

describe('webrecord: the command line', () => {
  it('parses every command with its options', () => {
    assert.deepEqual(parseCommand(['start', 'https://a.test/x', '--width', '640', '--height', '360', '--hls', '--max', '60']).command, {
      name: 'start',
      url: 'https://a.test/x',
      options: { width: 640, height: 360, maxSeconds: 60, hls: true, manualStart: false },
    });
    for (const name of ['pause', 'resume', 'refresh', 'stop', 'describe', 'watch'] as const) assert.deepEqual(parseCommand([name, 'T1']).command, { name, taskId: 'T1' });
    assert.deepEqual(parseCommand(['record', 'https://a.test/', '--seconds', '5', '--out', 'a.mp4', '--service', 'http://127.0.0.1:9']), {
      command: { name: 'record', url: 'https://a.test/', seconds: 5, out: 'a.mp4', options: { hls: false, manualStart: false } },
      service: 'http://127.0.0.1:9',
    });
    assert.deepEqual(parseCommand(['list']).command, { name: 'list' });
    assert.deepEqual(parseCommand(['list', '--limit', '50', '--status', 'recording']).command, { name: 'list', limit: 50, status: 'recording' });
    assert.deepEqual(parseCommand([]).command, { name: 'help' });
    assert.deepEqual(parseCommand(['stop', '--help']).command, { name: 'help' });
  });

  it('names the argument at fault', () => {
    usage(['fly'], /unknown command fly/);
    usage(['start'], /a URL to record is needed/);
    usage(['start', 'not a url'], /not a URL/);
    usage(['start', 'https://a.test/', '--width', '12.5'], /--width 12\.5 is not a whole number/);
    usage(['start', 'https://a.test/', '--max', '0'], /--max 0/);
    usage(['start', 'https://a.test/', '--callback', 'nope'], /--callback nope/);
    usage(['stop'], /stop needs a TASK/);
    usage(['stop', 'T1', 'T2'], /unexpected argument T2/);
    usage(['record', 'https://a.test/', '--out', 'a.mp4'], /--seconds N is needed/);
    usage(['record', 'https://a.test/', '--seconds', '3'], /--out FILE/);
    usage(['start', 'https://a.test/', '--colour'], /colour/);
    usage(['list', '--limit', 'many'], /--limit many is not a whole number/);
    usage(['list', 'T1'], /unexpected argument T1/);
  });

  it('sends a Start with only the fields given', () => {
    assert.deepEqual(startData('https://a.test/', { hls: false, manualStart: false }), { RecordURL: 'https://a.test/' });
    assert.deepEqual(startData('https://a.test/', { hls: true, manualStart: true, width: 640, height: 360, maxSeconds: 9, callback: 'https://cb.test/' }), {
      RecordURL: 'https://a.test/',
      Width: 640,
      Height: 360,
      MaxDurationLimit: 9,
      ManualStart: true,
      CallbackURL: 'https://cb.test/',
      Output: { Video: { Muxer: 'hls' } },
    });
  });
});

describe('webrecord: the progress line', () => {
  const view = (v: Partial<DescribeView>): DescribeView => ({ TaskID: 'T1', Status: 'recording', CreateTime: 1, Result: { Videos: [] }, ...v });

  it('says the status, recorded time, size and frame rate while recording', () => {
    assert.equal(progressLine(view({ Progress: { RecordedSeconds: 75.4, FileSize: 3 * 1024 * 1024, Fps: 29.96 } })), 'recording  1:15  3.0 MiB  30.0 fps');
    assert.equal(progressLine(view({ Progress: { RecordedSeconds: 3, FileSize: 2048, Fps: null } })), 'recording  0:03  2.0 KiB');
    assert.equal(progressLine(view({ Status: 'normal' })), 'normal');
    assert.equal(progressLine(view({ Warnings: [{ Time: 1, Message: 'low frame rate' }] })), 'recording  warning: low frame rate');
  });

  it('says the result, or the error, once finished', () => {
    const video = { Filename: 'a.mp4', FileSize: 5_000_000, FileDuration: 3725, FileURL: 'http://127.0.0.1/files/a.mp4' };
    assert.equal(progressLine(view({ Status: 'finished', Result: { Videos: [video] } })), 'finished  a.mp4 1:02:05 4.8 MiB http://127.0.0.1/files/a.mp4');
    assert.equal(progressLine(view({ Status: 'finished', Result: { ErrorCode: 'PageLoadFailed', ErrorMessage: 'HTTP 404', Videos: [] } })), 'finished  PageLoadFailed: HTTP 404');
  });

  it('lists a task on one line: its TaskID, when it was created, and its progress', () => {
    assert.equal(listLine(view({ CreateTime: 1_795_481_336, Progress: { RecordedSeconds: 12, FileSize: 2048, Fps: 30 } })), 'T1  2026-11-24 00:48:56Z  recording  0:12  2.0 KiB  30.0 fps');
  });

  it('formats times and sizes', () => {
    assert.deepEqual([clock(0), clock(59.9), clock(3600), clock(36_061)], ['0:00', '0:59', '1:00:00', '10:01:01']);
    assert.deepEqual([size(0), size(1023), size(1536), size(5 * 1024 ** 3)], ['0 B', '1023 B', '1.5 KiB', '5.00 GiB']);
  });
});
