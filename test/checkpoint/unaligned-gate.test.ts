// The input gate's unaligned checkpoints against an oracle that knows only what each producer sent: random
// interleavings of records, watermarks, barriers and ends of partition on several inputs, interrupted between
// records, snapshotted, then restored and replayed; and the bound on records processed after an announcement.
import test from 'ava';
import type { ExecutionContext } from 'ava';
import fc from 'fast-check';
import { ChannelWriter } from '../../core/channel/channel-writer.ts';
import { encodeBarrier, encodeWatermark, EMPTY_PAYLOAD, FrameKind } from '../../core/channel/frames.ts';
import { allocateRing, RingConsumer, RingProducer } from '../../core/channel/ring.ts';
import { FrameBuffer, FrameQueue } from '../../core/checkpoint/channel-state.ts';
import type { PersistedChannel } from '../../core/checkpoint/channel-state.ts';
import { generalCodec } from '../../core/codec/general.ts';
import { codecFor } from '../../core/codec/schema.ts';
import { Types } from '../../core/codec/types.ts';
import type { Codec } from '../../core/codec/codec.ts';
import { InputGate, RECORDS_PER_CHECK, SLOW_RECORD_MS } from '../../actors/runtime/input-gate.ts';
import type { Alignment, InputChannel } from '../../actors/runtime/input-gate.ts';
import { RecordWriter } from '../../actors/runtime/record-writer.ts';

type Rec = { c: number; i: number };
/**
 * The codec of every input: the general one (a frame decoded whole, through a per-record
 * sink), or a schema codec (decodeRange: a few records per call, the checks between calls).
 * Tests are synchronous, so one that switches it runs with it alone.
 */
let codec: Codec = generalCodec();
/** The gate's decoders run the consumer compiled in (InputGate.fuse, as a subtask sets it up): number rows a range at a time. */
let fused = false;
const CODECS: Record<string, Codec> = {
  general: codec,
  // The same frames (flat number objects: number rows), decoded by the fused rows loop and resumed at a row when interrupted.
  'general (fused rows)': codec,
  'schema (ranges)': codecFor(Types.ROW({ c: Types.INT32, i: Types.INT32 })),
  // Not of fixed size: the records a restored replay passes over are decoded to find where the next one begins.
  'schema (ranges, variable size)': codecFor(Types.ROW({ c: Types.INT32, i: Types.NULLABLE(Types.INT32) })),
};

interface Harness {
  gate: InputGate;
  /** Per producer, 1 once it has finished (every frame of it in its ring, its end last), as the coordinator sets it. */
  finished: Int32Array;
  writers: ChannelWriter[];
  emitted: Rec[];
  snapshots: { id: number; at: number; alignment: Alignment }[];
  states: { id: number; inputs: PersistedChannel[] }[];
  declined: number[];
  /** Records the gate may still emit before the simulated output overdraws (Infinity: never). */
  budget: number;
}

function harness(channels: number, capacity: number, replay: (PersistedChannel | undefined)[] = [], onEmit?: (r: Rec) => void): Harness {
  const writers: ChannelWriter[] = [];
  const inputs: InputChannel[] = [];
  for (let c = 0; c < channels; c++) {
    const sab = allocateRing(capacity);
    const key = `p[${c}]->op[0]`;
    writers.push(new ChannelWriter(new RingProducer(sab), key));
    const r = replay[c];
    inputs.push({
      consumer: new RingConsumer(sab), codec, label: `input ${c}`, key, producer: c, watermark: -Infinity, ended: false, blocked: false,
      replay: null,
    });
  }
  const finished = new Int32Array(channels);
  const gate = new InputGate(inputs, 'op', 0, { finished, blocking: true, unaligned: true, alignedTimeout: 0 });
  // As a restored subtask hands its channel state to the gate (subtask.ts).
  replay.forEach((r, c) => { if (r !== undefined) gate.replayOn(inputs[c]!, new FrameQueue(r.frames, r.skip)); });
  const h: Harness = { gate, finished, writers, emitted: [], snapshots: [], states: [], declined: [], budget: Infinity };
  const emit = (v: unknown) => { h.emitted.push(v as Rec); h.budget--; onEmit?.(v as Rec); };
  gate.connect(emit, () => {});
  if (fused) gate.fuse({ names: ['s_emit'], values: [emit], body: 's_emit(v);', fail: (err) => { throw err; } }, false);
  gate.onBarriers({
    snapshot: (id, _ms, alignment) => h.snapshots.push({ id, at: h.emitted.length, alignment }),
    channelState: (id, inputs) => h.states.push({ id, inputs }),
    decline: (id) => h.declined.push(id),
    forwardCancel: () => {},
  });
  return h;
}

