// Where finished files go. Local disk now; COS and VOD implement the same interface.
export type Stored = { url: string; size: number; fileId?: string };

export interface StorageTarget {
  /** Moves or uploads the finished file at `localPath` as `<TaskID>/<name>`. */
  put(taskId: string, name: string, localPath: string): Promise<Stored>;
}
