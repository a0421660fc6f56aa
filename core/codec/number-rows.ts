// The general codec's fast path: a frame of flat plain objects of one shape with number values, as float64 rows.

/**
 * Frame: 0xC1 (a byte msgpack never writes) | u8 key count | u16 LE bytes of the JSON key
 * list | the JSON | padding to 8 | count x keys float64 values, row by row. It is an
 * inferred schema codec: chosen per frame when every record is a plain object whose
 * enumerable keys are the first record's, in its order, and only numbers as values (-0, NaN
 * and infinities included), else the frame is msgpack. Measured 2.4x records per CPU-second
 * on a keyed job over such objects (native-bench/pipeline.bench.ts).
 */
import type { FusedRows, RecordStatements } from './codec.ts';

const MARK = 0xc1;
type Check = (r: unknown) => boolean;
type Write = (r: unknown, f: Float64Array, at: number) => void;
type Make = (f: Float64Array, at: number) => unknown;
const shapes = new Map<string, { check: Check; write: Write; make: Make; keys: string[] }>();
/** Beyond this many distinct shapes (keys made from data, say), frames fall back to msgpack. */
const MAX_SHAPES = 256;
const enc = new TextEncoder();
const dec = new TextDecoder();

/**
 * Statements that make record `v` from the row of float64s at `f[at]`. A value that is an int32
 * (and not -0) comes back as one: the same number, but an int32 in V8's eyes, as the sender's
 * was, where a float64 read would make every such field a double (a Map keyed by it then takes
 * the generic hash lookup, FindOrderedHashMapEntry).
 */
function rowStatements(keys: readonly string[]): string {
  return `${keys.map((_, i) => `const v${i} = f[at + ${i}];`).join(' ')}
    const v = {${keys.map((k, i) => `${JSON.stringify(k)}: (v${i} | 0) === v${i} && (v${i} !== 0 || 1 / v${i} > 0) ? v${i} | 0 : v${i}`).join(', ')}};`;
}

/**
 * How a check reads a record's prototype: `r.__proto__`, unless Node runs with
 * --disable-proto (the accessor deleted, or throwing), where it is Object.getPrototypeOf.
 */
const PROTO_OF_R = (() => {
  try {
    return ({} as { __proto__: unknown }).__proto__ === Object.prototype ? 'r.__proto__' : 'Object.getPrototypeOf(r)';
  } catch {
    return 'Object.getPrototypeOf(r)';
  }
})();

/**
 * The expression for the shape's n-th key, null past the last: string literals, which TurboFan
 * compares with for-in's keys by reference, where a lookup in an array of them measured twice
 * the check's time (native-bench/plain-check-explore.ts).
 */
function keyAt(keys: readonly string[]): string {
  return keys.reduceRight((rest, k, i) => `n === ${i} ? ${JSON.stringify(k)} : ${rest}`, 'null');
}

function shapeOf(keys: string[]) {
  const id = JSON.stringify(keys);
  let s = shapes.get(id);
  if (s === undefined) {
    const acc = keys.map((k) => `r[${JSON.stringify(k)}]`);
    // A record of the shape: a plain object (its prototype Object.prototype, read as r.__proto__,
    // which TurboFan inlines where Object.getPrototypeOf(r) was a runtime call per record, 8 ns
    // of the check's 18: BENCHMARKS.md, number rows) whose enumerable keys, as for-in sees them,
    // are the shape's keys in the shape's order, each a number. So no key of it is left out (an
    // own non-enumerable one of the shape's names beside an extra key) and none is read from a
    // prototype. A key named __proto__ never makes a shape.
    s = {
      keys,
      check: new Function('r', `if (typeof r !== 'object' || r === null || ${PROTO_OF_R} !== Object.prototype) return false;
        let n = 0;
        for (const k in r) { if (k !== (${keyAt(keys)})) return false; n++; }
        return n === ${keys.length} && ${acc.map((a) => `typeof ${a} === 'number'`).join(' && ')};`) as Check,
      write: new Function('r', 'f', 'at', acc.map((a, i) => `f[at + ${i}] = ${a};`).join('\n')) as Write,
      make: new Function('f', 'at', `${rowStatements(keys)}\nreturn v;`) as Make,
    };
    shapes.set(id, s);
  }
  return s;
}