const barrier = (id: number) => encodeBarrier({ checkpointId: id, unaligned: true, timestamp: Date.now() });

/** The records a persisted channel replays: its frames decoded, the first frame's `skip` records dropped; and whether it holds the end. */
function replayed(p: PersistedChannel | undefined): { records: Rec[]; ended: boolean } {
  if (p === undefined) return { records: [], ended: false };
  const q = new FrameQueue(p.frames, p.skip);
  const records: Rec[] = [];
  let ended = false;
  for (; q.next(); q.consume()) {
    if (q.kind === FrameKind.END_OF_PARTITION) ended = true;
    if (q.kind !== FrameKind.DATA) continue;
    const frame: Rec[] = [];
    codec.decode(q.payload(), q.count, (r) => frame.push(r as Rec));
    records.push(...frame.slice(q.skip));
  }
  return { records, ended };
}

type Op =
  | { op: 'data'; ch: number; n: number }
  | { op: 'watermark'; ch: number }
  | { op: 'end'; ch: number }
  | { op: 'finish'; ch: number }
  | { op: 'barrier'; ch: number; inBand: boolean }
  | { op: 'step'; budget: number }
  | { op: 'drain' };

const opArb = (channels: number) => fc.oneof(
  { arbitrary: fc.record({ op: fc.constant('data' as const), ch: fc.nat(channels - 1), n: fc.integer({ min: 1, max: 12 }) }), weight: 6 },
  { arbitrary: fc.record({ op: fc.constant('watermark' as const), ch: fc.nat(channels - 1) }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('end' as const), ch: fc.nat(channels - 1) }), weight: 1 },
  // The producer has ended and its frames are all in the ring: it counts as finished from now on.
  { arbitrary: fc.record({ op: fc.constant('finish' as const), ch: fc.nat(channels - 1) }), weight: 1 },
  // inBand: the barrier only in the ring, never announced (as where the slot still held an older announcement).
  { arbitrary: fc.record({ op: fc.constant('barrier' as const), ch: fc.nat(channels - 1), inBand: fc.boolean() }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('step' as const), budget: fc.integer({ min: 1, max: 40 }) }), weight: 4 },
  { arbitrary: fc.record({ op: fc.constant('drain' as const) }), weight: 3 },
);

/** A test run once with each codec of CODECS. */
function eachCodec(title: string, fn: (t: ExecutionContext) => void): void {
  for (const [name, c] of Object.entries(CODECS)) {
    test(`${name} codec: ${title}`, (t) => {
      const before = codec;
      codec = c;
      fused = name.includes('fused');
      try {
        fn(t);
      } finally {
        codec = before;
        fused = false;
      }
    });
  }
}

