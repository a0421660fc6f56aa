// weir list / savepoint / checkpoint / cancel against real `weir run` processes, through their control endpoints.
import test from 'ava';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { cli, root } from '../helpers/cli.ts';

const fixture = pathToFileURL(join(root, 'test/fixtures/jobs/rescale.ts')).href;

interface Running { child: ChildProcess; stderr: () => string; exited: Promise<number | null> }

function weirRun(args: string[], env: NodeJS.ProcessEnv, cwd: string): Running {
  const child = spawn(process.execPath, [...cli, 'run', ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => { err += d; });
  child.stdout!.resume();
  return { child, stderr: () => err, exited: new Promise((r) => child.on('close', (code) => r(code))) };
}

function weir(args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...cli, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d; });
    child.stderr.on('data', (d: Buffer) => { stderr += d; });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function jobId(run: Running): Promise<string> {
  for (let i = 0; i < 600; i++) {
    const m = /^job ([0-9a-f]{8}):/m.exec(run.stderr());
    if (m !== null) return m[1]!;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no job id printed: ${run.stderr()}`);
}

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'weir-control-'));
  const env = { ...process.env, WEIR_RUNTIME_DIR: join(dir, 'run') };
  return { dir, env };
}

test('weir list shows a running job; weir checkpoint and weir savepoint act on it; --stop stops it with a savepoint', async (t) => {
  const { dir, env } = setup();
  const hold = join(dir, 'hold');
  const run = weirRun([`${fixture}?n=4000&hold=${hold}&out=${join(dir, 'out')}`, '--parallelism', '2', '--checkpoint-interval', '60000',
    '--checkpoint-dir', join(dir, 'ck')], env, dir);
  const id = await jobId(run);
  const listed = await weir(['list'], env, dir);
  t.is(listed.code, 0, listed.stderr);
  t.regex(listed.stdout, /^job\s+pid\s+module\s+parallelism\s+uptime\s+last checkpoint/m);
  t.regex(listed.stdout, new RegExp(`^${id}\\s+${run.child.pid}\\s+.*rescale\\.ts\\S*\\s+2\\s+\\d+ s\\s+-$`, 'm'));
  const cp = await weir(['checkpoint', id.slice(0, 4)], env, dir);
  t.is(cp.code, 0, cp.stderr);
  t.regex(cp.stderr, /^checkpoint \d+ complete in/m);
  t.true(existsSync(join(cp.stdout.trim(), '_metadata')));
  const sp = await weir(['savepoint', id, 'savepoints'], env, dir);
  t.is(sp.code, 0, sp.stderr);
  t.regex(sp.stderr, /^savepoint \d+ complete in \d+ ms, aligned/m);
  t.is(sp.stdout.trim(), join(dir, 'savepoints', readdirSync(join(dir, 'savepoints'))[0]!), 'relative to the caller\'s directory');
  t.regex((await weir(['list'], env, dir)).stdout, /savepoint \d+, \d+ s ago/);
  const stop = await weir(['savepoint', id, 'final', '--stop'], env, dir);
  t.is(stop.code, 0, stop.stderr);
  t.regex(stop.stderr, /stops with it; resume with weir run .* --from-savepoint /);
  t.is(await run.exited, 0, run.stderr());
  t.regex(run.stderr(), /stopped with savepoint \d+ after [\d.]+ s: .*final\/sp-\d+/);
  t.regex((await weir(['list'], env, dir)).stderr, /no running jobs/);
  // The printed command, at another parallelism and backend: it restores the savepoint and runs to the end.
  const savepoint = /--from-savepoint (\S+)/.exec(stop.stderr)![1]!;
  const resumed = await weir(['run', `${fixture}?n=4000&out=${join(dir, 'out')}`, '--from-savepoint', savepoint, '--parallelism', '3',
    '--state-backend', 'lmdb', '--checkpoint-interval', '60000'], env, dir);
  t.is(resumed.code, 0, resumed.stderr);
  t.regex(resumed.stderr, new RegExp(`starting from savepoint \\d+ \\(${savepoint.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\)`));
  t.regex(resumed.stderr, /the last attempt started from /);
});

test('weir cancel cancels a running job; a bad job id is named', async (t) => {
  const { dir, env } = setup();
  const run = weirRun([`${fixture}?n=4000&hold=${join(dir, 'hold')}`, '--parallelism', '1', '--checkpoint-interval', '60000'], env, dir);
  const id = await jobId(run);
  const unknown = await weir(['cancel', 'ffffffff'], env, dir);
  t.is(unknown.code, 1);
  t.regex(unknown.stderr, new RegExp(`no running job "ffffffff" on this host \\(running: ${id}\\)`));
  t.is((await weir(['cancel', id], env, dir)).code, 0);
  t.is(await run.exited, 1);
  t.regex(run.stderr(), /the job was cancelled/);
  const usage = await weir(['savepoint', id], env, dir);
  t.is(usage.code, 2);
  t.regex(usage.stderr, /usage: weir savepoint <job> <dir> \[--stop \[--drain\]\]/);
});

test('the endpoint of a process killed with SIGKILL is found stale and removed by weir list', async (t) => {
  const { dir, env } = setup();
  const run = weirRun([`${fixture}?n=4000&hold=${join(dir, 'hold')}`, '--parallelism', '1', '--checkpoint-interval', '60000'], env, dir);
  const id = await jobId(run);
  run.child.kill('SIGKILL');
  await run.exited;
  t.true(existsSync(join(dir, 'run', `${id}.sock`)), 'a killed process leaves its endpoint behind');
  const listed = await weir(['list'], env, dir);
  t.is(listed.code, 0);
  t.regex(listed.stderr, new RegExp(`removed the stale endpoint of job ${id} \\(process ${run.child.pid}, .*\\): its process is gone`));
  t.false(existsSync(join(dir, 'run', `${id}.sock`)));
  t.false(existsSync(join(dir, 'run', `${id}.json`)));
  t.is((await weir(['savepoint', id, 'x'], env, dir)).code, 1);
});