/** The frame, or null when the records are not all flat number objects of one shape. */
export function encodeNumberRows(records: readonly unknown[], start: number, end: number, scratch: { buf: ArrayBuffer }): Uint8Array | null {
  const first = records[start];
  if (typeof first !== 'object' || first === null || Object.getPrototypeOf(first) !== Object.prototype) return null;
  const keys = Object.keys(first);
  if (keys.length === 0 || keys.length > 32 || keys.includes('__proto__')) return null;
  if (shapes.size >= MAX_SHAPES && !shapes.has(JSON.stringify(keys))) return null;
  const shape = shapeOf(keys);
  for (let i = start; i < end; i++) if (!shape.check(records[i])) return null;
  const json = enc.encode(JSON.stringify(keys));
  if (json.length > 0xffff) return null;
  const head = (4 + json.length + 7) & ~7;
  const bytes = head + (end - start) * keys.length * 8;
  if (scratch.buf.byteLength < bytes) scratch.buf = new ArrayBuffer(Math.max(bytes, scratch.buf.byteLength * 2));
  const u8 = new Uint8Array(scratch.buf, 0, bytes);
  u8[0] = MARK;
  u8[1] = keys.length;
  u8[2] = json.length & 0xff;
  u8[3] = json.length >> 8;
  u8.set(json, 4);
  const f = new Float64Array(scratch.buf, head, (end - start) * keys.length);
  for (let i = start, at = 0; i < end; i++, at += keys.length) shape.write(records[i], f, at);
  return u8;
}

export function isNumberRows(payload: Uint8Array): boolean {
  return payload.length > 0 && payload[0] === MARK;
}

/** Decodes a frame encodeNumberRows wrote; `payload` must start 8-byte aligned in its buffer. */
export function decodeNumberRows(payload: Uint8Array, count: number, emit: (r: unknown) => void): void {
  const jsonLength = payload[2]! | (payload[3]! << 8);
  const keys = JSON.parse(dec.decode(payload.subarray(4, 4 + jsonLength))) as string[];
  const shape = shapeOf(keys);
  const head = (4 + jsonLength + 7) & ~7;
  const f = new Float64Array(payload.buffer, payload.byteOffset + head, count * keys.length);
  for (let i = 0, at = 0; i < count; i++, at += keys.length) emit(shape.make(f, at));
}

/** fuseNumberRows's compilations so far: each one's source ends in its number, so none shares another's feedback. */
let fusedLoops = 0;

type RowsLoop = (f: Float64Array<ArrayBufferLike>, from: number, to: number) => void;

/**
 * Number-rows frames decoded a range of rows at a time with `statements` (the consumer's, on
 * record `v`) compiled into the loop, one loop per shape, compiled when the shape's first
 * frame arrives; one `try` around the loop calls `statements.fail`. What a frame starts with is
 * read once per frame (the payload view), and a frame not 8-byte aligned in its buffer is copied
 * first, as decodeNumberRows's caller does.
 */
export function fuseNumberRows(statements: RecordStatements): FusedRows {
  const loops = new Map<string, RowsLoop>();
  let viewed: Uint8Array | null = null;
  let rows: Float64Array<ArrayBufferLike> = new Float64Array(0);
  let loop: RowsLoop = () => {};
  let copy = new Uint8Array(0);
  return (payload, count, from, to) => {
    if (viewed !== payload) {
      const jsonLength = payload[2]! | (payload[3]! << 8);
      const id = dec.decode(payload.subarray(4, 4 + jsonLength));
      const keys = JSON.parse(id) as string[];
      let l = loops.get(id);
      if (l === undefined) {
        const source = `return function rowsRange(f, from, to) {
  try {
    for (let i = from, at = from * ${keys.length}; i < to; i++, at += ${keys.length}) {
      ${rowStatements(keys)}
      ${statements.body}
    }
  } catch (err) {
    fail(err);
  }
};
// ${fusedLoops++}`;
        l = new Function(...statements.names, 'fail', source)(...statements.values, statements.fail) as RowsLoop;
        loops.set(id, l);
      }
      let aligned = payload;
      if ((payload.byteOffset & 7) !== 0) {
        if (copy.length < payload.length) copy = new Uint8Array(Math.max(payload.length, 2 * copy.length));
        copy.set(payload);
        aligned = copy.subarray(0, payload.length);
      }
      const head = (4 + jsonLength + 7) & ~7;
      if (head + count * keys.length * 8 !== payload.length) {
        throw new RangeError(`a number-rows frame of ${count} rows of ${keys.length} values needs ${head + count * keys.length * 8} bytes, it has ${payload.length}`);
      }
      rows = new Float64Array(aligned.buffer, aligned.byteOffset + head, count * keys.length);
      loop = l;
      viewed = payload;
    }
    loop(rows, from, to);
  };
}
