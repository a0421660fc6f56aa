// A whole-process crash: SIGKILL of `weir run` with committed output on disk, then the same command resumes.
import test from 'ava';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, project, runCli } from '../helpers/cli.ts';

const N = 4000;
// The second half of each source subtask's range waits for a marker file: the first run is
// killed while it waits, with the first half checkpointed and committed.
const JOB = `import { defineJob, fileSink, KeyedProcessFunction, ValueStateDescriptor } from 'weir';
import type { Collector, KeyedContext, OperatorContext } from 'weir';
import { existsSync } from 'node:fs';

class Count extends KeyedProcessFunction<number, number, [number, number, number]> {
  count = new ValueStateDescriptor<number>('count', 0);
  processElement(v: number, ctx: KeyedContext<number>, out: Collector<[number, number, number]>) {
    const s = ctx.state(this.count);
    s.update(s.value() + 1);
    out.collect([ctx.currentKey, v, s.value()]);
  }
}

export default defineJob((env) => {
  env.fromSource((ctx: OperatorContext) => {
    const from = Math.floor(${N} * ctx.subtask / ctx.parallelism), to = Math.floor(${N} * (ctx.subtask + 1) / ctx.parallelism);
    const half = from + Math.floor((to - from) / 2);
    let next = from;
    return {
      emitBatch(emit: (v: number) => void, max: number) {
        const limit = existsSync('go') ? to : half;
        const stop = Math.min(limit, next + max);
        for (; next < stop; next++) emit(next);
        return next < to;
      },
      snapshotState: () => ({ next }),
      initializeState(s: unknown) { next = (s as { next: number }).next; },
    };
  }).uid('numbers')
    .keyBy((v) => v % 7).process(new Count()).uid('count')
    .sinkTo(fileSink('out')).uid('files');
});
`;

const committed = (dir: string) => readdirSync(join(dir, 'out')).filter((f) => f.startsWith('part-') && f.endsWith('.jsonl'))
  .flatMap((f) => readFileSync(join(dir, 'out', f), 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as [number, number, number]));

test('SIGKILL mid-run with committed part files, then the same command resumes from the newest checkpoint: every record once', async (t) => {
  const dir = project({ 'job.ts': JOB });
  const args = ['run', 'job.ts', '--parallelism', '2', '--checkpoint-interval', '30', '--checkpoint-dir', 'cp', '--retained-checkpoints', '2'];
  const child = spawn(process.execPath, [...cli, ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_, signal) => resolve(signal)));
  // Killed once a checkpoint taken while the sources wait (so after the first half) is complete
  // and its part files are committed.
  await new Promise<void>((resolve) => {
    child.stderr.on('data', (d: Buffer) => {
      stderr += d;
      const done = [...stderr.matchAll(/checkpoint (\d+) complete/g)].length;
      if (done >= 4 && existsSync(join(dir, 'out')) && committed(dir).length === N / 2) resolve();
    });
  });
  // While it runs, the same command from another shell is refused: two writers of one checkpoint directory.
  const twice = await runCli(args, dir);
  t.is(twice.code, 1);
  t.regex(twice.stderr, new RegExp(`checkpoint directory .*cp is in use by a running job \\(process ${child.pid},`));
  child.kill('SIGKILL');
  t.is(await exited, 'SIGKILL');
  const before = committed(dir);
  t.is(before.length, N / 2, 'the first half is committed output');
  t.true(readdirSync(join(dir, 'cp')).some((f) => /^chk-\d+$/.test(f)), 'the checkpoints are kept');

  writeFileSync(join(dir, 'go'), '');
  const again = await runCli(args, dir);
  t.is(again.code, 0, again.stderr);
  t.regex(again.stderr, /resuming from checkpoint \d+ in .*cp\/chk-\d+/);
  const all = committed(dir);
  t.is(all.length, N, 'nothing lost, nothing duplicated');
  t.is(new Set(all.map((r) => r[1])).size, N);
  for (let k = 0; k < 7; k++) {
    const counts = all.filter((r) => r[0] === k).map((r) => r[2]).sort((a, b) => a - b);
    t.deepEqual(counts, counts.map((_, i) => i + 1), `key ${k}: its count went on from the checkpoint`);
  }
  t.deepEqual(readdirSync(join(dir, 'out')).filter((f) => f.endsWith('.inprogress')), [], 'the crashed run\'s unfinished files are gone');
  t.false(readdirSync(join(dir, 'cp')).some((f) => /^chk-\d+$/.test(f)), 'a finished job discards its checkpoints');
});

test('a checkpoint directory of another job is refused, naming both', async (t) => {
  const dir = project({ 'job.ts': JOB, 'other.ts': JOB.replace("uid('count')", "uid('count-2')") });
  const args = (job: string) => ['run', job, '--parallelism', '1', '--checkpoint-interval', '30', '--checkpoint-dir', 'cp'];
  const child = spawn(process.execPath, [...cli, ...args('job.ts')], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise<void>((resolve) => child.stderr.on('data', (d: Buffer) => { if (/checkpoint \d+ complete/.test(String(d))) resolve(); }));
  child.kill('SIGKILL');
  await new Promise((r) => child.on('exit', r));
  const other = await runCli(args('other.ts'), dir);
  t.is(other.code, 1);
  t.regex(other.stderr, /checkpoint directory .*cp holds checkpoints of another job \(file:.*job\.ts, plan \w+\); this job is file:.*other\.ts \(plan \w+\)/);
});
