// The weir command as a user meets it: a process started in a project directory, its output and its exit status.
import test from 'ava';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nodeVersionProblem } from '../../core/node-version.ts';
import { cli, project, root, runCli } from '../helpers/cli.ts';

test('--version, help and run --help answer without running anything', async (t) => {
  const v = await runCli(['--version'], project({}));
  t.is(v.code, 0);
  t.regex(v.stdout, /^weir-stream \d+\.\d+\.\d+ \(weir, Node\.js v2\d/);
  const help = await runCli(['run', '--help'], project({}));
  const helpRun = await runCli(['help', 'run'], project({}));
  t.is(help.code, 0);
  t.is(help.stdout, helpRun.stdout);
  // Every option on one line with what it does and its default.
  t.regex(help.stdout, /--state-backend <heap\|lmdb> +where keyed state lives \[default: heap\]/);
  t.regex(help.stdout, /--lmdb-cache-bytes <bytes> +LMDB write-back cache .*\[default: 16MiB\]/);
  t.regex(help.stdout, /--unaligned +unaligned checkpoints/);
});

test('a mistyped option gets "did you mean" in kebab case, exit status 2', async (t) => {
  const dir = project({ 'job.ts': 'export default 1;' });
  const r = await runCli(['run', 'job.ts', '--paralelism', '2'], dir);
  t.is(r.code, 2);
  t.regex(r.stderr, /unknown option '--paralelism'; did you mean '--parallelism'\?/);
  const r2 = await runCli(['run', 'job.ts', '--state-backed', 'lmdb'], dir);
  t.regex(r2.stderr, /did you mean '--state-backend'\?/);
});

test('sizes take units: --ring-capacity 64k, --lmdb-cache-bytes 1MiB', async (t) => {
  const dir = project({
    'job.ts': `import { defineJob } from 'weir';
export default defineJob((env) => {
  env.fromSequence(1, 100).uid('n').keyBy((n) => n % 3).reduce((a, b) => a + b).uid('a-rather-long-operator-uid-that-used-to-break-the-table').collect().uid('out');
});`,
  });
  const r = await runCli(['run', 'job.ts', '--ring-capacity', '64k', '--lmdb-cache-bytes=1MiB', '--state-backend', 'lmdb', '--parallelism', '1'], dir);
  t.is(r.code, 0, r.stderr);
  // The summary table stays aligned with a long uid: every row's counts end in the same column.
  const rows = r.stderr.split('\n').filter((l) => /^(operator|n |a-rather|out )/.test(l));
  t.is(rows.length, 4);
  t.is(new Set(rows.map((l) => l.length)).size, 1, rows.join('\n'));
  const bad = await runCli(['run', 'job.ts', '--ring-capacity', '64 parsecs'], dir);
  t.is(bad.code, 2);
  t.regex(bad.stderr, /option 'ringCapacity' must be an integer/);
  // An LMDB run leaves no empty working directory behind.
  t.false(existsSync(join(dir, '.weir-work')), 'the working directory is removed with the run');
});

test('collect() in a job run by the CLI prints its records as JSON lines and says so', async (t) => {
  const dir = project({
    'job.ts': `import { defineJob } from 'weir';
export default defineJob((env) => {
  env.setParallelism(1);
  env.fromCollection(['a b', 'c']).uid('lines').flatMap((l: string) => l.split(' ')).uid('words').collect().uid('out');
});`,
  });
  const r = await runCli(['run', 'job.ts'], dir);
  t.is(r.code, 0, r.stderr);
  // flatMap returned arrays (the JavaScript habit): every element is a record.
  t.deepEqual(r.stdout.trim().split('\n').map((l) => JSON.parse(l)), ['a', 'b', 'c']);
  t.regex(r.stderr, /collect 'out': 3 record\(s\), printed to standard output/);
});

test('flatMap returning something other than an iterable fails naming the operator and record', async (t) => {
  const dir = project({
    'job.ts': `import { defineJob } from 'weir';
export default defineJob((env) => {
  env.setParallelism(1);
  env.fromCollection([1, 2, 3]).uid('nums').flatMap((n: number) => n * 2 as never).uid('doubles').collect().uid('out');
});`,
  });
  const r = await runCli(['run', 'job.ts'], dir);
  t.is(r.code, 1);
  t.regex(r.stderr, /flatMap's function returned a number; emit with out\.collect\(\.\.\.\) or return an array/);
  t.regex(r.stderr, /operator 'doubles', subtask 0, input record 0/);
  t.is(r.stdout, '', 'nothing collected is printed from a failed run');
});

test('an import that fails inside a job module names the import and the file, not a missing job', async (t) => {
  const dir = project({
    'job.ts': `import { defineJob } from 'weir';\nimport { helper } from './helpr.ts';\nexport default defineJob((env) => { env.fromSequence(1, 2).map(helper).print(); });\n`,
    'pkg.ts': `import { defineJob } from 'weir';\nimport left from 'left-pad-not-installed';\nexport default defineJob((env) => { env.fromSequence(1, 2).map(left).print(); });\n`,
  });
  const typo = await runCli(['run', 'job.ts'], dir);
  t.is(typo.code, 1);
  t.notRegex(typo.stderr, /job module not found/);
  t.regex(typo.stderr, /module '.*helpr\.ts' imported from .*job\.ts was not found/);
  const pkg = await runCli(['run', 'pkg.ts'], dir);
  t.regex(pkg.stderr, /package 'left-pad-not-installed' imported from .*pkg\.ts was not found \(is it installed\?\)/);
  const missing = await runCli(['run', 'nope.ts'], dir);
  t.regex(missing.stderr, /job module not found: .*nope\.ts/);
});

test('a TypeScript syntax error names the file, line and column', async (t) => {
  const dir = project({
    'job.ts': `import { defineJob } from 'weir';\nconst f = (a: number => a;\nexport default defineJob((env) => { env.fromSequence(1, 2).print(); });\n`,
  });
  const r = await runCli(['run', 'job.ts'], dir);
  t.is(r.code, 1);
  t.regex(r.stderr, /job\.ts:2:\d+/);
  t.regex(r.stderr, /const f = \(a: number => a;\n +\^/, 'the line and a caret under the place');
});

test('a user exception prints the user\'s own stack with file:line:col', async (t) => {
  const dir = project({
    'job.ts': `import { defineJob } from 'weir';
function check(n: number) {
  if (n === 7) throw new Error('seven is not allowed');
  return n;
}
export default defineJob((env) => { env.setParallelism(1); env.fromSequence(0, 9).uid('n').map(check).uid('checked').discard(); });
`,
  });
  const r = await runCli(['run', 'job.ts'], dir);
  t.is(r.code, 1);
  t.regex(r.stderr, /user code failed: seven is not allowed \(operator 'checked', subtask 0, input record 7\)/);
  t.regex(r.stderr, /caused by Error: seven is not allowed\n\s+at check \(file:\/\/.*job\.ts:3:\d+\)/);
});

test('a module whose only export is a named job is refused, as the README says', async (t) => {
  const dir = project({
    'job.ts': `import { defineJob } from 'weir';\nexport const job = defineJob((env) => { env.fromSequence(1, 2).print(); });\n`,
  });
  const r = await runCli(['run', 'job.ts'], dir);
  t.is(r.code, 1);
  t.regex(r.stderr, /exports no default job \(it exports 'job', but only the default export is run\)/);
});

test('.returns() is checked on chained edges, naming the input record', async (t) => {
  const dir = project({
    'job.ts': `import { defineJob, Types } from 'weir';
export default defineJob((env) => {
  env.setParallelism(1);
  env.fromSequence(0, 99).uid('n')
    .map((n) => [n === 42 ? 'forty-two' : n, n] as [number, number]).returns(Types.TUPLE(Types.INT32, Types.FLOAT64)).uid('pairs')
    .map((p) => p[0] + p[1]).uid('sum')
    .discard();
});`,
  });
  const r = await runCli(['run', 'job.ts'], dir);
  t.is(r.code, 1);
  t.regex(r.stderr, /does not match the type declared with \.returns\(\): tuple<int32,float64>\[0\]: expected int32.*got 'forty-two'/);
  t.regex(r.stderr, /operator 'pairs', subtask 0, input record 42/);
});

test('.returns() on a network edge names the same input record, not an index in a batch', async (t) => {
  const dir = project({
    'job.ts': `import { defineJob, Types } from 'weir';
export default defineJob((env) => {
  env.setParallelism(1);
  env.fromSequence(0, 999).uid('n')
    .map((n) => ({ k: n % 5, v: n === 700 ? -1.5 : n })).returns(Types.ROW({ k: Types.INT32, v: Types.UINT32 })).uid('rows')
    .keyBy((r) => r.k).map((r) => r.v).uid('values').discard();
});`,
  });
  const r = await runCli(['run', 'job.ts', '--batch-size', '256'], dir);
  t.is(r.code, 1);
  t.regex(r.stderr, /row<k:int32,v:uint32>\.v: expected uint32/);
  t.regex(r.stderr, /operator 'rows', subtask 0, input record 700/);
});

const sinkJob = (existing?: string) => `import { defineJob, fileSink } from 'weir';
export default defineJob((env) => {
  env.fromSequence(1, 1000).uid('n').rebalance().map((n) => ({ n })).uid('rows')
    .sinkTo(fileSink('out'${existing ? `, { existing: '${existing}' }` : ''})).uid('files');
});`;

const totalIn = (dir: string) => readdirSync(dir).filter((f) => f.startsWith('part-') && f.endsWith('.jsonl'))
  .flatMap((f) => readFileSync(join(dir, f), 'utf8').trim().split('\n')).map((l) => JSON.parse(l).n as number)
  .reduce((a, b) => a + b, 0);

test('a fresh run into a file sink directory holding another run\'s output is refused, or told what to do', async (t) => {
  const dir = project({ 'job.ts': sinkJob(), 'overwrite.ts': sinkJob('overwrite'), 'keep.ts': sinkJob('keep') });
  const first = await runCli(['run', 'job.ts', '--parallelism', '2'], dir);
  t.is(first.code, 0, first.stderr);
  t.regex(first.stderr, /file sink 'files' wrote 2 part file\(s\) in .*\/out/);
  const firstFiles = readdirSync(join(dir, 'out')).sort();
  t.is(totalIn(join(dir, 'out')), 500_500);

  const again = await runCli(['run', 'job.ts', '--parallelism', '1'], dir);
  t.is(again.code, 1);
  t.regex(again.stderr, /already holds 2 finished part file\(s\) of an earlier run .*existing: 'overwrite'/);
  t.deepEqual(readdirSync(join(dir, 'out')).sort(), firstFiles, 'a refused run touches nothing');

  // A crashed run's unfinished file is not output: the next run clears it.
  writeFileSync(join(dir, 'out', 'part-files-zzzzzzp999999-0-0-0.jsonl.inprogress'), '{"n":1000000}\n');
  const over = await runCli(['run', 'overwrite.ts', '--parallelism', '1'], dir);
  t.is(over.code, 0, over.stderr);
  const partsIn = (d: string) => readdirSync(d).filter((f) => f.startsWith('part-'));
  const after = partsIn(join(dir, 'out'));
  t.is(after.length, 1, after.join(', '));
  t.is(totalIn(join(dir, 'out')), 500_500, 'the totals are this run\'s alone');

  const keep = await runCli(['run', 'keep.ts', '--parallelism', '2'], dir);
  t.is(keep.code, 0, keep.stderr);
  t.is(partsIn(join(dir, 'out')).length, 3);
  // The manifest lists what each commit made visible: the overwrite run's file, then the kept run's two.
  const manifest = readFileSync(join(dir, 'out', '_weir-manifest.jsonl'), 'utf8').trim().split('\n').flatMap((l) => JSON.parse(l).files as string[]);
  t.deepEqual([...manifest].sort(), partsIn(join(dir, 'out')).sort());
  t.is(totalIn(join(dir, 'out')), 2 * 500_500);
});

test('SIGTERM and SIGINT stop the job, say so, and exit 128 + signal', async (t) => {
  const dir = project({
    'job.ts': `import { defineJob } from 'weir';
export default defineJob((env) => {
  env.setParallelism(1);
  env.fromSequence(0, 1e12).uid('n')
    .map((n) => { if (n === 1000) console.error('flowing'); return n; }).uid('flow')
    .filter((n) => n % 1_000_000 === 0).uid('rare').discard();
});`,
  });
  for (const [signal, status] of [['SIGTERM', 143], ['SIGINT', 130]] as const) {
    const child = spawn(process.execPath, [...cli, 'run', 'job.ts'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    const flowing = new Promise<void>((resolve) => {
      child.stderr.on('data', (d: Buffer) => { stderr += d; if (stderr.includes('flowing')) resolve(); });
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await flowing;
    child.kill(signal);
    const code = await exited;
    t.is(code, status, stderr);
    t.regex(stderr, new RegExp(`${signal}: stopping the job`));
    t.regex(stderr, new RegExp(`stopped by ${signal} after`));
    t.notRegex(stderr, /finished in/);
  }
});

test('on Node older than 24 weir says so in one line, with what to do', async (t) => {
  const problem = nodeVersionProblem('20.20.2');
  t.regex(problem!, /^weir needs Node\.js 24 or newer \(this is v20\.20\.2\).*npm install -D node@24/);
  t.false(problem!.includes('\n'));
  t.is(nodeVersionProblem('24.0.0'), null);
  // And as it happens, with the machine's own older Node, where it has one, on the built bin and library.
  const system = ['/usr/bin/node', '/usr/local/bin/node'].find((p) => existsSync(p));
  const bin = join(root, 'dist/core/cli.js');
  if (system === undefined || !existsSync(bin)) return;
  const version = await runCli(['-p', 'process.versions.node'], project({}), system, []);
  if (Number(version.stdout.split('.')[0]) >= 24) return;
  const old = await runCli(['--version'], project({}), system, [bin]);
  t.is(old.code, 1);
  t.is(old.stderr.trim().split('\n').length, 1, old.stderr);
  t.regex(old.stderr, /^weir needs Node\.js 24 or newer \(this is v\d+/);
  const lib = await runCli(['-e', `import(${JSON.stringify(join(root, 'dist/core/index.js'))})`], project({}), system, []);
  t.regex(lib.stderr, /Error: weir needs Node\.js 24 or newer/);
});

test('on a terminal weir run redraws a live line of records/s and the last checkpoint; piped, it prints plain lines only', async (t) => {
  const dir = project({
    'job.ts': `import { defineJob } from 'weir';
export default defineJob((env) => {
  env.setParallelism(1);
  env.fromSequence(0, 1_200_000_000).uid('n').filter((n) => n % 1_000_000 === 0).uid('rare').discard();
});`,
  });
  const args = ['run', 'job.ts', '--checkpoint-interval', '200'];
  const piped = await runCli(args, dir);
  t.is(piped.code, 0, piped.stderr);
  t.notRegex(piped.stderr, /records\/s/, 'no live line when stderr is not a terminal');
  t.regex(piped.stderr, /checkpoint \d+ complete/);
  // util-linux `script` gives the command a pseudo-terminal, as a user's shell does.
  if (!existsSync('/usr/bin/script')) return;
  const command = [process.execPath, ...cli, ...args].map((a) => `'${a}'`).join(' ');
  const tty = await runCli(['-qec', command, '/dev/null'], dir, '/usr/bin/script', []);
  t.is(tty.code, 0, tty.stdout + tty.stderr);
  const lines = tty.stdout.split(/\r|\n/).filter((l) => /records\/s/.test(l));
  t.true(lines.length >= 1, tty.stdout.slice(0, 500));
  t.regex(lines.at(-1)!, /\d[\d.]*[KM]? records\/s, \d+ so far, (no checkpoint yet|checkpoint \d+ \d+ s ago)/);
});

test('weir run --unaligned prints each checkpoint\'s alignment and in-flight bytes; --unaligned with at-least-once is refused', async (t) => {
  const dir = project({
    'job.ts': `import { defineJob } from 'weir';
export default defineJob((env) => {
  env.setParallelism(2);
  env.fromSequence(0, 3_000_000).uid('n').rebalance().map((n) => n * 2).uid('double').discard();
});`,
  });
  const r = await runCli(['run', 'job.ts', '--checkpoint-interval', '100', '--unaligned'], dir);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stderr, /checkpoint \d+ complete in \d+ ms, unaligned \(.*state [\d.]+ ?\w*B?, in-flight [\d.]+ ?\w*B?\)/);
  const bad = await runCli(['run', 'job.ts', '--checkpoint-interval', '100', '--unaligned', '--checkpointing-mode', 'at-least-once'], dir);
  t.not(bad.code, 0);
  t.regex(bad.stderr, /option 'unaligned' needs checkpointingMode 'exactly-once'/);
});

test('weir inspect lists a retained unaligned checkpoint: state, source positions, in-flight records per channel; a damaged file is named', async (t) => {
  const { submit } = await import('../../core/index.ts');
  const dir = project({});
  const cp = join(dir, 'cp');
  const url = new URL('../fixtures/jobs/unaligned.ts?n=100000&keys=16&sinkUs=200&topology=keyed&fail=none&end=n', import.meta.url);
  const job = await submit(url, { parallelism: 2, checkpointInterval: 100, unaligned: true, ringCapacity: 16384, checkpointDir: cp });
  while (!job.checkpoints().some((c) => c.status === 'completed' && c.persistedBytes > 0)) await new Promise((r) => setTimeout(r, 20));
  await job.cancel();
  await job.done.catch(() => {});
  const r = await runCli(['inspect', 'cp'], dir);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /^checkpoint \d+ of file:.*unaligned\.ts/);
  t.regex(r.stdout, /count: keyed state \(heap\) count: \d+ entr(y|ies) in \d+ key group\(s\)/);
  t.regex(r.stdout, /source: \{"next":\d+\}/);
  t.regex(r.stdout, /(input|output) \w+\[\d\]->\w+\[\d\]: [\d.]+ (B|KiB|MiB), \d+ record\(s\) in \d+ frame\(s\)/);
  t.regex(r.stdout, /in-flight bytes persisted in all: [\d.]+ (KiB|MiB)/);
  // One flipped byte in a channel state file: refused, naming the file.
  const chk = readdirSync(cp).find((f) => f.startsWith('chk-'))!;
  const channels = readdirSync(join(cp, chk)).find((f) => f.endsWith('.channels'))!;
  const bytes = readFileSync(join(cp, chk, channels));
  bytes[bytes.length - 1]! ^= 0xff;
  writeFileSync(join(cp, chk, channels), bytes);
  const bad = await runCli(['inspect', join('cp', chk)], dir);
  t.is(bad.code, 1);
  t.regex(bad.stderr, new RegExp(`${channels}.* fails its checksum`));
});
