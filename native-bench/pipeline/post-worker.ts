// A worker of the postMessage baseline: produces its share of the records, partitioned by key in batches, and aggregates the keys it owns.
import { parentPort } from 'node:worker_threads';
import { addTo, toRecord } from './functions.ts';
import type { Acc, Rec } from './functions.ts';
import type { PostDone, PostRun } from './post.ts';

/** Batches in flight per channel before the producer waits for an acknowledgement: postMessage has no backpressure of its own. */
const CREDITS = 8;

parentPort!.on('message', (run: PostRun) => {
  const state = new Map<number, Acc>();
  let emitted = 0;
  let open = run.inputs.length;
  // Consumer: every batch is acknowledged on its own port, which returns a credit to its producer.
  for (const port of run.inputs) {
    port.on('message', (batch: Rec[] | null) => {
      if (batch === null) {
        // Closes the producer's end too, and with it that end's listener.
        port.close();
        if (--open === 0) finish();
        return;
      }
      for (let i = 0; i < batch.length; i++) {
        const r = batch[i]!;
        if (addTo(state, r.key, r.value) !== undefined) emitted++;
      }
      port.postMessage(0);
    });
  }
  const finish = () => {
    let sum = 0;
    for (const acc of state.values()) sum += acc.sum;
    parentPort!.postMessage({ keys: state.size, emitted, sum } satisfies PostDone);
  };
  void produce(run);
});

async function produce(run: PostRun): Promise<void> {
  const outputs = run.outputs;
  const targets = outputs.length;
  const credits = outputs.map(() => CREDITS);
  const waiting: ((() => void) | null)[] = outputs.map(() => null);
  outputs.forEach((port, t) => port.on('message', () => {
    credits[t]!++;
    const wake = waiting[t];
    waiting[t] = null;
    wake?.();
  }));
  const send = async (t: number, batch: Rec[] | null) => {
    // Waiting for a credit also lets this thread's own consumer run: the event loop turns while we wait.
    while (credits[t] === 0) await new Promise<void>((r) => { waiting[t] = r; });
    if (batch !== null) credits[t]!--;
    outputs[t]!.postMessage(batch);
  };
  const batches: Rec[][] = outputs.map(() => []);
  for (let i = run.from; i < run.to; i++) {
    const r = toRecord(i);
    const t = r.key % targets;
    const batch = batches[t]!;
    batch.push(r);
    if (batch.length === run.batch) {
      batches[t] = [];
      await send(t, batch);
    }
  }
  for (let t = 0; t < targets; t++) {
    if (batches[t]!.length > 0) await send(t, batches[t]!);
    await send(t, null);
  }
}
