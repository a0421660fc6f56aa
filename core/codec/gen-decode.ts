// Generates the source of a schema decoder from a type tree: DataView reads into object and array literals, bounds checked once per run of fixed-size fields.

import { Emitter, fixedSize } from './emitter.ts';
import type { TupleType, TypeInfo } from './types.ts';

const GETTERS = {
  int16: ['getInt16', 2], uint16: ['getUint16', 2], int32: ['getInt32', 4], uint32: ['getUint32', 4],
  float32: ['getFloat32', 4], float64: ['getFloat64', 8], bigint64: ['getBigInt64', 8],
} as const;

/**
 * Body of `function (h)` returning `{ decode(payload, count, emit), decodeRange }`. Every read is bounds
 * checked before it happens (a Uint8Array read past the end yields undefined, not an
 * error), and the payload must be used up exactly, so a truncated or misframed payload is
 * reported rather than decoded into wrong records.
 */
export function decoderSource(type: TypeInfo): string {
  const { e, size } = recordEmitter(type);
  const record = decodeValue(e, type);
  e.flush();
  // decodeRange: records from..to-1, the first at byte p, in calls of a few records each (the
  // input gate's checks go between the calls, not into a per-record callback).
  return `"use strict";
const corrupt = h.corrupt, readString = h.readString;
let viewed = null, view = null;
function decode(payload, count, emit) {
  const u8 = payload, end = payload.length;
  const dv = new DataView(payload.buffer, payload.byteOffset, end);
  let p = 0, i = 0;
  ${sizeCheck(size)}
  for (; i < count; i++) {
${e.source()}
    emit(${record});
  }
  if (p !== end) corrupt(i, (end - p) + " bytes are left after " + count + " records");
}
${rangeSource('emit', size, `for (; i < to; i++) {
${e.source()}
    emit(${record});
  }`)}
return { decode, decodeRange };`;
}

/**
 * Body of `function (h, ...names, fail)` returning `decodeRange(payload, count, p, from, to)`:
 * decodeRange's loop with the caller's statements on each record `v` compiled in where it
 * calls emit (RecordStatements). One `try` around the loop: what the statements throw goes
 * to `fail`; a decode error is thrown as it is. With `reuse` (a tuple or row type), every
 * record of the decoder is the same array or object, its fields overwritten: for consumers
 * that keep no input record (the objectReuse option).
 */
export function fusedDecoderSource(type: TypeInfo, body: string, reuse: boolean): string {
  const { e, size } = recordEmitter(type);
  let record: string;
  if (reuse && type.kind === 'tuple' && !mixedNumbers(type)) {
    const items = type.elements.map((element) => decodeValue(e, element));
    e.push(`if (reused === null) reused = [${items.join(', ')}];`);
    e.push(`else { ${items.map((item, k) => `reused[${k}] = ${item};`).join(' ')} }`);
    record = 'reused';
  } else if (reuse && type.kind === 'row') {
    const items = type.fields.map((f) => [JSON.stringify(f.name), decodeValue(e, f.type)] as const);
    e.push(`if (reused === null) reused = {${items.map(([name, item]) => `${name}: ${item}`).join(', ')}};`);
    e.push(`else { ${items.map(([name, item]) => `reused[${name}] = ${item};`).join(' ')} }`);
    record = 'reused';
  } else {
    record = decodeValue(e, type);
  }
  e.flush();
  return `"use strict";
const readString = h.readString;
let failure = null, reused = null, viewed = null, view = null;
function corrupt(i, detail) {
  failure = h.corruption(i, detail);
  throw failure;
}
${rangeSource('', size, `try {
    for (; i < to; i++) {
${e.source()}
      const v = ${record};
      ${body}
    }
  } catch (err) {
    if (err === failure) throw err;
    fail(err);
  }`)}
return decodeRange;`;
}

/** The emitter of one record's reads: bounds checked per run of fields, or not at all for fixed-size records, whose frame's size is checked once. */
function recordEmitter(type: TypeInfo): { e: Emitter; size: number | undefined } {
  const e = new Emitter((bytes) => `if (p + ${bytes} > end) corrupt(i, "the payload ends inside the record");`);
  const size = fixedSize(type);
  e.unguarded = size !== undefined;
  return { e, size };
}

/** Fixed-size records: `count` of them must fill the payload's `end` bytes exactly. */
function sizeCheck(size: number | undefined): string {
  return size === undefined ? ''
    : `if (count * ${size} !== end) corrupt(0, count + " records of ${size} bytes need " + count * ${size} + " bytes, the payload has " + end);`;
}

/**
 * `function decodeRange(payload, count, p, from, to[, emit])` around `loop` (over records
 * from..to-1 at `i`, from byte `p`). The payload's DataView is kept between the calls on one
 * payload (a view's buffer, offset and length never change); its size is checked at the call
 * that begins it, and that it is used up exactly at the call that ends it.
 */
