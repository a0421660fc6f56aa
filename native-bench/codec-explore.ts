// Codec choices measured: msgpackr's modes for the general codec, schema codecs beside JSON and a hand-written loop, and string lengths.
// Expect: schema codecs >= 10x msgpackr on [int32, float64] tuples; one msgpackr array per frame with records the fastest general mode.
// Each figure comes from a fresh process, so that no case inherits another's JIT state. Run: npm exec -- node native-bench/codec-explore.ts

import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Packr, Unpackr } from 'msgpackr';
import type { Codec } from '../core/codec/codec.ts';
import { generalCodec } from '../core/codec/general.ts';
import { codecFor } from '../core/codec/schema.ts';
import { Types } from '../core/codec/types.ts';

const BATCH = 1024;
const FRAMES = 300;
let sink = 0;

/** Millions of records per second: the median of 7 timed runs of FRAMES frames, after a warm-up. */
function rate(frame: () => void): number {
  for (let i = 0; i < 3 * FRAMES; i++) frame();
  const runs: number[] = [];
  for (let r = 0; r < 7; r++) {
    const t = performance.now();
    for (let f = 0; f < FRAMES; f++) frame();
    runs.push(performance.now() - t);
  }
  runs.sort((a, b) => a - b);
  return (BATCH * FRAMES) / (runs[3]! / 1000) / 1e6;
}

const ring = new SharedArrayBuffer(1 << 24);
/** The payload as a consumer sees it: a view into shared memory. */
function inRing(bytes: Uint8Array): Uint8Array {
  const view = new Uint8Array(ring, 8, bytes.length);
  view.set(bytes);
  return view;
}
const count = (record: unknown) => { if (record !== undefined) sink++; };

const tuples = Array.from({ length: BATCH }, (_, i) => [i % 1000, i * 1.5]);
const rows = Array.from({ length: BATCH }, (_, i) => ({ user: i % 1000, amount: i * 0.25, tag: `tag-${i % 50}` }));
const shapes = { tuples, rows } as const;

/** [encode, decode, encode then decode] for one msgpackr mode. */
function msgpackr(options: object, perRecord: boolean, records: readonly unknown[]): number[] {
  const packr = new Packr(options);
  const unpackr = new Unpackr(options);
  const encode = perRecord ? () => concat(records.map((r) => packr.pack(r))) : () => packr.pack(records);
  const decode = perRecord
    ? (b: Uint8Array) => unpackr.unpackMultiple(b, count)
    : (b: Uint8Array) => { for (const r of unpackr.unpack(b) as unknown[]) count(r); };
  const payload = inRing(encode());
  return [rate(encode), rate(() => decode(payload)), rate(() => decode(inRing(encode())))];
}

/**
 * [encode, decode, encode then decode] for a codec. A fixed-size codec encodes into the ring
 * in place (encodeInto, as a network edge does), each frame where the last one ended (see
 * `frameAt`); the others encode into their scratch buffer, which is then copied into the ring.
 */
function codec(c: Codec, records: readonly unknown[]): number[] {
  const payload = inRing(c.encode(records, 0, BATCH));
  const both = c.encodeInto === undefined
    ? () => c.decode(inRing(c.encode(records, 0, BATCH)), BATCH, count)
    : () => { const at = frameAt(); c.encodeInto!(records, 0, BATCH, ringBytes, ringView, at); c.decode(payloads[slot]!, BATCH, count); };
  return [rate(() => c.encode(records, 0, BATCH)), rate(() => c.decode(payload, BATCH, count)), rate(both)];
}

// Frames of fixed-size records as a ring holds them: each frame at a different offset (a ring
// moves on by a frame and its header), so neither its place nor its record count is a constant.
const FRAME_BYTES = BATCH * 12;
const SLOTS = 8;
const slotOffset = (k: number) => 8 + k * (FRAME_BYTES + 4);
const ringBytes = new Uint8Array(ring);
const ringView = new DataView(ring);
const payloads = Array.from({ length: SLOTS }, (_, k) => new Uint8Array(ring, slotOffset(k), FRAME_BYTES));
let slot = 0;
/** The next frame's byte offset in the ring; `slot` says which of `payloads` it is. */
function frameAt(): number {
  slot = (slot + 1) % SLOTS;
  return slotOffset(slot);
}
/** Records in the next frame: read at run time, as a consumer reads a frame's header. */
const frameRecords = [BATCH];

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();
function json(records: readonly unknown[]): number[] {
  const payload = inRing(textEncoder.encode(JSON.stringify(records)));
  const decode = (b: Uint8Array) => { for (const r of JSON.parse(textDecoder.decode(b)) as unknown[]) count(r); };
  return [rate(() => textEncoder.encode(JSON.stringify(records))), rate(() => decode(payload)),
    rate(() => decode(inRing(textEncoder.encode(JSON.stringify(records)))))];
}

