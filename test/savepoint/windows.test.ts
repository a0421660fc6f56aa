// Window state (contents and timers) across a savepoint restored at another parallelism and into another backend.
import test from 'ava';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { submit } from '../../core/index.ts';
import type { WindowRow } from '../fixtures/jobs/window-rescale.ts';
import { untilEmitted } from '../helpers/rescale-rows.ts';

const N = 4000;
const KEYS = 40;
const job = (q: string) => new URL(`../fixtures/jobs/window-rescale.ts?n=${N}&keys=${KEYS}&${q}`, import.meta.url);

/** Every (key, window) once: the sum and count of its values, v at time 2v. */
function oracle(): WindowRow[] {
  const m = new Map<string, WindowRow>();
  for (let v = 0; v < N; v++) {
    const k = v % KEYS;
    const start = Math.floor((2 * v) / 100) * 100;
    const row = m.get(`${k}@${start}`) ?? [k, start, 0, 0];
    row[2] += v;
    row[3]++;
    m.set(`${k}@${start}`, row);
  }
  return [...m.values()].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
}

for (const [a, b] of [[{ p: 2, s: 'heap' }, { p: 3, s: 'lmdb' }], [{ p: 3, s: 'lmdb' }, { p: 1, s: 'heap' }]] as const) {
  test(`windows in a savepoint at p${a.p} ${a.s}, restored at p${b.p} ${b.s}: every window once, exact`, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'weir-win-sp-'));
    const options = { maxParallelism: 16, checkpointInterval: 50, restartStrategy: 'none' as const };
    const first = await submit(job(`hold=${join(dir, 'hold')}`), { ...options, parallelism: a.p, stateBackend: a.s, checkpointDir: join(dir, 'ck1') });
    await untilEmitted(first, N / 2);
    const sp = await first.savepoint(join(dir, 'savepoints'));
    await first.cancel();
    const second = await submit(job(''), { ...options, parallelism: b.p, stateBackend: b.s, checkpointDir: join(dir, 'ck2'), fromSavepoint: sp.path });
    const r = await second.done;
    const rows = (r.collected['out'] as WindowRow[]).sort((x, y) => x[0] - y[0] || x[1] - y[1]);
    t.deepEqual(rows, oracle());
  });
}
