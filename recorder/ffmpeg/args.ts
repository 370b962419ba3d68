// A typed argument builder for ffmpeg (spawned directly; no wrapper library). Only the options this
// service uses are modelled, so a typo is a compile error rather than an ffmpeg failure at Stop.

export type InputOptions = {
  format?: 'matroska' | 'webm' | 'mp4' | 'mpegts' | 'concat';
  /** concat lists: allow absolute paths. */
  unsafePaths?: boolean;
  /** Read the input at its native rate (live sources). */
  realtime?: boolean;
};

export type HlsOptions = {
  segmentSeconds: number;
  playlistType: 'event' | 'vod';
  segmentFilename: string;
  flags?: ('independent_segments' | 'temp_file' | 'append_list')[];
  keyInfoFile?: string;
};

export type OutputOptions = {
  format: 'mp4' | 'hls' | 'null' | 'matroska';
  /** Stream selectors such as "0:v:0" or "0:a:0?" (trailing ? = optional). */
  maps?: readonly string[];
  videoCodec?: 'copy' | 'libx264';
  audioCodec?: 'copy' | 'aac' | 'none';
  audioBitrate?: `${number}k`;
  audioChannels?: 1 | 2;
  audioSampleRate?: 44100 | 48000;
  movflags?: ('+faststart' | '+frag_keyframe' | '+empty_moov' | '+default_base_moof' | '+delay_moov')[];
  hls?: HlsOptions;
};

export class FfmpegArgs {
  private readonly inputs: string[][] = [];
  private readonly outputs: string[][] = [];
  private readonly globals: string[] = [];
  private outputAudioFilter: string | null = null;

  constructor(private readonly logLevel: 'error' | 'warning' | 'info' = 'error') {}

  /** key=value progress (frame=, out_time_us=, …) on stdout every `seconds`. */
  progress(seconds: number): this {
    this.globals.push('-progress', 'pipe:1', '-stats_period', String(seconds));
    return this;
  }

  input(path: string, o: InputOptions = {}): this {
    const a: string[] = [];
    if (o.realtime) a.push('-re');
    if (o.format) a.push('-f', o.format);
    if (o.unsafePaths) a.push('-safe', '0');
    a.push('-i', path);
    this.inputs.push(a);
    return this;
  }

  /** An audio filter for every output added after this (one that passes the audio through, e.g. to measure it). */
  audioFilter(filter: string): this {
    this.outputAudioFilter = filter;
    return this;
  }

  output(path: string, o: OutputOptions): this {
    const a: string[] = [];
    for (const m of o.maps ?? []) a.push('-map', m);
    if (this.outputAudioFilter && o.audioCodec !== 'none' && o.audioCodec !== 'copy') a.push('-af', this.outputAudioFilter);
    if (o.videoCodec) a.push('-c:v', o.videoCodec);
    if (o.audioCodec === 'none') a.push('-an');
    else if (o.audioCodec) a.push('-c:a', o.audioCodec);
    if (o.audioBitrate) a.push('-b:a', o.audioBitrate);
    if (o.audioChannels) a.push('-ac', String(o.audioChannels));
    if (o.audioSampleRate) a.push('-ar', String(o.audioSampleRate));
    if (o.movflags?.length) a.push('-movflags', o.movflags.join(''));
    if (o.hls) {
      const h = o.hls;
      a.push('-hls_time', String(h.segmentSeconds), '-hls_playlist_type', h.playlistType, '-hls_segment_filename', h.segmentFilename);
      if (h.flags?.length) a.push('-hls_flags', h.flags.join('+'));
      if (h.keyInfoFile) a.push('-hls_key_info_file', h.keyInfoFile);
    }
    a.push('-f', o.format, path);
    this.outputs.push(a);
    return this;
  }

  toArgs(): string[] {
    if (!this.inputs.length || !this.outputs.length) throw new Error('ffmpeg needs at least one input and one output');
    return ['-hide_banner', '-nostdin', '-y', '-loglevel', this.logLevel, ...this.globals, ...this.inputs.flat(), ...this.outputs.flat()];
  }
}