/**
 * The same tuples by hand, two ways. `constantFrame`: one frame at a fixed place and count, which
 * V8 folds into the loop (every offset a constant, every bounds check proven): the ceiling of a loop
 * over one fixed buffer, which no encoder for a ring can reach. Otherwise each frame is where
 * `frameAt` puts it and its count is read at run time: a hand-written codec's best on a ring.
 */
function handWritten(constantFrame: boolean): number[] {
  if (constantFrame) {
    const dv = new DataView(ring, 8, BATCH * 12);
    const encode = () => { for (let i = 0; i < BATCH; i++) { dv.setInt32(i * 12, tuples[i]![0]!, true); dv.setFloat64(i * 12 + 4, tuples[i]![1]!, true); } };
    const decode = () => { for (let i = 0; i < BATCH; i++) count([dv.getInt32(i * 12, true), dv.getFloat64(i * 12 + 4, true)]); };
    return [rate(encode), rate(decode), rate(() => { encode(); decode(); })];
  }
  const dv = ringView;
  const encode = (at: number) => {
    const n = frameRecords[0]!;
    for (let i = 0; i < n; i++) { dv.setInt32(at + i * 12, tuples[i]![0]!, true); dv.setFloat64(at + i * 12 + 4, tuples[i]![1]!, true); }
  };
  const decode = (at: number) => {
    const n = frameRecords[0]!;
    for (let i = 0; i < n; i++) count([dv.getInt32(at + i * 12, true), dv.getFloat64(at + i * 12 + 4, true)]);
  };
  return [rate(() => encode(frameAt())), rate(() => decode(frameAt())), rate(() => { const at = frameAt(); encode(at); decode(at); })];
}

const CHOSEN = { moreTypes: true, useBigIntExtension: true, copyBuffers: true };
const TUPLE = Types.TUPLE(Types.INT32, Types.FLOAT64);
const ROW = Types.ROW({ user: Types.INT32, amount: Types.FLOAT64, tag: Types.STRING });
const strings = (n: number) => Array.from({ length: BATCH }, (_, i) => ['x'.repeat(n - 1) + String.fromCharCode(97 + (i % 26))]);

const cases: Record<string, () => number[]> = {};
for (const [shape, records] of Object.entries(shapes)) {
  cases[`msgpackr ${shape}: one array per frame, records, general codec's options`] = () => msgpackr(CHOSEN, false, records);
  cases[`msgpackr ${shape}: one array per frame, records, defaults`] = () => msgpackr({}, false, records);
  cases[`msgpackr ${shape}: one array per frame, maps`] = () => msgpackr({ useRecords: false }, false, records);
  cases[`msgpackr ${shape}: one array per frame, structuredClone`] = () => msgpackr({ structuredClone: true }, false, records);
  cases[`msgpackr ${shape}: each record packed alone, records`] = () => msgpackr({}, true, records);
  cases[`msgpackr ${shape}: each record packed alone, maps`] = () => msgpackr({ useRecords: false }, true, records);
}
cases['[int32, float64] hand-written DataView loop, frames at ring offsets (baseline)'] = () => handWritten(false);
cases['[int32, float64] hand-written DataView loop, one constant frame (ceiling)'] = () => handWritten(true);
cases['[int32, float64] schema codec'] = () => codec(codecFor(TUPLE), tuples);
// As a network edge encodes records its .returns(...) check has already tested.
cases['[int32, float64] schema codec, trusted'] = () => codec(codecFor(TUPLE, { trusted: true }), tuples);
cases['[int32, float64] general codec'] = () => codec(generalCodec(), tuples);
cases['[int32, float64] JSON'] = () => json(tuples);
cases['{user, amount, tag} schema codec'] = () => codec(codecFor(ROW), rows);
cases['{user, amount, tag} general codec'] = () => codec(generalCodec(), rows);
cases['{user, amount, tag} JSON'] = () => json(rows);
for (const n of [4, 16, 17, 24, 32, 64, 256]) cases[`[string of ${n} ASCII chars] schema codec`] = () => codec(codecFor(Types.TUPLE(Types.STRING)), strings(n));

const only = process.argv[2];
if (only !== undefined) {
  console.log(JSON.stringify(cases[only]!()), sink > 0 ? '' : ' ');
} else {
  console.log(`M records/s, ${BATCH} records per frame, decoding from a SharedArrayBuffer: encode / decode / both`);
  const self = fileURLToPath(import.meta.url);
  for (const name of Object.keys(cases)) {
    const out = execFileSync(process.execPath, [...process.execArgv, self, name], { encoding: 'utf8' });
    const [enc, dec, both] = JSON.parse(out) as number[];
    console.log(`  ${name.padEnd(72)} ${[enc!, dec!, both!].map((x) => x.toFixed(1).padStart(6)).join(' ')}`);
  }
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  length = 0;
  for (const p of parts) { out.set(p, length); length += p.length; }
  return out;
}
