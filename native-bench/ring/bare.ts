// The memory-limit baseline: a minimal hand-written SPSC ring of fixed-size records, no frames, no barriers.

import { Doorbell, DOORBELL_BYTES } from '../../core/channel/doorbell.ts';
import { RECORD_BYTES, sumValues, writeRecords } from './records.ts';
import { sharedEnds, type SharedEnd, type Variant } from './variant.ts';
import { blockUntil } from './wait.ts';

/**
 * Layout (the two counters on their own 64-byte lines):
 *
 *   0    +---------------------+
 *        | WRITTEN  i32        |  records published, free-running
 *   64   +---------------------+
 *        | READ     i32        |  records consumed, free-running
 *        | WAITING  i32        |  1 while the producer waits for room
 *   128  +---------------------+
 *        | CAPACITY records of RECORD_BYTES each
 *        +---------------------+
 *
 * It wakes its peer as weir's ring does (the producer rings after each batch, the consumer
 * only while the producer waits), through the same Doorbell, so the comparison isolates
 * the ring itself.
 */
const WRITTEN = 0;
const READ = 16;
const WAITING = 17;
const HEADER_BYTES = 128;
const CAPACITY = (1 << 20) / RECORD_BYTES;
const MASK = CAPACITY - 1;

function views(sab: SharedArrayBuffer) {
  return {
    counters: new Int32Array(sab, 0, HEADER_BYTES >> 2),
    u32: new Uint32Array(sab, HEADER_BYTES),
    f64: new Float64Array(sab, HEADER_BYTES),
  };
}

export const bareRing: Variant<SharedEnd> = {
  connect() {
    return sharedEnds(
      new SharedArrayBuffer(HEADER_BYTES + CAPACITY * RECORD_BYTES),
      new SharedArrayBuffer(DOORBELL_BYTES), new SharedArrayBuffer(DOORBELL_BYTES));
  },

  produce(end, job) {
    const { counters, u32, f64 } = views(end.ring);
    const bell = new Doorbell(end.producerBell);
    const peer = new Doorbell(end.consumerBell);
    let read = 0;
    for (let written = 0; written < job.total;) {
      const n = Math.min(job.batch, job.total - written);
      if (written + n - read > CAPACITY) {
        read = Atomics.load(counters, READ);
        if (written + n - read > CAPACITY) {
          Atomics.store(counters, WAITING, 1);
          blockUntil(bell, () => written + n - (read = Atomics.load(counters, READ)) <= CAPACITY);
          Atomics.store(counters, WAITING, 0);
        }
      }
      const slot = written & MASK;
      const first = Math.min(n, CAPACITY - slot);
      writeRecords(u32, f64, slot * RECORD_BYTES, written, first);
      if (first < n) writeRecords(u32, f64, 0, written + first, n - first);
      written += n;
      Atomics.store(counters, WRITTEN, written);
      peer.ring();
    }
  },

  consume(end, job) {
    const { counters, f64 } = views(end.ring);
    const bell = new Doorbell(end.consumerBell);
    const peer = new Doorbell(end.producerBell);
    let sum = 0;
    let written = 0;
    for (let read = 0; read < job.total;) {
      if (read === written) {
        written = Atomics.load(counters, WRITTEN);
        if (read === written) blockUntil(bell, () => read !== (written = Atomics.load(counters, WRITTEN)));
      }
      // Release a batch at a time, as weir's consumer releases a frame at a time.
      const n = Math.min(job.batch, written - read);
      const slot = read & MASK;
      const first = Math.min(n, CAPACITY - slot);
      sum += sumValues(f64, slot * RECORD_BYTES, first);
      if (first < n) sum += sumValues(f64, 0, n - first);
      read += n;
      Atomics.store(counters, READ, read);
      if (Atomics.load(counters, WAITING) !== 0) peer.ring();
    }
    return sum;
  },
};
