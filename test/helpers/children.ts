// Processes a test file started end with it, whatever its own cleanup did: a test that failed (or
// timed out) before its `finally` would otherwise leave a service and its browsers running into the
// next file, which then measures a busier machine than it thinks.
import type { ChildProcess } from 'node:child_process';
import { after } from 'node:test';

const live = new Set<ChildProcess>();

/** Registers `child` to be ended (SIGTERM, then SIGKILL after 10 s) when the test file ends. */
export function endsWithTestFile(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
}

// Registered as this module is first imported (the file's top level), so it is the root's hook: it
// runs once, after every test of the file, not after whichever test happened to start a child.
after(async () => {
  const running = [...live].filter((c) => c.exitCode === null && c.signalCode === null);
  await Promise.all(
    running.map(
      (c) =>
        new Promise<void>((done) => {
          const kill = setTimeout(() => c.kill('SIGKILL'), 10_000);
          c.once('exit', () => {
            clearTimeout(kill); // a pending timer would hold the file open for its full 10 s
            done();
          });
          c.kill('SIGTERM');
        }),
    ),
  );
});
