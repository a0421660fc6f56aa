// What each transport under test provides: how to connect a producer and a consumer, and each side's loop.

import type { TransferListItem } from 'node:worker_threads';

/** One run: move `total` records in batches of `batch`. */
export interface Job {
  readonly batch: number;
  readonly total: number;
}

/** The consumer returns the sum of the value field, which the caller checks. */
export interface Variant<End> {
  /** Fresh shared memory or ports for one run; ports must be transferred, so they are listed. */
  connect(): { producer: End; consumer: End; transfer: { producer: TransferListItem[]; consumer: TransferListItem[] } };
  produce(end: End, job: Job): void | Promise<void>;
  consume(end: End, job: Job): number | Promise<number>;
}

/** The ends of a transport in shared memory: the ring and the doorbell of each side's thread. */
export interface SharedEnd {
  readonly ring: SharedArrayBuffer;
  readonly producerBell: SharedArrayBuffer;
  readonly consumerBell: SharedArrayBuffer;
}

export function sharedEnds(ring: SharedArrayBuffer, producerBell: SharedArrayBuffer, consumerBell: SharedArrayBuffer) {
  const end: SharedEnd = { ring, producerBell, consumerBell };
  return { producer: end, consumer: end, transfer: { producer: [], consumer: [] } };
}
