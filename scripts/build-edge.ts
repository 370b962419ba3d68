// `npm run build:edge`: bundles the edge worker (edge/worker.ts) into one service-worker script,
// dist/edge-worker.js, for EdgeOne edge functions or workerd. Built for the browser platform: an
// import of anything of Node's fails the build, so the bundle runs where only web standards do.
import { build } from 'esbuild';

export const EDGE_BUNDLE = new URL('../dist/edge-worker.js', import.meta.url).pathname;

export async function buildEdge(): Promise<{ path: string; bytes: number }> {
  const result = await build({
    entryPoints: [new URL('../edge/worker.ts', import.meta.url).pathname],
    outfile: EDGE_BUNDLE,
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    legalComments: 'none',
    metafile: true,
    logLevel: 'warning',
  });
  return { path: EDGE_BUNDLE, bytes: result.metafile.outputs[Object.keys(result.metafile.outputs)[0]!]!.bytes };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { path, bytes } = await buildEdge();
  process.stdout.write(`${path}: ${(bytes / 1024).toFixed(0)} KiB\n`);
}