eachCodec('an unaligned checkpoint persists exactly the records not processed before the snapshot, and a restore replays them in order', (t) => {
  fc.assert(fc.property(
    fc.integer({ min: 1, max: 3 }).chain((channels) => fc.tuple(fc.constant(channels), fc.array(opArb(channels), { minLength: 1, maxLength: 60 }))),
    fc.constantFrom(512, 1024, 4096),
    ([channels, ops], capacity) => body(channels, ops, capacity),
  ), { numRuns: 300 });
  function body(channels: number, ops: Op[], capacity: number): void {
      const h = harness(channels, capacity);
      // What each producer sent, split where its barrier went: into the ring before it, overtaken in its overdraft, after it.
      const sent = Array.from({ length: channels }, () => ({ before: [] as Rec[], overtaken: [] as Rec[], after: [] as Rec[], barrier: false, ended: false }));
      let seq = 0;
      const step = (budget: number) => {
        h.budget = budget;
        h.gate.step(() => h.budget <= 0);
      };
      const drain = () => { for (const w of h.writers) w.drain(); };
      const sendBarrier = (c: number, inBand = false) => {
        const s = sent[c]!;
        s.barrier = true;
        if (inBand) {
          // Behind everything the producer holds: it overtakes nothing.
          h.writers[c]!.write(FrameKind.BARRIER, 0, barrier(1));
          return;
        }
        // What the barrier overtook the producer persists; the consumer is answerable for the rest.
        for (const f of h.writers[c]!.writePriorityBarrier(1, Date.now(), barrier(1))) {
          if (f.kind === FrameKind.DATA) codec.decode(f.payload, f.count, (r) => s.overtaken.push(r as Rec));
        }
        s.before = s.before.slice(0, s.before.length - s.overtaken.length);
      };
      for (const o of ops) {
        switch (o.op) {
          case 'data': {
            const s = sent[o.ch]!;
            if (s.ended) break;
            const recs = Array.from({ length: o.n }, () => ({ c: o.ch, i: seq++ }));
            h.writers[o.ch]!.write(FrameKind.DATA, recs.length, codec.encode(recs, 0, recs.length).slice());
            (s.barrier ? s.after : s.before).push(...recs);
            break;
          }
          case 'watermark':
            if (!sent[o.ch]!.ended) h.writers[o.ch]!.write(FrameKind.WATERMARK, 0, encodeWatermark(seq));
            break;
          case 'end':
            if (!sent[o.ch]!.ended) {
              sent[o.ch]!.ended = true;
              h.writers[o.ch]!.write(FrameKind.END_OF_PARTITION, 0, EMPTY_PAYLOAD);
            }
            break;
          case 'finish':
            if (sent[o.ch]!.ended && h.writers[o.ch]!.drain()) Atomics.store(h.finished, o.ch, 1);
            break;
          case 'barrier':
            if (!sent[o.ch]!.barrier && !sent[o.ch]!.ended) sendBarrier(o.ch, o.inBand);
            break;
          case 'step': step(o.budget); break;
          case 'drain': drain(); break;
        }
      }
      for (let c = 0; c < channels; c++) if (!sent[c]!.barrier && !sent[c]!.ended) sendBarrier(c);
      for (let i = 0; i < 10_000 && h.states.length === 0; i++) {
        drain();
        step(1 + (i % 7));
      }
      if (sent.every((x) => !x.barrier)) {
        // Every input ended before any barrier: nothing to checkpoint.
        t.is(h.snapshots.length, 0);
        return;
      }
      t.is(h.snapshots.length, 1, 'one snapshot');
      t.is(h.states.length, 1, 'its channel state whole');
      const at = h.snapshots[0]!.at;
      const processedBefore = (c: number) => h.emitted.slice(0, at).filter((r) => r.c === c);
      const persistedOf = (c: number) => h.states[0]!.inputs.find((p) => p.channel === `p[${c}]->op[0]`);
      for (let c = 0; c < channels; c++) {
        t.deepEqual([...processedBefore(c), ...replayed(persistedOf(c)).records], sent[c]!.before,
          `channel ${c}: processed before the snapshot + persisted = what its ring held before the barrier`);
      }
      // Restore: a fresh gate replays the input side; each producer sends what its barrier overtook, then what came
      // after; an ended producer sends its end again (as a restored finished subtask does).
      const restored = harness(channels, capacity, Array.from({ length: channels }, (_, c) => persistedOf(c)));
      const pending = sent.map((s) => {
        const frames: Rec[][] = [];
        // In frames of at most five records: any one fits the smallest ring.
        const resent = [...s.overtaken, ...s.after];
        for (let i = 0; i < resent.length; i += 5) frames.push(resent.slice(i, i + 5));
        return frames;
      });
      const endSent = sent.map(() => false);
      for (let i = 0; i < 100_000 && !restored.gate.finished; i++) {
        for (let c = 0; c < channels; c++) {
          const w = restored.writers[c]!;
          if (!w.drain()) continue;
          const f = pending[c]!.shift();
          if (f !== undefined) w.write(FrameKind.DATA, f.length, codec.encode(f, 0, f.length).slice());
          else if (!endSent[c]) {
            endSent[c] = true;
            w.write(FrameKind.END_OF_PARTITION, 0, EMPTY_PAYLOAD);
          }
        }
        restored.gate.step(() => false);
      }
      t.true(restored.gate.finished, 'the restored gate reads every input to its end');
      for (let c = 0; c < channels; c++) {
        const s = sent[c]!;
        const all = [...s.before, ...s.overtaken, ...s.after];
        t.deepEqual([...processedBefore(c), ...restored.emitted.filter((r) => r.c === c)], all, `channel ${c}: before the snapshot + after the restore = everything sent, once, in order`);
      }
  }
});

