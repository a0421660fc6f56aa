// weir's ring under test: the zero-copy path (reserve, write in place, publish) and the copy path (tryWrite of a batch).

import { Doorbell, DOORBELL_BYTES } from '../../core/channel/doorbell.ts';
import { FrameKind } from '../../core/channel/frames.ts';
import { allocateRing, RingConsumer, RingProducer } from '../../core/channel/ring.ts';
import { RECORD_BYTES, sumValues, writeRecords } from './records.ts';
import { sharedEnds, type Job, type SharedEnd, type Variant } from './variant.ts';
import { blockUntil } from './wait.ts';

const RING_BYTES = 1 << 20;

function connect() {
  return sharedEnds(allocateRing(RING_BYTES), new SharedArrayBuffer(DOORBELL_BYTES), new SharedArrayBuffer(DOORBELL_BYTES));
}

function producerOf(end: SharedEnd) {
  const ring = new RingProducer(end.ring);
  ring.wake = new Doorbell(end.consumerBell);
  const bell = new Doorbell(end.producerBell);
  const { buffer, byteOffset, byteLength } = ring.data;
  const u32 = new Uint32Array(buffer, byteOffset, byteLength >> 2);
  const f64 = new Float64Array(buffer, byteOffset, byteLength >> 3);
  return { ring, bell, u32, f64 };
}

/** Blocks until the ring has room for `bytes`; returns the payload offset reserve() gave. */
function reserveBlocking(ring: RingProducer, bell: Doorbell, bytes: number): number {
  let at = ring.reserve(bytes);
  if (at >= 0) return at;
  // WAITING makes the consumer ring our bell when it frees space.
  ring.setWaiting(true);
  blockUntil(bell, () => (at = ring.reserve(bytes)) >= 0);
  ring.setWaiting(false);
  return at;
}

function consume(end: SharedEnd, job: Job): number {
  const ring = new RingConsumer(end.ring);
  ring.wake = new Doorbell(end.producerBell);
  const bell = new Doorbell(end.consumerBell);
  const { buffer, byteOffset, byteLength } = ring.data;
  const f64 = new Float64Array(buffer, byteOffset, byteLength >> 3);
  let sum = 0;
  for (let seen = 0; seen < job.total;) {
    if (!ring.next()) blockUntil(bell, () => ring.next());
    if (ring.kind !== FrameKind.DATA) throw new Error(`unexpected ${ring.describeFrame()}`);
    sum += sumValues(f64, ring.payloadOffset, ring.count);
    seen += ring.count;
    ring.consume();
  }
  return sum;
}

export const weirZeroCopy: Variant<SharedEnd> = {
  connect,
  produce(end, job) {
    const { ring, bell, u32, f64 } = producerOf(end);
    for (let sent = 0; sent < job.total;) {
      const n = Math.min(job.batch, job.total - sent);
      const bytes = n * RECORD_BYTES;
      const at = reserveBlocking(ring, bell, bytes);
      writeRecords(u32, f64, at, sent, n);
      ring.publish(FrameKind.DATA, n, bytes);
      sent += n;
    }
  },
  consume,
};

export const weirCopy: Variant<SharedEnd> = {
  connect,
  produce(end, job) {
    const { ring, bell } = producerOf(end);
    // The batch an operator's encoder would have filled on the heap before handing it over.
    const batch = new ArrayBuffer(job.batch * RECORD_BYTES);
    const bytes8 = new Uint8Array(batch);
    const u32 = new Uint32Array(batch);
    const f64 = new Float64Array(batch);
    for (let sent = 0; sent < job.total;) {
      const n = Math.min(job.batch, job.total - sent);
      writeRecords(u32, f64, 0, sent, n);
      const payload = n === job.batch ? bytes8 : bytes8.subarray(0, n * RECORD_BYTES);
      if (!ring.tryWrite(FrameKind.DATA, n, payload)) {
        ring.setWaiting(true);
        blockUntil(bell, () => ring.tryWrite(FrameKind.DATA, n, payload));
        ring.setWaiting(false);
      }
      sent += n;
    }
  },
  consume,
};
