// ringbuf.js (the npm SPSC ring over a SharedArrayBuffer) moving the same records, as bytes and as float64 pairs.

import { RingBuffer } from 'ringbuf.js';
import { Doorbell, DOORBELL_BYTES } from '../../core/channel/doorbell.ts';
import { RECORD_BYTES, sumValues, writeRecords } from './records.ts';
import { sharedEnds, type SharedEnd, type Variant } from './variant.ts';
import { blockUntil } from './wait.ts';

type Element = Uint8ArrayConstructor | Float64ArrayConstructor;

/**
 * ringbuf.js only polls, so it is given the same doorbells as the other rings. push() and
 * pop() copy between the ring and a heap batch: a record is 16 elements as bytes (what a
 * codec hands over) or 2 as float64s (ringbuf.js's copy loop runs per element).
 */
function ringbufjs(type: Element): Variant<SharedEnd> {
  const perRecord = RECORD_BYTES / type.BYTES_PER_ELEMENT;
  const elementsOf = (batch: ArrayBuffer) => new type(batch);
  return {
    connect() {
      return sharedEnds(
        RingBuffer.getStorageForCapacity((1 << 20) / type.BYTES_PER_ELEMENT, type),
        new SharedArrayBuffer(DOORBELL_BYTES), new SharedArrayBuffer(DOORBELL_BYTES));
    },

    produce(end, job) {
      const rb = new RingBuffer(end.ring, type);
      const bell = new Doorbell(end.producerBell);
      const peer = new Doorbell(end.consumerBell);
      const batch = new ArrayBuffer(job.batch * RECORD_BYTES);
      const u32 = new Uint32Array(batch);
      const f64 = new Float64Array(batch);
      const elements = elementsOf(batch);
      for (let sent = 0; sent < job.total;) {
        const n = Math.min(job.batch, job.total - sent);
        writeRecords(u32, f64, 0, sent, n);
        const length = n * perRecord;
        for (let done = 0; done < length;) {
          const k = rb.push(elements, length - done, done);
          if (k === 0) {
            blockUntil(bell, () => rb.availableWrite() > 0);
            continue;
          }
          done += k;
          peer.ring();
        }
        sent += n;
      }
    },

    consume(end, job) {
      const rb = new RingBuffer(end.ring, type);
      const bell = new Doorbell(end.consumerBell);
      const peer = new Doorbell(end.producerBell);
      const batch = new ArrayBuffer(job.batch * RECORD_BYTES);
      const f64 = new Float64Array(batch);
      const elements = elementsOf(batch);
      let sum = 0;
      for (let seen = 0; seen < job.total;) {
        const k = rb.pop(elements, Math.min(job.batch, job.total - seen) * perRecord);
        if (k === 0) {
          blockUntil(bell, () => rb.availableRead() > 0);
          continue;
        }
        // Every push and pop moves whole records, so the ring never holds part of one.
        if (k % perRecord !== 0) throw new Error(`popped ${k} elements: not whole records`);
        peer.ring();
        sum += sumValues(f64, 0, k / perRecord);
        seen += k / perRecord;
      }
      return sum;
    },
  };
}

export const ringbufjsBytes = ringbufjs(Uint8Array);
export const ringbufjsFloat64 = ringbufjs(Float64Array);