eachCodec('an input whose producer finished before the checkpoint is copied at the snapshot, not gathered until its end is read', (t) => {
  const h = harness(2, 64 * 1024);
  // Producer 0 sent 300 records and its end, and finished: a slow consumer has read none of them yet.
  const recs = Array.from({ length: 300 }, (_, i) => ({ c: 0, i }));
  for (let i = 0; i < recs.length; i += 100) h.writers[0]!.write(FrameKind.DATA, 100, codec.encode(recs, i, i + 100).slice());
  h.writers[0]!.write(FrameKind.END_OF_PARTITION, 0, EMPTY_PAYLOAD);
  Atomics.store(h.finished, 0, 1);
  // Producer 1 is still running and takes checkpoint 1.
  h.writers[1]!.writePriorityBarrier(1, Date.now(), barrier(1));
  t.true(h.gate.poll());
  t.is(h.snapshots.length, 1);
  t.is(h.states.length, 1, 'the channel state is whole at the snapshot: no barrier will come from producer 0');
  t.is(h.emitted.length, 0);
  const persisted = replayed(h.states[0]!.inputs.find((p) => p.channel === 'p[0]->op[0]'));
  t.deepEqual(persisted.records, recs, 'all of producer 0 that was not processed is persisted');
  t.true(persisted.ended, 'with its end');
  // The gate reads on as before: every record once, then both ends.
  h.writers[1]!.write(FrameKind.END_OF_PARTITION, 0, EMPTY_PAYLOAD);
  for (let i = 0; i < 50 && !h.gate.finished; i++) h.gate.step(() => false);
  t.deepEqual(h.emitted, recs);
  t.true(h.gate.finished);
});

eachCodec('an input whose producer took the checkpoint and then finished is copied up to its barrier', (t) => {
  const h = harness(2, 64 * 1024);
  const recs = Array.from({ length: 200 }, (_, i) => ({ c: 0, i }));
  h.writers[0]!.write(FrameKind.DATA, 100, codec.encode(recs, 0, 100).slice());
  // Producer 0's barrier in band only, never announced in its slot (as where the slot still held an older
  // announcement): the gate finds it in the ring.
  h.writers[0]!.write(FrameKind.BARRIER, 0, barrier(1));
  h.writers[0]!.write(FrameKind.DATA, 100, codec.encode(recs, 100, 200).slice());
  h.writers[0]!.write(FrameKind.END_OF_PARTITION, 0, EMPTY_PAYLOAD);
  Atomics.store(h.finished, 0, 1);
  h.writers[1]!.writePriorityBarrier(1, Date.now(), barrier(1));
  t.true(h.gate.poll());
  t.is(h.states.length, 1);
  t.deepEqual(replayed(h.states[0]!.inputs.find((p) => p.channel === 'p[0]->op[0]')).records, recs.slice(0, 100),
    'the records before its barrier, not those after it (they are in its snapshot, not in flight)');
});

eachCodec('a finished producer\'s barrier read in band starts the checkpoint: nothing after it is persisted', (t) => {
  for (const unaligned of [true, false]) {
    const h = harness(2, 64 * 1024);
    const recs = Array.from({ length: 200 }, (_, i) => ({ c: 0, i }));
    h.writers[0]!.write(FrameKind.DATA, 100, codec.encode(recs, 0, 100).slice());
    // Producer 0 took checkpoint 1 (its barrier in band only), sent 100 more records and its end, and finished.
    // An aligned barrier read in band switches at once here (alignedTimeout 0), as one read after the timeout.
    h.writers[0]!.write(FrameKind.BARRIER, 0, encodeBarrier({ checkpointId: 1, unaligned, timestamp: Date.now() - 1 }));
    h.writers[0]!.write(FrameKind.DATA, 100, codec.encode(recs, 100, 200).slice());
    h.writers[0]!.write(FrameKind.END_OF_PARTITION, 0, EMPTY_PAYLOAD);
    Atomics.store(h.finished, 0, 1);
    for (let i = 0; i < 3 && h.snapshots.length === 0; i++) h.gate.step(() => false);
    t.is(h.snapshots.length, 1, 'the barrier read in band started the checkpoint');
    t.is(h.snapshots[0]!.at, 100, 'after the 100 records before it');
    h.writers[1]!.writePriorityBarrier(1, Date.now(), barrier(1));
    h.gate.poll();
    t.is(h.states.length, 1);
    t.deepEqual(replayed(h.states[0]!.inputs.find((p) => p.channel === 'p[0]->op[0]')).records, [],
      `${unaligned ? 'unaligned' : 'aligned'} barrier: the records after it are in producer 0's snapshot, not in flight`);
  }
});

