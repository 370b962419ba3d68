// Where finished files go. Local disk now; COS and VOD implement the same interface.
export type Stored = { url: string; size: number; fileId?: string };

export interface StorageTarget {
  /** Moves or uploads the finished file at `localPath` as `<TaskID>/<name>`. */
  put(taskId: string, name: string, localPath: string): Promise<Stored>;
  /**
   * A local directory whose files are published as `<TaskID>/<file>` as they are written (HLS
   * segments and the live playlist), and the URL of such a file.
   */
  liveDir(taskId: string): Promise<string>;
  urlOf(taskId: string, name: string): string;
}
