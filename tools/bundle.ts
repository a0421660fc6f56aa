// The published JavaScript: weir's modules bundled into a few files, so a worker thread loads ~10 modules, not ~80.
//
// `tsc -p tsconfig.build.json` writes the declarations into dist/; this writes the code
// beside them, at the same paths for the entry points (dist/core/index.js is what `import
// 'weir'` loads, dist/core/cli.js the bin, dist/actors/runtime/worker-entry.js what every
// worker thread starts in). Code the entries share lands in dist/chunks/, once: a job module's
// `import 'weir'` and the worker runtime meet the same classes, so instanceof holds across them.
// Measured on a user's installed package, a 1000-record job at p2: 200-225 ms -> 132-156 ms
// whole (BENCHMARKS.md, start-up).
// Run: node tools/bundle.ts (the build script runs it after tsc).
import { build } from 'esbuild';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';

const ENTRIES = ['core/index.ts', 'core/cli.ts', 'actors/runtime/worker-entry.ts', 'actors/runtime/worker.ts'];
/**
 * The worker entry, relative to whichever file the coordinator's code lands in: an entry in
 * dist/core/ or a chunk in dist/chunks/, one folder down from dist/ either way (checked below).
 */
const WORKER_ENTRY = '../actors/runtime/worker-entry.js';

await build({
  entryPoints: ENTRIES,
  outbase: '.',
  outdir: 'dist',
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node24',
  // lmdb, msgpackr and piscina stay packages of their own: native addons, and the user's copies.
  packages: 'external',
  sourcemap: true,
  // Class and function names are kept: errors and operator names print them.
  keepNames: true,
  define: { __WEIR_WORKER_ENTRY__: JSON.stringify(WORKER_ENTRY) },
  logLevel: 'warning',
});

// The relative worker URL holds only if every file that resolves it sits one folder below dist/.
const resolving = readdirSync('dist', { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.js') && readFileSync(join('dist', f), 'utf8').includes(JSON.stringify(WORKER_ENTRY)));
const misplaced = resolving.filter((f) => dirname(f) === '.' || dirname(f).split(sep).length !== 1);
if (resolving.length === 0 || misplaced.length > 0 || !existsSync(join('dist', 'chunks', WORKER_ENTRY))) {
  throw new Error(`bundle: the worker entry URL ${WORKER_ENTRY} is resolved in ${resolving.join(', ') || 'no file'}; each must be one folder below dist/`);
}
