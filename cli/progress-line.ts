// One line saying how a task is getting on: status, recorded time, size, frame rate, and at the end
// the result or the error. Pure: the terminal handling is the caller's.
import type { DescribeView } from '../protocol/task.js';

export function progressLine(view: DescribeView): string {
  const parts: string[] = [view.Status];
  const p = view.Progress;
  const live = view.Result.Videos[0];
  if (p) {
    parts.push(clock(p.RecordedSeconds), size(p.FileSize));
    if (p.Fps !== null) parts.push(`${p.Fps.toFixed(1)} fps`);
  } else if (live && view.Status !== 'finished') {
    parts.push(clock(live.FileDuration), size(live.FileSize));
  }
  if (view.Status === 'finished') {
    if (view.Result.ErrorCode) parts.push(`${view.Result.ErrorCode}: ${view.Result.ErrorMessage ?? ''}`.trim());
    for (const v of view.Result.Videos) parts.push(`${v.Filename} ${clock(v.FileDuration)} ${size(v.FileSize)} ${v.FileURL}`);
  }
  const warning = view.Warnings?.at(-1);
  if (warning && view.Status !== 'finished') parts.push(`warning: ${warning.Message}`);
  return parts.join('  ');
}

/** One task of `webrecord list`: its TaskID, when it was created (UTC), and its progress line. */
export function listLine(view: DescribeView): string {
  const created = new Date(view.CreateTime * 1000)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z');
  return `${view.TaskID}  ${created}  ${progressLine(view)}`;
}

/** h:mm:ss, or m:ss under an hour. */
export function clock(seconds: number): string {
  const s = Math.floor(seconds);
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return hh ? `${hh}:${String(mm).padStart(2, '0')}:${ss}` : `${mm}:${ss}`;
}

export function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
}