function rangeSource(emit: string, size: number | undefined, loop: string): string {
  return `function decodeRange(payload, count, p, from, to${emit === '' ? '' : `, ${emit}`}) {
  const u8 = payload, end = payload.length;
  if (viewed !== payload) {
    viewed = payload;
    view = new DataView(payload.buffer, payload.byteOffset, end);
  }
  ${size === undefined ? '' : `if (from === 0) ${sizeCheck(size)}`}
  const dv = view;
  let i = from;
  ${loop}
  if (to === count && p !== end) corrupt(i, (end - p) + " bytes are left after " + count + " records");
  return p;
}`;
}

const INTEGERS = new Set(['int8', 'int16', 'int32', 'uint8', 'uint16', 'uint32']);
const FLOATS = new Set(['float32', 'float64']);

/**
 * A tuple of integer and float fields only, which an array literal would make an array of
 * doubles (V8's PACKED_DOUBLE_ELEMENTS): its integers would then be read back as doubles, and a
 * double kept as a Map key is a heap number, so every later lookup of that Map compares keys
 * through a load of each entry's number (the typed keyed job's running count: 1.15x CPU).
 * Such tuples are decoded into arrays of any values, integers as small integers and floats boxed.
 */
function mixedNumbers(t: TupleType): boolean {
  return t.elements.every((x) => INTEGERS.has(x.kind) || FLOATS.has(x.kind))
    && t.elements.some((x) => INTEGERS.has(x.kind)) && t.elements.some((x) => FLOATS.has(x.kind));
}

/** Pushes the statements that read one value and returns the name holding it. */
function decodeValue(e: Emitter, t: TypeInfo): string {
  const out = e.temp('r');
  switch (t.kind) {
    case 'int8':
      e.push(`const ${out} = (u8[${e.fixed(1)}] << 24) >> 24;`);
      return out;
    case 'uint8':
      e.push(`const ${out} = u8[${e.fixed(1)}];`);
      return out;
    case 'boolean':
      e.push(`const ${out} = u8[${e.fixed(1)}] !== 0;`);
      return out;
    case 'int16': case 'uint16': case 'int32': case 'uint32': case 'float32': case 'float64': case 'bigint64': {
      const [getter, bytes] = GETTERS[t.kind];
      e.push(`const ${out} = dv.${getter}(${e.fixed(bytes)}, true);`);
      return out;
    }
    case 'string': {
      const n = e.temp('n');
      e.push(`const ${n} = dv.getUint32(${e.fixed(4)}, true);`);
      e.flush();
      e.push(`if (${n} > end - p) corrupt(i, "a string of " + ${n} + " bytes runs past the payload");`);
      e.push(`const ${out} = readString(u8, p, ${n});`);
      e.push(`p += ${n};`);
      return out;
    }
    case 'tuple': {
      const items = t.elements.map((element) => decodeValue(e, element));
      if (mixedNumbers(t)) {
        // Made with its float fields null, then set: an array of any values, so integers stay small integers.
        e.push(`const ${out} = [${items.map((item, k) => (FLOATS.has(t.elements[k]!.kind) ? 'null' : item)).join(', ')}];`);
        items.forEach((item, k) => { if (FLOATS.has(t.elements[k]!.kind)) e.push(`${out}[${k}] = ${item};`); });
      } else {
        e.push(`const ${out} = [${items.join(', ')}];`);
      }
      return out;
    }
    case 'row': {
      const items = t.fields.map((f) => `${JSON.stringify(f.name)}: ${decodeValue(e, f.type)}`);
      e.push(`const ${out} = {${items.join(', ')}};`);
      return out;
    }
    case 'nullable': {
      const tag = e.temp('g');
      e.push(`const ${tag} = u8[${e.fixed(1)}];`);
      e.flush();
      e.push(`let ${out};`);
      e.push(`if (${tag} === 0) ${out} = null;`);
      e.push(`else if (${tag} === 2) ${out} = undefined;`);
      e.block(`else if (${tag} === 1) {`, () => e.push(`${out} = ${decodeValue(e, t.inner)};`));
      e.push(`else corrupt(i, "nullable tag " + ${tag} + " is none of 0, 1, 2");`);
      return out;
    }
    case 'array': {
      const n = e.temp('n');
      const j = e.temp('j');
      const elementSize = fixedSize(t.element);
      e.push(`const ${n} = dv.getUint32(${e.fixed(4)}, true);`);
      e.flush();
      // An element takes at least one byte, except in a tuple<>, so a count beyond the bytes left is corrupt.
      if (elementSize !== 0) {
        e.push(`if (${n} * ${elementSize ?? 1} > end - p) corrupt(i, "an array of " + ${n} + " elements runs past the payload");`);
      }
      e.push(`const ${out} = [];`);
      const outer = e.unguarded;
      e.unguarded = elementSize !== undefined;
      e.block(`for (let ${j} = 0; ${j} < ${n}; ${j}++) {`, () => e.push(`${out}.push(${decodeValue(e, t.element)});`));
      e.unguarded = outer;
      return out;
    }
  }
}
