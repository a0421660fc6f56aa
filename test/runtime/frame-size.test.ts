// Frames sized by bytes: records per DATA frame follow frameBytes over the record size, within half a ring and batchSize.

import test from 'ava';
import { ChannelWriter } from '../../core/channel/channel-writer.ts';
import { FRAME_HEADER_BYTES, FrameKind } from '../../core/channel/frames.ts';
import { allocateRing, RingConsumer, RingProducer } from '../../core/channel/ring.ts';
import { generalCodec } from '../../core/codec/general.ts';
import { codecFor } from '../../core/codec/schema.ts';
import { Types } from '../../core/codec/types.ts';
import type { Codec } from '../../core/codec/codec.ts';
import { RecordWriter } from '../../actors/runtime/record-writer.ts';

/** Writes `records` through a forward writer into one ring and returns each DATA frame's (count, bytes), draining as it goes. */
function frames(codec: Codec, records: readonly unknown[], o: { ringBytes: number; frameBytes: number; batchSize: number }): [number, number][] {
  const sab = allocateRing(o.ringBytes);
  const consumer = new RingConsumer(sab);
  const writer = new RecordWriter([new ChannelWriter(new RingProducer(sab), 'a[0]->b[0]')], codec, {
    partitioner: 'forward', keySelector: undefined, maxParallelism: 128, batchSize: o.batchSize, frameBytes: o.frameBytes,
    start: 0, uid: 'a', subtask: 0,
  });
  const out: [number, number][] = [];
  const drain = () => {
    while (consumer.next()) {
      if (consumer.kind === FrameKind.DATA) out.push([consumer.count, consumer.payload().length]);
      consumer.consume();
    }
  };
  for (const r of records) {
    writer.add(r);
    drain();
  }
  writer.flush();
  drain();
  return out;
}

const pairs = Array.from({ length: 20_000 }, (_, i) => [i, i + 0.5]);
const PAIRS = codecFor(Types.TUPLE(Types.INT32, Types.FLOAT64), { trusted: true });

test('fixed-size records: frameBytes / record size per frame, so 12-byte records go 1365 to a 16 KiB frame', (t) => {
  const got = frames(PAIRS, pairs, { ringBytes: 256 * 1024, frameBytes: 16 * 1024, batchSize: 4096 });
  t.deepEqual(got.slice(0, -1).map(([n]) => n), Array<number>(got.length - 1).fill(1365));
  t.is(got[0]![1], 1365 * 12);
  t.is(got.reduce((s, [n]) => s + n, 0), pairs.length, 'every record sent once');
});

test('batchSize caps the records of a frame, and half the ring caps its bytes', (t) => {
  t.true(frames(PAIRS, pairs, { ringBytes: 256 * 1024, frameBytes: 16 * 1024, batchSize: 100 }).slice(0, -1).every(([n]) => n === 100));
  const small = frames(PAIRS, pairs, { ringBytes: 4096, frameBytes: 16 * 1024, batchSize: 4096 });
  t.true(small.every(([, bytes]) => bytes <= 2048), `largest frame ${Math.max(...small.map(([, b]) => b))} bytes in a 4 KiB ring`);
  t.is(small[0]![0], Math.floor((4096 - FRAME_HEADER_BYTES) / 2 / 12));
  t.is(small.reduce((s, [n]) => s + n, 0), pairs.length);
});

test('variable-size records: the frames after the first follow the records\' mean size', (t) => {
  const rows = Array.from({ length: 20_000 }, (_, i) => ({ user: `user-${i % 977}`, amount: i * 0.25, tags: ['a', 'bb', 'ccc'] }));
  const got = frames(generalCodec(), rows, { ringBytes: 256 * 1024, frameBytes: 16 * 1024, batchSize: 4096 });
  t.is(got[0]![0], 256, 'the first frame takes the initial count');
  // Later full frames come near 16 KiB: within a tenth of it, never over half the ring.
  for (const [n, bytes] of got.slice(1, -1)) {
    t.true(bytes > 16 * 1024 * 0.9 && bytes < 16 * 1024 * 1.1, `${n} records in ${bytes} bytes`);
  }
  t.is(got.reduce((s, [n]) => s + n, 0), rows.length);
  // Larger records: fewer to a frame.
  const big = rows.map((r) => ({ ...r, note: 'x'.repeat(200) }));
  const bigFrames = frames(generalCodec(), big, { ringBytes: 256 * 1024, frameBytes: 16 * 1024, batchSize: 4096 });
  t.true(bigFrames[1]![0] < got[1]![0] / 3, `${bigFrames[1]![0]} large records a frame against ${got[1]![0]}`);
});
