// The bench's handle on one worker thread of ring.bench.ts: sends it runs and takes its replies in order.

import { Worker, type TransferListItem } from 'node:worker_threads';
import type { RunReply, RunRequest } from './variants.ts';

export class Peer {
  private readonly worker: Worker;
  private readonly replies: RunReply[] = [];
  private waiting: { resolve: (r: RunReply) => void; reject: (e: Error) => void } | null = null;
  private failure: Error | null = null;

  constructor(role: 'producer' | 'consumer') {
    this.worker = new Worker(new URL('./worker.ts', import.meta.url), { workerData: { role } });
    this.worker.on('message', (r: RunReply) => {
      if (this.waiting === null) this.replies.push(r);
      else this.waiting.resolve(r);
      this.waiting = null;
    });
    const fail = (e: Error) => {
      this.failure = new Error(`${role} worker: ${e.message}`, { cause: e });
      this.waiting?.reject(this.failure);
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`exited with code ${code}`)));
  }

  send(req: RunRequest, transfer: TransferListItem[]): void {
    this.worker.postMessage(req, transfer);
  }

  async take<K extends RunReply['kind']>(kind: K): Promise<Extract<RunReply, { kind: K }>> {
    const r = this.replies.shift() ?? await new Promise<RunReply>((resolve, reject) => {
      if (this.failure !== null) reject(this.failure);
      else this.waiting = { resolve, reject };
    });
    if (r.kind !== kind) throw new Error(`expected a ${kind} reply, got ${r.kind}`);
    return r as Extract<RunReply, { kind: K }>;
  }

  stop(): Promise<number> {
    this.worker.removeAllListeners('exit');
    return this.worker.terminate();
  }
}
