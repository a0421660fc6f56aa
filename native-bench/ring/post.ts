// What Node offers without shared memory: postMessage of one record per message, and of transferred batch buffers.

import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { RECORD_BYTES, sumValues, writeRecords } from './records.ts';
import type { Variant } from './variant.ts';

function connect() {
  const { port1, port2 } = new MessageChannel();
  return { producer: port1, consumer: port2, transfer: { producer: [port1], consumer: [port2] } };
}

interface RecordMessage {
  readonly key: number;
  readonly seq: number;
  readonly value: number;
}

/** One structured-cloned object per record, as a naive worker pipeline sends them. */
export const postPerRecord: Variant<MessagePort> = {
  connect,
  produce(port, job) {
    for (let seq = 0; seq < job.total; seq++) {
      port.postMessage({ key: seq & 1023, seq, value: seq & 0xffff } satisfies RecordMessage);
    }
  },
  consume(port, job) {
    return new Promise((resolve) => {
      let sum = 0;
      let seen = 0;
      port.on('message', (r: RecordMessage) => {
        sum += r.value;
        if (++seen === job.total) {
          port.close();
          resolve(sum);
        }
      });
    });
  },
};

/** Transferred buffers still in flight at most: 1 MiB, as much as the rings hold. */
const IN_FLIGHT_BYTES = 1 << 20;

/**
 * Batches of `batch` records in ArrayBuffers transferred (not copied) to the consumer, which
 * acknowledges each so that no more than IN_FLIGHT_BYTES are in flight, as a ring bounds
 * them. With `reuse` the acknowledgement transfers the buffer back into the producer's pool;
 * without, the producer allocates a buffer per message and the consumer drops it.
 */
function postTransferred(reuse: boolean): Variant<MessagePort> {
  return {
    connect,
    produce(port, job) {
      const bytes = job.batch * RECORD_BYTES;
      const pool: ArrayBuffer[] = [];
      let credits = Math.max(1, IN_FLIGHT_BYTES / bytes);
      return new Promise((resolve) => {
        let sent = 0;
        const pump = () => {
          for (; credits > 0 && sent < job.total; credits--) {
            const buffer = pool.pop() ?? new ArrayBuffer(bytes);
            const n = Math.min(job.batch, job.total - sent);
            // A transfer detaches the buffer, and its views with it: new views every time.
            writeRecords(new Uint32Array(buffer), new Float64Array(buffer), 0, sent, n);
            port.postMessage(buffer, [buffer]);
            sent += n;
          }
          if (sent === job.total) {
            port.off('message', acknowledged);
            resolve();
          }
        };
        const acknowledged = (returned: ArrayBuffer | null) => {
          if (returned !== null) pool.push(returned);
          credits++;
          pump();
        };
        port.on('message', acknowledged);
        pump();
      });
    },
    consume(port, job) {
      return new Promise((resolve) => {
        let sum = 0;
        let seen = 0;
        port.on('message', (buffer: ArrayBuffer) => {
          const n = Math.min(job.batch, job.total - seen);
          sum += sumValues(new Float64Array(buffer), 0, n);
          seen += n;
          if (seen === job.total) {
            port.close();
            resolve(sum);
          } else if (reuse) {
            port.postMessage(buffer, [buffer]);
          } else {
            port.postMessage(null);
          }
        });
      });
    },
  };
}

export const postTransferredPooled = postTransferred(true);
export const postTransferredFresh = postTransferred(false);