eachCodec('a producer restored as finished that sends its end again leaves one end in the channel state, and a restore from it reads on', (t) => {
  // Attempt 2: producer 0 was restored as finished; its input side replays [3 records, its end] and it sends its end again.
  const recs = [{ c: 0, i: 0 }, { c: 0, i: 1 }, { c: 0, i: 2 }];
  const replay = new FrameBufferOf([recs]);
  replay.end();
  for (const again of ['after the replay', 'twice in its ring']) {
    const h = harness(2, 64 * 1024, again === 'after the replay' ? [{ channel: 'p[0]->op[0]', codec: codec.descriptor, skip: 0, frames: replay.bytes() }] : []);
    if (again === 'twice in its ring') {
      // Its restored output side ended in its end, and it sends its end again after replaying it.
      h.writers[0]!.write(FrameKind.DATA, 3, codec.encode(recs, 0, 3).slice());
      h.writers[0]!.write(FrameKind.END_OF_PARTITION, 0, EMPTY_PAYLOAD);
    }
    h.writers[0]!.write(FrameKind.END_OF_PARTITION, 0, EMPTY_PAYLOAD);
    Atomics.store(h.finished, 0, 1);
    h.writers[1]!.writePriorityBarrier(2, Date.now(), barrier(2));
    t.true(h.gate.poll());
    const persisted = h.states[0]!.inputs.find((p) => p.channel === 'p[0]->op[0]')!;
    const q = new FrameQueue(persisted.frames, persisted.skip);
    let ends = 0;
    for (; q.next(); q.consume()) if (q.kind === FrameKind.END_OF_PARTITION) ends++;
    t.is(ends, 1, `${again}: one end persisted`);
    // Attempt 3 from that checkpoint: channel 1's records and end come after the replay.
    const restored = harness(2, 64 * 1024, [persisted]);
    restored.writers[1]!.write(FrameKind.DATA, 2, codec.encode([{ c: 1, i: 0 }, { c: 1, i: 1 }], 0, 2).slice());
    restored.writers[1]!.write(FrameKind.END_OF_PARTITION, 0, EMPTY_PAYLOAD);
    for (let i = 0; i < 100 && !restored.gate.finished; i++) restored.gate.step(() => false);
    t.true(restored.gate.finished, `${again}: the restored gate reads every input to its end`);
    t.deepEqual(restored.emitted, [...recs, { c: 1, i: 0 }, { c: 1, i: 1 }]);
  }
});

eachCodec(`a slow operator (1 ms per record) processes at most one record between an announcement and its snapshot`, (t) => {
  let announcedAt = -1;
  const h = harness(2, 64 * 1024, [], (r) => {
    for (const started = performance.now(); performance.now() - started < 1;);
    if (r.i === 20) {
      // The producer announces its barrier while the operator is inside a frame of 100 records.
      announcedAt = h.emitted.length;
      h.writers[0]!.writePriorityBarrier(1, Date.now(), barrier(1));
      h.writers[1]!.writePriorityBarrier(1, Date.now(), barrier(1));
    }
  });
  const recs = Array.from({ length: 100 }, (_, i) => ({ c: 0, i }));
  h.writers[0]!.write(FrameKind.DATA, recs.length, codec.encode(recs, 0, recs.length).slice());
  for (let i = 0; i < 200 && h.snapshots.length === 0; i++) h.gate.step(() => false);
  t.is(h.snapshots.length, 1);
  const after = h.snapshots[0]!.at - announcedAt;
  // The first check finds records slower than SLOW_RECORD_MS, and from then on the slots are looked at after each one.
  t.true(after >= 0 && after <= 1, `${after} records processed between the announcement and the snapshot (slow: > ${SLOW_RECORD_MS} ms each)`);
  // The frame was interrupted between records: it is persisted whole, with the records already done to skip.
  const p = h.states[0]!.inputs.find((x) => x.channel === 'p[0]->op[0]')!;
  t.is(p.skip, h.snapshots[0]!.at);
  t.deepEqual(replayed(p).records, recs.slice(h.snapshots[0]!.at));
});

