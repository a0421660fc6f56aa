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
import type { Plugin } from 'esbuild';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, sep } from 'node:path';

const ENTRIES = ['core/index.ts', 'core/cli.ts', 'actors/runtime/worker-entry.ts', 'actors/runtime/worker.ts'];
/**
 * The worker entry, relative to whichever file the coordinator's code lands in: an entry in
 * dist/core/ or a chunk in dist/chunks/, one folder down from dist/ either way (checked below).
 */
const WORKER_ENTRY = '../actors/runtime/worker-entry.js';

/**
 * Node's built-in modules taken with process.getBuiltinModule, not `import`. An ES module
 * importing a built-in gets a facade that reads every export of it, lazy ones included: for
 * node:fs that loads its streams, fs/promises and readline; for node:crypto, WebCrypto. A
 * worker thread paid ~20 ms of its cold start for the facades of the built-ins weir imports
 * (native-bench/startup.bench.ts). Here each import of a built-in is a module exporting its
 * plain data properties (read once, as `import` would) and the module as default; a lazy
 * export (an accessor) is left out, so importing one fails the build rather than load it.
 */
const builtinsByGetBuiltinModule: Plugin = {
  name: 'builtins-by-getBuiltinModule',
  setup(b) {
    const require = createRequire(import.meta.url);
    b.onResolve({ filter: /^node:/ }, (args) => ({ path: args.path, namespace: 'node-builtin' }));
    b.onLoad({ filter: /.*/, namespace: 'node-builtin' }, (args) => {
      const descriptors = Object.getOwnPropertyDescriptors(require(args.path) as object);
      const names = Object.entries(descriptors).filter(([name, d]) => 'value' in d && /^[A-Za-z_$][\w$]*$/.test(name) && name !== 'default')
        .map(([name]) => name);
      return {
        contents: `const m = process.getBuiltinModule(${JSON.stringify(args.path)});\nexport default m;\nexport const { ${names.join(', ')} } = m;\n`,
        loader: 'js',
      };
    });
  },
};

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
  plugins: [builtinsByGetBuiltinModule],
  logLevel: 'warning',
});

// The relative worker URL holds only if every file that resolves it sits one folder below dist/.
const resolving = readdirSync('dist', { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.js') && readFileSync(join('dist', f), 'utf8').includes(JSON.stringify(WORKER_ENTRY)));
const misplaced = resolving.filter((f) => dirname(f) === '.' || dirname(f).split(sep).length !== 1);
if (resolving.length === 0 || misplaced.length > 0 || !existsSync(join('dist', 'chunks', WORKER_ENTRY))) {
  throw new Error(`bundle: the worker entry URL ${WORKER_ENTRY} is resolved in ${resolving.join(', ') || 'no file'}; each must be one folder below dist/`);
}
