// keyBy routing in RecordWriter: every record reaches the subtask that owns its key group, as Flink assigns them,
// whether its channel came from the small-key table (filled a block at a time) or from hashing.

import test from 'ava';
import fc from 'fast-check';
import { ChannelWriter } from '../../core/channel/channel-writer.ts';
import { FrameKind } from '../../core/channel/frames.ts';
import { allocateRing, RingConsumer, RingProducer } from '../../core/channel/ring.ts';
import { generalCodec } from '../../core/codec/general.ts';
import { keyGroupOf, operatorIndexForKeyGroup, SMALL_KEYS } from '../../core/keys/key-groups.ts';
import type { Key } from '../../core/keys/encoding.ts';
import { RecordWriter } from '../../actors/runtime/record-writer.ts';

/** Sends `keys` through a keyBy writer over `parallelism` rings; returns, per key in order, the channel it arrived on. */
function route(keys: readonly Key[], parallelism: number, maxParallelism: number): Map<string, number> {
  const sabs = Array.from({ length: parallelism }, () => allocateRing(64 * 1024));
  const consumers = sabs.map((s) => new RingConsumer(s));
  const codec = generalCodec();
  const writer = new RecordWriter(sabs.map((s, i) => new ChannelWriter(new RingProducer(s), `a[0]->b[${i}]`)), codec, {
    partitioner: 'keyBy', keySelector: (r) => (r as { k: Key }).k, maxParallelism, batchSize: 64, frameBytes: 4096,
    start: 0, uid: 'a', subtask: 0,
  });
  const seen = new Map<string, number>();
  const drain = () => consumers.forEach((c, ch) => {
    while (c.next()) {
      if (c.kind === FrameKind.DATA) {
        codec.decode(c.payload(), c.count, (r) => {
          const id = JSON.stringify((r as { k: Key }).k);
          if (seen.has(id) && seen.get(id) !== ch) throw new Error(`key ${id} on two channels`);
          seen.set(id, ch);
        });
      }
      c.consume();
    }
  });
  for (const k of keys) {
    writer.add({ k });
    drain();
  }
  writer.flush();
  drain();
  return seen;
}

const owner = (k: Key, parallelism: number, maxParallelism: number) =>
  operatorIndexForKeyGroup(maxParallelism, parallelism, keyGroupOf(k, maxParallelism));

test('small integer keys, each first seen anywhere in its block, go to the subtask of their key group', (t) => {
  // Keys visited out of order and across block edges: 255, 256, 0, 511, 1000, SMALL_KEYS - 1, then every key of a few blocks.
  const keys: number[] = [255, 256, 0, 511, 1000, SMALL_KEYS - 1, SMALL_KEYS - 256];
  for (let k = 0; k < 2048; k += 3) keys.push(k);
  for (let k = 2047; k >= 0; k -= 2) keys.push(k);
  const got = route(keys, 3, 128);
  for (const k of new Set(keys)) t.is(got.get(JSON.stringify(k)), owner(k, 3, 128), `key ${k}`);
});

test('any key: small integers, large ones, negatives, floats and strings route as Flink assigns key groups', (t) => {
  t.notThrows(() => fc.assert(fc.property(
    fc.array(fc.oneof(
      fc.integer({ min: 0, max: SMALL_KEYS + 300 }),
      fc.integer({ min: -1000, max: 2 ** 31 }),
      fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Object.is(d, -0)),
      fc.string({ maxLength: 6 }),
    ), { minLength: 1, maxLength: 300 }),
    fc.integer({ min: 1, max: 5 }),
    fc.constantFrom(5, 128, 4096),
    (keys, parallelism, maxParallelism) => {
      if (parallelism > maxParallelism) return;
      const got = route(keys, parallelism, maxParallelism);
      for (const k of keys) {
        if (got.get(JSON.stringify(k)) !== owner(k, parallelism, maxParallelism)) throw new Error(`key ${JSON.stringify(k)}`);
      }
    },
  ), { numRuns: 150 }));
});

test('every keyBy writer has an add of its own, so its call of its key selector is not shared with other writers or jobs', (t) => {
  const writer = (keySelector: (r: unknown) => unknown) => new RecordWriter(
    [new ChannelWriter(new RingProducer(allocateRing(4096)), 'a[0]->b[0]')], generalCodec(), {
      partitioner: 'keyBy', keySelector, maxParallelism: 128, batchSize: 64, frameBytes: 1024, start: 0, uid: 'a', subtask: 0,
    });
  const a = writer((r) => (r as { k: number }).k);
  const b = writer((r) => (r as { j: number }).j);
  // A method of the class would be one function with one set of call sites (and one type feedback) for both;
  // each writer's is compiled from source of its own (fresh).
  t.not(a.add, b.add);
  t.false(Object.values(Object.getOwnPropertyDescriptors(RecordWriter.prototype)).some((d) => d.value === a.add));
  // And each routes by its own selector.
  a.add({ k: 1 });
  b.add({ j: 2 });
  t.is(a.recordsOut, 1);
  t.is(b.recordsOut, 1);
  t.throws(() => a.add(null), { message: /keyBy could not key record null/ });
});