eachCodec(`a fast operator processes at most ${RECORDS_PER_CHECK} records between an announcement and its snapshot`, (t) => {
  let announcedAt = -1;
  const h = harness(1, 64 * 1024, [], (r) => {
    if (r.i === 20) {
      announcedAt = h.emitted.length;
      h.writers[0]!.writePriorityBarrier(1, Date.now(), barrier(1));
    }
  });
  const recs = Array.from({ length: 200 }, (_, i) => ({ c: 0, i }));
  h.writers[0]!.write(FrameKind.DATA, recs.length, codec.encode(recs, 0, recs.length).slice());
  for (let i = 0; i < 200 && h.snapshots.length === 0; i++) h.gate.step(() => false);
  const after = h.snapshots[0]!.at - announcedAt;
  t.true(after >= 0 && after <= RECORDS_PER_CHECK, `${after} records between the announcement and the snapshot`);
  t.deepEqual(replayed(h.states[0]!.inputs[0]).records, recs.slice(h.snapshots[0]!.at));
});

eachCodec('a flatMap that emits 100000 records per input into a full ring reacts to an announcement before draining, overdraft bounded by one call', (t) => {
  const outSab = allocateRing(4096);
  // The output carries numbers: the general codec, whatever the input's.
  const out = new RecordWriter([new ChannelWriter(new RingProducer(outSab), 'op[0]->sink[0]')], CODECS['general']!, {
    partitioner: 'forward', keySelector: undefined, maxParallelism: 128, batchSize: 256, frameBytes: 16384, start: 0, uid: 'op', subtask: 0,
  });
  const h = harness(1, 64 * 1024);
  let perInput = 0;
  const flatMap = (v: unknown) => {
    h.emitted.push(v as Rec);
    for (let i = 0; i < 100_000; i++) out.add(i);
    out.flush();
    perInput = Math.max(perInput, out.peakOverdraftBytes());
  };
  h.gate.connect(flatMap, () => {});
  if (fused) h.gate.fuse({ names: ['s_flatMap'], values: [flatMap], body: 's_flatMap(v);', fail: (err) => { throw err; } }, false);
  const recs = Array.from({ length: 10 }, (_, i) => ({ c: 0, i }));
  h.writers[0]!.write(FrameKind.DATA, recs.length, codec.encode(recs, 0, recs.length).slice());
  t.true(h.gate.step(() => out.hasOverdraft()));
  t.is(h.emitted.length, 1, 'the turn ends after the call that overdrew');
  h.writers[0]!.writePriorityBarrier(1, Date.now(), barrier(1));
  // What the subtask does first in its next step, before it tries to drain: look at the slots.
  t.true(h.gate.poll());
  t.is(h.snapshots.length, 1);
  t.is(h.snapshots[0]!.at, 1, 'no record processed between the announcement and the snapshot');
  t.deepEqual(replayed(h.states[0]!.inputs[0]).records, recs.slice(1), 'the other nine are persisted');
  t.true(perInput < 100_000 * 8 + 4096, `overdraft ${perInput} bytes: one call's output`);
});

