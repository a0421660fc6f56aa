// The packed tarball, installed into a fresh project as a user installs it: imports and runs a job through its CLI.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const node = process.execPath;
// The npm that runs the tests (npm_execpath), else the one on PATH.
const npmCli = process.env['npm_execpath'];
const npm = (args: string[], cwd: string) => npmCli !== undefined && npmCli.endsWith('.js')
  ? execFileSync(node, [npmCli, ...args], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
  : execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

test('npm pack output installs into another project and runs a job from its CLI', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'weir-pack-'));
  const out = npm(['pack', '--pack-destination', dir, '--silent'], root).trim().split('\n').pop()!;
  const tarball = join(dir, out);
  const project = join(dir, 'user');
  execFileSync('mkdir', ['-p', project]);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'user', private: true, type: 'module' }));
  npm(['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], project);

  // The package ships compiled JavaScript and types, not the .ts sources.
  const installed = join(project, 'node_modules/weir');
  t.true(readdirSync(join(installed, 'dist/core')).includes('index.d.ts'));
  t.false(readdirSync(installed).includes('core'));

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
  const run = execFileSync(node, [join(installed, 'dist/core/cli.js'), 'run', 'job.ts', '--parallelism', '2'],
    { cwd: project, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  void run;
  const parts = readdirSync(join(project, 'out'));
  t.is(parts.length, 2, 'one part file per sink subtask');
  t.true(parts.every((p) => p.endsWith('.jsonl')), 'finished part files are no longer in progress');
  const rows = parts.flatMap((p) => readFileSync(join(project, 'out', p), 'utf8').trim().split('\n').map((l) => JSON.parse(l)));
  t.is(rows.length, 1000);
  t.is(rows.reduce((s, r) => s + r.v, 0), 500_500);

  // And the library API from plain JavaScript.
  writeFileSync(join(project, 'api.mjs'), `
import { submit } from 'weir';
const job = await submit(new URL('./job.ts', import.meta.url), { parallelism: 1 });
const r = await job.done;
console.log(JSON.stringify(r.operators.objs));
`);
  const api = execFileSync(node, ['api.mjs'], { cwd: project, encoding: 'utf8' });
  t.is(JSON.parse(api.trim()).recordsIn, 1000);
});
