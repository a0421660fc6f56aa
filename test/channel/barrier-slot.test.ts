// The priority barrier slot: whatever the interleaving, a consumer never passes an announced barrier.
import test from 'ava';
import fc from 'fast-check';
import { allocateRing, RingConsumer, RingProducer, SLOT_SEQ_WORD } from '../../core/channel/ring.ts';
import { ChannelWriter } from '../../core/channel/channel-writer.ts';
import { FrameKind, decodeBarrier, encodeBarrier, frameSpan, kindOf } from '../../core/channel/frames.ts';

type Op = { op: 'data'; size: number } | { op: 'barrier'; unaligned: boolean } | { op: 'step' } | { op: 'react' } | { op: 'drain' };

const ops = fc.array(fc.oneof(
  { arbitrary: fc.record({ op: fc.constant('data' as const), size: fc.nat(60) }), weight: 5 },
  { arbitrary: fc.record({ op: fc.constant('barrier' as const), unaligned: fc.boolean() }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('step' as const) }), weight: 5 },
  { arbitrary: fc.record({ op: fc.constant('react' as const) }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('drain' as const) }), weight: 2 },
), { minLength: 10, maxLength: 500 });

/** Kinds and sequence numbers of the frames in a peeked byte range, PADs left out. */
function framesIn(bytes: Uint8Array): string[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: string[] = [];
  for (let at = 0; at < bytes.length;) {
    const len = view.getUint32(at, true);
    const kind = kindOf(view.getUint32(at + 4, true));
    if (kind === FrameKind.DATA) out.push(`d${view.getUint32(at + 8, true)}`);
    else if (kind === FrameKind.BARRIER) out.push(`b${decodeBarrier(bytes.subarray(at + 8, at + 8 + len)).checkpointId}`);
    at += frameSpan(len);
  }
  return out;
}

test('a consumer never passes an announced barrier, and its in-flight copy is exactly what lies before it', (t) => {
  fc.assert(fc.property(fc.constantFrom(128, 256, 512), ops, (capacity, script) => {
    const sab = allocateRing(capacity);
    const writer = new ChannelWriter(new RingProducer(sab));
    const consumer = new RingConsumer(sab);
    const sent: string[] = [];
    const received: string[] = [];
    let seq = 0;
    let checkpoint = 0;
    const step = () => {
      if (!consumer.next()) return;
      const a = consumer.announcement();
      if (a !== null) {
        const ahead = (a.position - consumer.framePosition) | 0;
        if (ahead < 0) throw new Error(`passed announced barrier ${a.checkpointId}`);
        if (ahead === 0 && consumer.kind !== FrameKind.BARRIER) throw new Error('a non-barrier frame at the announced position');
      }
      if (consumer.kind === FrameKind.BARRIER) {
        const id = decodeBarrier(consumer.payload()).checkpointId;
        received.push(`b${id}`);
        consumer.markHandled(id);
      } else {
        received.push(`d${new DataView(consumer.payload().buffer, consumer.payload().byteOffset).getUint32(0, true)}`);
      }
      consumer.consume();
    };
    for (const o of script as Op[]) {
      if (o.op === 'data') {
        const p = new Uint8Array(4 + o.size);
        new DataView(p.buffer).setUint32(0, seq, true);
        sent.push(`d${seq++}`);
        writer.write(FrameKind.DATA, 1, p);
      } else if (o.op === 'barrier') {
        const id = ++checkpoint;
        sent.push(`b${id}`);
        writer.writeBarrier(FrameKind.BARRIER, id, o.unaligned, encodeBarrier({ checkpointId: id, unaligned: o.unaligned, timestamp: 0 }));
      } else if (o.op === 'drain') {
        writer.drain();
      } else if (o.op === 'step') {
        step();
      } else {
        consumer.poll();
        const a = consumer.announcement();
        if (a !== null && a.unaligned) {
          // React as an unaligned checkpoint does: the copy holds every frame not yet read up
          // to the barrier, in order, and nothing after it.
          const inflight = framesIn(consumer.peekBytes(a.position));
          const barrierAt = sent.indexOf(`b${a.checkpointId}`);
          const expected = sent.slice(received.length, barrierAt);
          if (inflight.join() !== expected.join()) throw new Error(`in-flight ${inflight} != ${expected}`);
          consumer.markHandled(a.checkpointId);
        }
      }
    }
    for (let idle = 0; idle < 3;) {
      const drained = writer.drain();
      const before = received.length;
      step();
      if (received.length === before) { if (drained) break; idle++; } else idle = 0;
    }
    return received.join() === sent.join();
  }), { numRuns: 300 });
  t.pass();
});

test('an announcement waits while the previous one is unhandled; the later barrier is still delivered in-band', (t) => {
  const sab = allocateRing(256);
  const producer = new RingProducer(sab);
  const consumer = new RingConsumer(sab);
  const barrier = (id: number) => encodeBarrier({ checkpointId: id, unaligned: true, timestamp: 0 });
  t.true(producer.tryWriteBarrier(1, true, barrier(1)));
  t.true(producer.tryWriteBarrier(2, true, barrier(2)));
  consumer.poll();
  t.is(consumer.announcement()?.checkpointId, 1, 'the slot still holds the unhandled first barrier');
  t.true(consumer.next());
  consumer.markHandled(1);
  consumer.consume();
  t.is(consumer.announcement(), null, 'the second was not announced while the first was pending');
  t.true(consumer.next());
  t.is(decodeBarrier(consumer.payload()).checkpointId, 2);
});

test('the consumer refuses to go on once it finds itself past an announced barrier', (t) => {
  const sab = allocateRing(256);
  const producer = new RingProducer(sab);
  const consumer = new RingConsumer(sab);
  t.true(producer.tryWriteBarrier(1, false, encodeBarrier({ checkpointId: 1, unaligned: false, timestamp: 0 })));
  t.true(producer.tryWrite(FrameKind.DATA, 1, new Uint8Array(8)));
  t.true(consumer.next());
  consumer.consume();            // consumed the barrier without handling it: a broken actor
  const err = t.throws(() => consumer.next());
  t.regex(err!.message, /passed announced barrier 1/);
});

test('a producer stopped in the middle of writing the slot leaves it unannounced, never a consumer spinning', (t) => {
  const sab = allocateRing(256);
  const producer = new RingProducer(sab);
  const consumer = new RingConsumer(sab);
  t.true(producer.tryWrite(FrameKind.DATA, 1, new Uint8Array(8)));
  // What a producer terminated between its two SLOT_SEQ stores leaves behind: an odd sequence.
  const header = new Int32Array(sab, 0, 64);
  Atomics.store(header, SLOT_SEQ_WORD, 1);
  t.is(consumer.announcement(), null);
  t.true(consumer.next(), 'the frame published before the slot write is still read');
  t.is(consumer.kind, FrameKind.DATA);
  consumer.consume();
  t.false(consumer.next());
});