eachCodec('a checkpoint taken while channel state is still being replayed persists what is not yet replayed, then what follows in the ring', (t) => {
  const recs = Array.from({ length: 200 }, (_, i) => ({ c: 0, i }));
  // Restored input side: 200 records in two frames, the first of which had 3 records processed before the old checkpoint.
  const frames = new FrameBufferOf([recs.slice(0, 100), recs.slice(100)]);
  const h = harness(1, 64 * 1024, [{ channel: 'p[0]->op[0]', codec: codec.descriptor, skip: 3, frames: frames.bytes() }]);
  const more = Array.from({ length: 20 }, (_, i) => ({ c: 0, i: 200 + i }));
  h.writers[0]!.write(FrameKind.DATA, more.length, codec.encode(more, 0, more.length).slice());
  // Ten records in, the producer's next barrier is announced (the overdraft is looked at every RECORDS_PER_CHECK records at most).
  // In steps until ten are done: a step also ends when its time is up (a loaded machine, the first frame's decoder compiled).
  for (let i = 0; i < 100 && h.emitted.length < 10; i++) {
    h.budget = 10 - h.emitted.length;
    h.gate.step(() => h.budget <= 0);
  }
  t.true(h.emitted.length >= 10 && h.emitted.length <= 10 + RECORDS_PER_CHECK, `${h.emitted.length} processed`);
  h.writers[0]!.writePriorityBarrier(2, Date.now(), barrier(2));
  h.budget = Infinity;
  t.true(h.gate.poll());
  t.is(h.states.length, 1);
  const done = h.snapshots[0]!.at;
  const persisted = replayed(h.states[0]!.inputs[0]);
  t.deepEqual([...h.emitted.slice(0, done), ...persisted.records], [...recs.slice(3), ...more], 'replayed so far + persisted = the replay and the ring up to the barrier');
  for (let i = 0; i < 20; i++) h.gate.step(() => false);
  t.deepEqual(h.emitted, [...recs.slice(3), ...more], 'and the replay goes on to the end, then the ring');
});

/** Frames as a persisted channel holds them. */
class FrameBufferOf {
  private readonly buf = new FrameBuffer();
  constructor(frames: Rec[][]) {
    for (const f of frames) this.buf.appendFrame(FrameKind.DATA, f.length, codec.encode(f, 0, f.length).slice());
  }
  end(): void {
    this.buf.appendFrame(FrameKind.END_OF_PARTITION, 0, EMPTY_PAYLOAD);
  }
  bytes(): Uint8Array {
    return this.buf.bytes();
  }
}

eachCodec('a barrier announced past the write position (a PAD must fill the tail first, and there is no room for it) is gathered up to what is published', (t) => {
  const h = harness(1, 128);
  const w = h.writers[0]!;
  const wm = (i: number) => w.write(FrameKind.WATERMARK, 0, encodeWatermark(i));
  // 16-byte frames: seven written and read, then eight more fill the ring with its write position 16 bytes from the end.
  for (let i = 0; i < 7; i++) wm(i);
  h.gate.step(() => false);
  for (let i = 7; i < 15; i++) wm(i);
  t.is(w.ring.freeBytes(), 0);
  w.write(FrameKind.WATERMARK, 0, encodeWatermark(99));
  t.true(w.hasOverdraft);
  w.writePriorityBarrier(1, Date.now(), barrier(1));
  t.notThrows(() => h.gate.poll());
  t.is(h.snapshots.length, 1);
  t.is(h.states.length, 1);
  t.is(h.states[0]!.inputs[0]!.frames.byteLength, 8 * 16, 'the eight frames in the ring, and no PAD');
  // Reading goes on through the PAD and the barrier, then the overtaken frame.
  for (let i = 0; i < 10; i++) {
    w.drain();
    h.gate.step(() => false);
  }
  t.false(w.hasOverdraft);
  t.is(w.ring.usedBytes(), 0, 'everything was read, the barrier included');
});

eachCodec('a checkpoint announced before a restored replay has begun keeps the replay\'s own records to skip', (t) => {
  const recs = Array.from({ length: 20 }, (_, i) => ({ c: 0, i }));
  const frames = new FrameBufferOf([recs]);
  const h = harness(1, 4096, [{ channel: 'p[0]->op[0]', codec: codec.descriptor, skip: 3, frames: frames.bytes() }]);
  h.writers[0]!.writePriorityBarrier(2, Date.now(), barrier(2));
  t.true(h.gate.poll());
  t.is(h.snapshots[0]!.at, 0, 'nothing processed yet');
  t.deepEqual(replayed(h.states[0]!.inputs[0]).records, recs.slice(3), 'the three records processed before the first checkpoint stay skipped');
});

test('a subtask whose producers finished takes the trigger itself as unaligned, or as switched where checkpoints start aligned (alignedCheckpointTimeout)', (t) => {
  for (const [alignedTimeout, want] of [[0, 'unaligned'], [100, 'switched']] as const) {
    const sab = allocateRing(4096);
    const writer = new ChannelWriter(new RingProducer(sab), 'p[0]->op[0]');
    const finished = new Int32Array([1]);
    const gate = new InputGate([{
      consumer: new RingConsumer(sab), codec, label: 'input 0', key: 'p[0]->op[0]', producer: 0, watermark: -Infinity, ended: false, blocked: false, replay: null,
    }], 'op', 0, { finished, blocking: true, unaligned: true, alignedTimeout });
    const alignments: Alignment[] = [];
    gate.connect(() => {}, () => {});
    gate.onBarriers({ snapshot: (_id, _ms, a) => alignments.push(a), channelState: () => {}, decline: () => {}, forwardCancel: () => {} });
    writer.write(FrameKind.END_OF_PARTITION, 0, EMPTY_PAYLOAD);
    gate.triggered(1, Date.now());
    t.deepEqual(alignments, [want], `alignedCheckpointTimeout ${alignedTimeout}`);
  }
});

