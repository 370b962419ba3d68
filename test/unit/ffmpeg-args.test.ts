import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FfmpegArgs } from '../../recorder/ffmpeg/args.js';

describe('ffmpeg argument builder', () => {
  it('builds the MP4 remux: video copied, audio to AAC, index first', () => {
    const args = new FfmpegArgs()
      .input('in.mkv', { format: 'matroska' })
      .output('out.mp4', { format: 'mp4', maps: ['0:v:0', '0:a:0?'], videoCodec: 'copy', audioCodec: 'aac', audioBitrate: '128k', movflags: ['+faststart'] })
      .toArgs();
    assert.deepEqual(args, [
      '-hide_banner',
      '-nostdin',
      '-y',
      '-loglevel',
      'error',
      '-f',
      'matroska',
      '-i',
      'in.mkv',
      '-map',
      '0:v:0',
      '-map',
      '0:a:0?',
      '-c:v',
      'copy',
      '-c:a',
      'aac',
      '-b:a',
      '128k',
      '-movflags',
      '+faststart',
      '-f',
      'mp4',
      'out.mp4',
    ]);
  });

  it('builds HLS options', () => {
    const args = new FfmpegArgs()
      .input('in.mkv')
      .output('p.m3u8', { format: 'hls', hls: { segmentSeconds: 4, playlistType: 'event', segmentFilename: 's%05d.ts', flags: ['independent_segments', 'temp_file'] } })
      .toArgs();
    assert.deepEqual(args.slice(args.indexOf('-hls_time')), [
      '-hls_time',
      '4',
      '-hls_playlist_type',
      'event',
      '-hls_segment_filename',
      's%05d.ts',
      '-hls_flags',
      'independent_segments+temp_file',
      '-f',
      'hls',
      'p.m3u8',
    ]);
  });

  it('refuses to build without an input or an output', () => {
    assert.throws(() => new FfmpegArgs().input('x').toArgs(), /at least one input and one output/);
  });
});
