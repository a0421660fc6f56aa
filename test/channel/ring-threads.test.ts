// The ring across two real worker threads: checksummed records, barriers and the doorbell protocol.
import test from 'ava';
import { Worker } from 'node:worker_threads';
import { allocateRing } from '../../core/channel/ring.ts';
import { DOORBELL_BYTES } from '../../core/channel/doorbell.ts';

const fixture = new URL('../fixtures/ring-worker.ts', import.meta.url);

function run(role: string, data: object): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    const w = new Worker(fixture, { workerData: { role, ...data } });
    w.once('message', resolve);
    w.once('error', reject);
    w.once('exit', (code) => { if (code !== 0) reject(new Error(`${role} exited with ${code}`)); });
  });
}

for (const capacity of [64, 256, 4096]) {
  test(`${capacity}-byte ring: every record arrives once, in order, intact; barriers never passed`, async (t) => {
    const data = {
      ring: allocateRing(capacity),
      producerBell: new SharedArrayBuffer(DOORBELL_BYTES),
      consumerBell: new SharedArrayBuffer(DOORBELL_BYTES),
      frames: 20_000,
      barrierEvery: 97,
      seed: capacity,
    };
    const [p, c] = await Promise.all([run('producer', data), run('consumer', data)]);
    t.is(c.records, p.records);
    t.true(p.records >= data.frames, "every frame carried at least one record");
    t.is(c.bad, 0, 'no corrupt or reordered record');
    t.is(c.barriers, p.barriers);
    t.is(c.violations, 0, 'the consumer never passed an announced barrier');
    t.is(p.timeouts + c.timeouts, 0, 'no lost wakeup: every sleep ended by a ring of the doorbell');
  });
}
