// Properties of the SPSC ring on one thread: order, integrity across wraps, overdraft, peek.
import test from 'ava';
import fc from 'fast-check';
import { allocateRing, RingConsumer, RingProducer } from '../../core/channel/ring.ts';
import { ChannelWriter } from '../../core/channel/channel-writer.ts';
import { FrameKind, FRAME_HEADER_BYTES, frameSpan, kindOf } from '../../core/channel/frames.ts';

/** A payload whose bytes are derived from its sequence number, so corruption is detectable. */
function payloadFor(seq: number, length: number): Uint8Array {
  const p = new Uint8Array(length);
  for (let i = 0; i < length; i++) p[i] = (seq * 31 + i * 7) & 0xff;
  return p;
}

function checkPayload(seq: number, got: Uint8Array): boolean {
  for (let i = 0; i < got.length; i++) if (got[i] !== ((seq * 31 + i * 7) & 0xff)) return false;
  return true;
}

function pair(capacity: number) {
  const sab = allocateRing(capacity);
  return { sab, producer: new RingProducer(sab), consumer: new RingConsumer(sab) };
}

test('every frame is delivered once and in order across many wrap-arounds', (t) => {
  fc.assert(fc.property(
    fc.integer({ min: 6, max: 11 }).map((b) => 2 ** b),
    fc.array(fc.tuple(fc.nat(300), fc.boolean()), { minLength: 50, maxLength: 400 }),
    (capacity, steps) => {
      const { producer, consumer } = pair(capacity);
      let sent = 0;
      let received = 0;
      const lengths: number[] = [];
      const consumeOne = () => {
        if (!consumer.next()) return false;
        if (consumer.kind !== FrameKind.DATA || consumer.count !== received % 1000) throw new Error('header mismatch');
        if (consumer.payloadLength !== lengths[received]) throw new Error(`length mismatch at frame ${received}`);
        if (!checkPayload(received, consumer.payload())) throw new Error(`payload corrupt at frame ${received}`);
        consumer.consume();
        received++;
        return true;
      };
      for (const [size, consumeFirst] of steps) {
        const length = size % (producer.maxPayload + 1);
        if (consumeFirst) consumeOne();
        lengths.push(length);
        let stuck = 0;
        while (!producer.tryWrite(FrameKind.DATA, sent % 1000, payloadFor(sent, length))) {
          // A refused write may still have published a PAD that the consumer releases
          // without delivering a frame; twice in a row with nothing to consume is a hang.
          if (!consumeOne() && ++stuck > 1) throw new Error('ring full and empty at once');
        }
        sent++;
      }
      while (consumeOne());
      return received === sent && consumer.usedBytes() === 0;
    }), { numRuns: 200 });
  t.pass();
});

test('positions wrap modulo 2^32 without losing frames', (t) => {
  const { sab, producer, consumer } = pair(256);
  // Start both ends just below 2^32 so the counters overflow during the run.
  const start = 2 ** 32 - 100 * 8;
  const header = new Int32Array(sab, 0, 64);
  header[0] = start | 0;
  header[16] = start | 0;
  const p = new RingProducer(sab);
  const c = new RingConsumer(sab);
  void producer; void consumer;
  let got = 0;
  for (let i = 0; i < 500; i++) {
    t.true(p.tryWrite(FrameKind.DATA, 1, payloadFor(i, 20 + (i % 50))));
    t.true(c.next());
    t.true(checkPayload(i, c.payload()));
    c.consume();
    got++;
  }
  t.is(got, 500);
  t.true(c.position < start, 'the read position wrapped past 2^32');
});

test('a frame larger than the ring is refused with the sizes in the message', (t) => {
  const { producer } = pair(64);
  const err = t.throws(() => producer.tryWrite(FrameKind.DATA, 1, new Uint8Array(100)));
  t.regex(err!.message, /100 bytes exceeds ring capacity 64/);
});

