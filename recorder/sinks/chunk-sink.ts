// Where captured chunks go. The intermediate file is one sink; later sinks (a live muxer, an
// uploader) take the same chunks side by side.
export interface ChunkSink {
  write(chunk: Buffer): Promise<void>;
  close(): Promise<void>;
}
