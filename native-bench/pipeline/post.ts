// The postMessage baseline: the keyed pipeline by hand on worker threads that post arrays of records to each other.
//
// Each of P workers maps its contiguous share of the sequence, partitions records by key % P
// into batches per target, and posts the arrays (structured clone); each aggregates the keys
// it owns. Every record crosses a channel, its own worker's included, as in weir at
// parallelism P. The workers live across runs, so a run measures no thread start-up.
import { MessageChannel, Worker } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';

export interface PostRun {
  readonly from: number;
  readonly to: number;
  readonly batch: number;
  /** One port per target worker, indexed by target. */
  readonly outputs: MessagePort[];
  /** One port per source worker. */
  readonly inputs: MessagePort[];
}

export interface PostDone {
  readonly keys: number;
  readonly emitted: number;
  readonly sum: number;
}

export class PostPipeline {
  readonly parallelism: number;
  private readonly workers: Worker[];

  constructor(parallelism: number) {
    this.parallelism = parallelism;
    this.workers = Array.from({ length: parallelism }, () => new Worker(new URL('./post-worker.ts', import.meta.url)));
  }

  /** Runs n records through the workers; resolves with what each worker's state holds. */
  async run(n: number, batch: number): Promise<PostDone[]> {
    const p = this.parallelism;
    const channels = Array.from({ length: p }, () => Array.from({ length: p }, () => new MessageChannel()));
    const dones = this.workers.map((w, i) => new Promise<PostDone>((resolve, reject) => {
      const onError = (e: Error) => reject(new Error(`postMessage worker ${i}: ${e.message}`, { cause: e }));
      w.once('error', onError);
      w.once('message', (d: PostDone) => { w.off('error', onError); resolve(d); });
    }));
    this.workers.forEach((w, i) => {
      const outputs = channels[i]!.map((c) => c.port1);
      const inputs = channels.map((row) => row[i]!.port2);
      const run: PostRun = { from: Math.floor((n * i) / p), to: Math.floor((n * (i + 1)) / p), batch, outputs, inputs };
      w.postMessage(run, [...outputs, ...inputs]);
    });
    return Promise.all(dones);
  }

  close(): Promise<number[]> {
    return Promise.all(this.workers.map((w) => w.terminate()));
  }
}