test('the overdraft takes frames while the ring is full and drains them in order', (t) => {
  fc.assert(fc.property(
    fc.array(fc.tuple(fc.nat(40), fc.nat(3)), { minLength: 20, maxLength: 300 }),
    (steps) => {
      const { producer, consumer } = pair(64);
      const writer = new ChannelWriter(producer);
      let sent = 0;
      let received = 0;
      for (const [length, consumes] of steps) {
        writer.write(FrameKind.DATA, 0, payloadFor(sent++, length));
        for (let k = 0; k < consumes; k++) {
          writer.drain();
          if (!consumer.next()) break;
          if (!checkPayload(received, consumer.payload())) throw new Error(`out of order at ${received}`);
          consumer.consume();
          received++;
        }
      }
      for (let idle = 0; idle < 3;) {
        const drained = writer.drain();
        if (!consumer.next()) {
          if (drained) break;
          idle++;
          continue;
        }
        idle = 0;
        if (!checkPayload(received, consumer.payload())) throw new Error(`out of order at ${received}`);
        consumer.consume();
        received++;
      }
      return received === sent && !writer.hasOverdraft && writer.overdraftBytes === 0;
    }), { numRuns: 200 });
  t.pass();
});

test('the overdraft meters its peak and raises the waiting flag the consumer sees', (t) => {
  const { producer, consumer } = pair(64);
  let rung = 0;
  consumer.wake = { ring: () => { rung++; } } as never;
  const writer = new ChannelWriter(producer);
  for (let i = 0; i < 10; i++) writer.write(FrameKind.DATA, 1, payloadFor(i, 16));
  t.true(writer.hasOverdraft);
  t.true(writer.peakBytes >= 16 * 8);
  t.true(consumer.next());
  consumer.consume();
  t.is(rung, 1, 'consuming while the producer waits rings its doorbell');
  while (!writer.drain()) { t.true(consumer.next()); consumer.consume(); }
  t.false(writer.hasOverdraft);
  const before = rung;
  while (consumer.next()) consumer.consume();
  t.is(rung, before, 'no ringing once the overdraft is empty');
});

test('peekBytes copies unconsumed frames as they lie in the ring, across the wrap', (t) => {
  const { producer, consumer } = pair(128);
  // Move the positions so that the next frames wrap.
  for (let i = 0; i < 3; i++) { producer.tryWrite(FrameKind.DATA, 1, payloadFor(i, 24)); consumer.next(); consumer.consume(); }
  const frames = [payloadFor(10, 24), payloadFor(11, 8), payloadFor(12, 30)];
  for (const f of frames) t.true(producer.tryWrite(FrameKind.DATA, 2, f));
  const bytes = consumer.peekBytes();
  t.is(bytes.length, consumer.usedBytes(), 'nothing consumed by peeking');
  // Parse the copy: PAD frames then our three DATA frames, in order.
  const view = new DataView(bytes.buffer);
  const seen: number[] = [];
  for (let at = 0; at < bytes.length;) {
    const len = view.getUint32(at, true);
    const kind = kindOf(view.getUint32(at + 4, true));
    if (kind === FrameKind.DATA) {
      t.true(checkPayload(10 + seen.length, bytes.subarray(at + FRAME_HEADER_BYTES, at + FRAME_HEADER_BYTES + len)));
      seen.push(len);
    }
    at += frameSpan(len);
  }
  t.deepEqual(seen, [24, 8, 30]);
  for (let i = 0; i < 3; i++) { t.true(consumer.next()); t.true(checkPayload(10 + i, consumer.payload())); consumer.consume(); }
});

test('a frame held in overdraft is a copy: a Buffer payload reused by its encoder does not change it', (t) => {
  const sab = allocateRing(64);
  const writer = new ChannelWriter(new RingProducer(sab));
  const consumer = new RingConsumer(sab);
  const scratch = Buffer.alloc(48, 1);
  writer.write(FrameKind.DATA, 1, scratch);          // fills the ring
  writer.write(FrameKind.DATA, 1, scratch);          // held
  t.true(writer.hasOverdraft);
  scratch.fill(9);                                   // the encoder writes its next frame
  t.true(consumer.next());
  consumer.consume();
  t.true(writer.drain());
  t.true(consumer.next());
  t.deepEqual([...consumer.payload()], Array(48).fill(1));
});
