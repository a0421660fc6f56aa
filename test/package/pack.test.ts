// The front door as a user meets it: a fresh clone, the packed tarball in another project, and `weir init`.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import type { ExecFileSyncOptions } from 'node:child_process';
import { accessSync, constants, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const node = process.execPath;
// The npm that runs the tests (npm_execpath), else the one on PATH.
const npmCli = process.env['npm_execpath'];
const run = (cmd: string, args: string[], cwd: string, extra: ExecFileSyncOptions = {}) =>
  execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...extra }) as string;
const npm = (args: string[], cwd: string) => npmCli !== undefined && npmCli.endsWith('.js')
  ? run(node, [npmCli, ...args], cwd)
  : run('npm', args, cwd);
const npx = (args: string[], cwd: string) => npm(['exec', '--yes', '--prefer-offline', '--', ...args], cwd);

/** Every bin the package declares is there and executable. */
function checkBins(t: { true(v: boolean, m?: string): void }, dir: string): void {
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { bin: Record<string, string> };
  for (const [name, file] of Object.entries(pkg.bin)) {
    let ok = true;
    try { accessSync(join(dir, file), constants.X_OK); } catch { ok = false; }
    t.true(ok, `bin '${name}' (${file}) is executable`);
  }
}

const parts = (dir: string) => readdirSync(dir).filter((f) => f.startsWith('part-') && f.endsWith('.jsonl'))
  .flatMap((f) => readFileSync(join(dir, f), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as unknown));

let packed: Promise<string> | undefined;
/** Packs this checkout once for the tests of this file. */
function tarball(): Promise<string> {
  packed ??= Promise.resolve().then(() => {
    const dir = mkdtempSync(join(tmpdir(), 'weir-pack-'));
    const out = npm(['pack', '--pack-destination', dir, '--silent'], root).trim().split('\n').pop()!;
    return join(dir, out);
  });
  return packed;
}

test('a fresh clone: npm ci leaves every bin executable and the README\'s npx weir command runs first try, also after npm pack', async (t) => {
  // What is committed, as CI and a new user get it.
  const clone = join(mkdtempSync(join(tmpdir(), 'weir-clone-')), 'weir');
  run('git', ['clone', '-q', root, clone], root);
  npm(['ci', '--no-audit', '--no-fund', '--prefer-offline'], clone);
  checkBins(t, clone);
  npx(['weir', 'run', 'examples/running-totals.ts', '--state-backend', 'lmdb'], clone);
  const totals = parts(join(clone, 'out/totals')) as [number, number][];
  t.is(totals.length, 1_000_000);
  npm(['pack', '--pack-destination', mkdtempSync(join(tmpdir(), 'weir-pack-')), '--silent'], clone);
  checkBins(t, clone);
  npx(['weir', 'run', 'examples/running-totals.ts', '--parallelism', '1'], clone);
  t.is(parts(join(clone, 'out/totals')).length, 1_000_000, 'the example replaces its earlier output');
});

test('the packed tarball installs into another project as weir; its CLI and library run a job', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'weir-user-'));
  const project = join(dir, 'user');
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'user', private: true, type: 'module' }));
  npm(['install', '--no-audit', '--no-fund', '--prefer-offline', `weir@file:${await tarball()}`], project);

  // The package ships compiled JavaScript and types, not the .ts sources.
  const installed = join(project, 'node_modules/weir');
  t.true(readdirSync(join(installed, 'dist/core')).includes('index.d.ts'));
  t.false(readdirSync(installed).includes('core'));
  checkBins(t, installed);

  writeFileSync(join(project, 'job.ts'), `
import { defineJob, fileSink, Types } from 'weir';
export default defineJob((env) => {
  env.fromSequence(1, 1000).uid('n')
    .map((n: number) => [n % 7, n] as [number, number]).returns(Types.TUPLE(Types.INT32, Types.FLOAT64)).uid('pairs')
    .keyBy((p) => p[0])
    .map((p) => ({ k: p[0], v: p[1] })).uid('objs')
    .sinkTo(fileSink('out')).uid('files');
});
`);
  run(join(project, 'node_modules/.bin/weir'), ['run', 'job.ts', '--parallelism', '2'], project,
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, PATH: `${join(root, 'node_modules/.bin')}:${process.env['PATH']}` } });
  const files = readdirSync(join(project, 'out')).filter((f) => f !== '_weir-manifest.jsonl');
  t.is(files.length, 2, 'one part file per sink subtask');
  t.true(files.every((p) => p.endsWith('.jsonl')), 'finished part files are no longer in progress');
  const rows = parts(join(project, 'out')) as { v: number }[];
  t.is(rows.length, 1000);
  t.is(rows.reduce((s, r) => s + r.v, 0), 500_500);

  // And the library API from plain JavaScript.
  writeFileSync(join(project, 'api.mjs'), `
import { submit } from 'weir';
const job = await submit(new URL('./job.ts', import.meta.url), { parallelism: 1 });
const r = await job.done;
console.log(JSON.stringify(r.operators.objs));
`);
  writeFileSync(join(project, 'job.ts'), readFileSync(join(project, 'job.ts'), 'utf8').replace("fileSink('out')", "fileSink('out', { existing: 'overwrite' })"));
  const api = run(node, ['api.mjs'], project);
  t.is(JSON.parse(api.trim()).recordsIn, 1000);
});

test('weir init from the tarball writes a project whose npm install, npm start and npm test work', async (t) => {
  const tgz = await tarball();
  const dir = mkdtempSync(join(tmpdir(), 'weir-init-'));
  const said = npm(['exec', '--yes', '--prefer-offline', `--package=${tgz}`, '--', 'weir', 'init', 'my-job', '--package', `file:${tgz}`], dir);
  t.regex(said, /next: cd my-job && npm install && npm start && npm test/);
  const project = join(dir, 'my-job');
  const manifest = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8'));
  t.regex(manifest.devDependencies.node, /^\^24\./, 'the project brings Node 24');
  t.deepEqual(readdirSync(project).sort(), ['.gitignore', 'job.ts', 'package.json', 'test', 'tsconfig.json']);
  npm(['install', '--no-audit', '--no-fund', '--prefer-offline'], project);
  const start = npm(['start', '--silent'], project);
  const counts = start.trim().split('\n').map((l) => JSON.parse(l) as [string, number]);
  t.is(counts.length, 10, 'ten words, each collected and printed');
  t.true(counts.some(([w, n]) => w === 'be' && n === 2));
  const tested = npm(['test', '--silent'], project);
  t.regex(tested, /pass 1/);
  t.regex(tested, /fail 0/);
  // A second init into the same directory is refused rather than overwriting the project.
  const again = (() => {
    try { return npm(['exec', '--yes', '--prefer-offline', `--package=${tgz}`, '--', 'weir', 'init', 'my-job'], dir); } catch (err) { return String((err as { stderr?: string }).stderr); }
  })();
  t.regex(again, /package\.json exists; choose an empty directory/);
});
