// The coordinator's collect reader: records from a ring, barriers among them handled rather than tripping the ring.
import test from 'ava';
import { Doorbell } from '../../core/channel/doorbell.ts';
import { encodeBarrier, FrameKind } from '../../core/channel/frames.ts';
import { allocateRing, RingProducer } from '../../core/channel/ring.ts';
import { generalCodec } from '../../core/codec/general.ts';
import { CollectReader } from '../../core/coordinator/collect.ts';

test('a collect ring that carries announced barriers between records is read to the end', async (t) => {
  const ring = allocateRing(4096);
  const reader = new CollectReader(new Doorbell());
  reader.add('out', '0-0', ring, new Doorbell().buffer);
  const producer = new RingProducer(ring);
  const codec = generalCodec();
  for (let id = 1; id <= 3; id++) {
    const batch = [id * 10, id * 10 + 1];
    t.true(producer.tryWrite(FrameKind.DATA, batch.length, codec.encode(batch, 0, batch.length)));
    t.true(producer.tryWriteBarrier(id, false, encodeBarrier({ checkpointId: id, unaligned: false, timestamp: Date.now() })));
  }
  // The reader sleeps on Atomics.waitAsync, which keeps no event loop alive; the timer does.
  setTimeout(() => reader.stop(), 50);
  await reader.run();
  t.deepEqual(reader.records['out'], [], 'nothing is output before a checkpoint completes');
  reader.commit(2, new Set());
  t.deepEqual(reader.records['out'], [10, 11, 20, 21], 'epochs 1 and 2 are committed with checkpoint 2');
  reader.commitAll();
  t.deepEqual(reader.records['out'], [10, 11, 20, 21, 30, 31]);
});