eachCodec('a subtask whose producers finished takes the trigger itself and persists the rest of each input, but only up to a barrier of that checkpoint already in the ring', (t) => {
  const sab = allocateRing(4096);
  const writer = new ChannelWriter(new RingProducer(sab), 'p[0]->op[0]');
  const finished = new Int32Array(1);
  const gate = new InputGate([{
    consumer: new RingConsumer(sab), codec, label: 'input 0', key: 'p[0]->op[0]', producer: 0, watermark: -Infinity, ended: false, blocked: false, replay: null,
  }], 'op', 0, { finished, blocking: true, unaligned: true, alignedTimeout: 0 });
  const states: PersistedChannel[][] = [];
  gate.connect(() => {}, () => {});
  gate.onBarriers({ snapshot: () => {}, channelState: (_id, inputs) => states.push(inputs), decline: () => {}, forwardCancel: () => {} });
  const frame = (from: number, n: number) => {
    const recs = Array.from({ length: n }, (_, i) => ({ c: 0, i: from + i }));
    writer.write(FrameKind.DATA, n, codec.encode(recs, 0, n).slice());
  };
  frame(0, 5);
  // The producer took checkpoint 3 (aligned: in-band, behind its records), then sent more and ended.
  writer.writeBarrier(FrameKind.BARRIER, 3, false, encodeBarrier({ checkpointId: 3, unaligned: false, timestamp: Date.now() }));
  frame(5, 5);
  writer.write(FrameKind.END_OF_PARTITION, 0, EMPTY_PAYLOAD);
  t.false(gate.upstreamFinished(), 'not before the producer is flagged finished');
  Atomics.store(finished, 0, 1);
  t.true(gate.upstreamFinished());
  gate.triggered(3, Date.now());
  t.is(states.length, 1);
  t.deepEqual(replayed(states[0]![0]).records.map((r) => r.i), [0, 1, 2, 3, 4], 'only what precedes the producer\'s barrier 3');
  gate.triggered(4, Date.now());
  t.is(states.length, 2);
  const rest = replayed(states[1]![0]);
  t.deepEqual(rest.records.map((r) => r.i), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 'a later one: everything, to the end');
  t.true(rest.ended);
});

eachCodec('a restored replay that ends in its input\'s end lets the gate read the other inputs\' rings (it hung: the replay was let go only at the next look at an ended channel)', (t) => {
  // Channel state of a checkpoint taken after the first producer finished: its last records and its end.
  const frames = new FrameBufferOf([[{ c: 0, i: 0 }, { c: 0, i: 1 }]]);
  const buf = new FrameBuffer();
  buf.appendRange(frames.bytes());
  buf.appendFrame(FrameKind.END_OF_PARTITION, 0, EMPTY_PAYLOAD);
  const h = harness(2, 4096, [{ channel: 'p[0]->op[0]', codec: codec.descriptor, skip: 0, frames: buf.bytes() }, undefined]);
  // The restored finished producer ends again; the other one sends on.
  h.writers[0]!.write(FrameKind.END_OF_PARTITION, 0, EMPTY_PAYLOAD);
  h.writers[1]!.write(FrameKind.DATA, 1, codec.encode([{ c: 1, i: 2 }], 0, 1).slice());
  h.writers[1]!.write(FrameKind.END_OF_PARTITION, 0, EMPTY_PAYLOAD);
  for (let i = 0; i < 20 && !h.gate.finished; i++) {
    t.true(h.gate.step(() => false) || h.gate.hasInput() || h.gate.finished, `step ${i}: no work and none announced, so the actor would sleep for good`);
  }
  t.deepEqual(h.emitted.map((r) => r.i), [0, 1, 2]);
  t.true(h.gate.finished);
});
