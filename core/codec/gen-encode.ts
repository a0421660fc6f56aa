// Generates the source of a schema encoder from a type tree, so each record costs straight-line typeof checks and DataView writes.

import { Emitter, fixedSize, pathExpr } from './emitter.ts';
import type { Path } from './emitter.ts';
import { fieldStep } from './types.ts';
import type { TypeInfo } from './types.ts';

/** Integer kinds: the test that rejects anything else (strings, fractions, out of range), and the DataView setter. */
const INTEGERS = {
  int8: { test: (v: string) => `((${v} << 24) >> 24) !== ${v}`, range: 'from -128 to 127', bytes: 1, set: '' },
  uint8: { test: (v: string) => `(${v} & 0xff) !== ${v}`, range: 'from 0 to 255', bytes: 1, set: '' },
  int16: { test: (v: string) => `((${v} << 16) >> 16) !== ${v}`, range: 'from -32768 to 32767', bytes: 2, set: 'setInt16' },
  uint16: { test: (v: string) => `(${v} & 0xffff) !== ${v}`, range: 'from 0 to 65535', bytes: 2, set: 'setUint16' },
  int32: { test: (v: string) => `(${v} | 0) !== ${v}`, range: 'from -2147483648 to 2147483647', bytes: 4, set: 'setInt32' },
  uint32: { test: (v: string) => `(${v} >>> 0) !== ${v}`, range: 'from 0 to 4294967295', bytes: 4, set: 'setUint32' },
} as const;

/**
 * Body of `function (h)` returning `{ encode(records, start, end), encodeInto, encodeRecord }`
 * (encodeInto and encodeRecord undefined unless every record has the same size). The scratch buffer and
 * its DataView live in the closure; `grow` replaces both, which is why generated code reads
 * them from the closure rather than caching them in locals.
 */
export function encoderSource(type: TypeInfo, checked = true): string {
  const e = new Emitter((bytes) => `if (p + ${bytes} > u8.length) grow(p, p + ${bytes});`);
  const size = fixedSize(type);
  e.unguarded = size !== undefined;
  e.checked = checked;
  // The statements for one record `v`; the loops below take it from records[i].
  encodeValue(e, type, 'v', []);
  e.flush();
  // A fixed-size record never grows the buffer inside the loop: the buffer and its view are
  // then read into locals once, not from the closure at every write.
  const body = size === undefined ? e.source() : e.source().replace(/\bdv\./g, 'd.').replace(/\bu8\[/g, 'b[');
  // encodeInto: the same loop over a caller's bytes (a ring's reserved space), for fixed sizes.
  const into = size === undefined ? 'undefined' : `function encodeInto(records, start, end, b, d, p) {
  if (!(start >= 0 && start <= end && end <= records.length)) badRange(records, start, end);
  for (let i = start; i < end; i++) {
const v = records[i];
${body}
  }
}`;
  // encodeRecord: one record at a caller's offset, for writers that encode records as they come.
  const one = size === undefined ? 'undefined' : `function encodeRecord(v, b, d, p) {
  const i = 0;
${body}
}`;
  return `"use strict";
const fail = h.fail, writeString = h.writeString, badRange = h.badRange;
let u8 = new Uint8Array(h.initialBytes), dv = new DataView(u8.buffer);
function grow(p, need) {
  let size = u8.length * 2;
  while (size < need) size *= 2;
  const next = new Uint8Array(size);
  next.set(u8.subarray(0, p));
  u8 = next;
  dv = new DataView(next.buffer);
}
const encodeInto = ${into};
const encodeRecord = ${one};
return { encodeInto, encodeRecord, encode: function encode(records, start, end) {
  if (!(start >= 0 && start <= end && end <= records.length)) badRange(records, start, end);
  let p = 0;
  ${size === undefined ? '' : `if ((end - start) * ${size} > u8.length) grow(0, (end - start) * ${size});
  const b = u8, d = dv;`}
  for (let i = start; i < end; i++) {
const v = records[i];
${body}
  }
  return u8.subarray(0, p);
} };`;
}

function check(e: Emitter, failed: string, path: Path, expected: string, v: string): void {
  e.push(`if (${failed}) fail(i, ${pathExpr(path)}, ${JSON.stringify(expected)}, ${v});`);
}

/** The test that rejects a value at `v` for type `t` (before its parts), and what was expected: one place for both generators. */
function mismatch(t: TypeInfo, v: string): { failed: string; expected: string } | null {
  switch (t.kind) {
    case 'int8': case 'uint8': case 'int16': case 'uint16': case 'int32': case 'uint32': {
      const int = INTEGERS[t.kind];
      return { failed: int.test(v), expected: `${t.kind} (an integer ${int.range})` };
    }
    case 'float32': case 'float64': return { failed: `typeof ${v} !== "number"`, expected: `${t.kind} (a number)` };
    case 'bigint64': return {
      failed: `typeof ${v} !== "bigint" || ${v} < -0x8000000000000000n || ${v} > 0x7fffffffffffffffn`,
      expected: 'bigint64 (a bigint from -(2n ** 63n) to 2n ** 63n - 1n)',
    };
    case 'boolean': return { failed: `typeof ${v} !== "boolean"`, expected: 'boolean' };
    case 'string': return { failed: `typeof ${v} !== "string"`, expected: 'string' };
    case 'tuple': return { failed: `!Array.isArray(${v}) || ${v}.length !== ${t.elements.length}`, expected: `an array of ${t.elements.length} for ${t.descriptor}` };
    case 'row': return { failed: `typeof ${v} !== "object" || ${v} === null`, expected: `an object for ${t.descriptor}` };
    case 'array': return { failed: `!Array.isArray(${v})`, expected: `an array for ${t.descriptor}` };
    case 'nullable': return null;
  }
}

function checkOf(e: Emitter, t: TypeInfo, v: string, path: Path): void {
  if (!e.checked) return;
  const m = mismatch(t, v);
  if (m !== null) check(e, m.failed, path, m.expected, v);
}

/**
 * Body of `function (h)` returning `check(v)`: the encoder's tests alone, no bytes written,
 * for records emitted on edges that no encoder sees (chained operators).
 */
export function checkerSource(type: TypeInfo): string {
  const e = new Emitter(() => '');
  e.unguarded = true;
  checkValue(e, type, 'v', []);
  return `"use strict";
const fail = h.fail, i = 0;
return function check(v) {
${e.source()}
};`;
}

function checkValue(e: Emitter, t: TypeInfo, v: string, path: Path): void {
  checkOf(e, t, v, path);
  switch (t.kind) {
    case 'tuple':
      t.elements.forEach((element, index) => {
        const item = e.temp('t');
        e.push(`const ${item} = ${v}[${index}];`);
        checkValue(e, element, item, [...path, `[${index}]`]);
      });
      return;
    case 'row':
      for (const field of t.fields) {
        const item = e.temp('f');
        e.push(`const ${item} = ${v}[${JSON.stringify(field.name)}];`);
        checkValue(e, field.type, item, [...path, fieldStep(field.name)]);
      }
      return;
    case 'nullable':
      e.block(`if (${v} !== null && ${v} !== undefined) {`, () => checkValue(e, t.inner, v, path));
      return;
    case 'array': {
      const j = e.temp('j');
      e.block(`for (let ${j} = 0; ${j} < ${v}.length; ${j}++) {`, () => {
        const item = e.temp('a');
        e.push(`const ${item} = ${v}[${j}];`);
        checkValue(e, t.element, item, [...path, { index: j }]);
      });
      return;
    }
    default:
      return;
  }
}

function encodeValue(e: Emitter, t: TypeInfo, v: string, path: Path): void {
  switch (t.kind) {
    case 'int8': case 'uint8': case 'int16': case 'uint16': case 'int32': case 'uint32': {
      const int = INTEGERS[t.kind];
      checkOf(e, t, v, path);
      const at = e.fixed(int.bytes);
      e.push(int.bytes === 1 ? `u8[${at}] = ${v};` : `dv.${int.set}(${at}, ${v}, true);`);
      return;
    }
    case 'float32': case 'float64':
      checkOf(e, t, v, path);
      e.push(`dv.${t.kind === 'float32' ? 'setFloat32' : 'setFloat64'}(${e.fixed(t.kind === 'float32' ? 4 : 8)}, ${v}, true);`);
      return;
    case 'bigint64':
      checkOf(e, t, v, path);
      e.push(`dv.setBigInt64(${e.fixed(8)}, ${v}, true);`);
      return;
    case 'boolean':
      checkOf(e, t, v, path);
      e.push(`u8[${e.fixed(1)}] = ${v} ? 1 : 0;`);
      return;
    case 'string':
      checkOf(e, t, v, path);
      e.flush();
      e.push(`if (p + 4 + 3 * ${v}.length > u8.length) grow(p, p + 4 + 3 * ${v}.length);`);
      e.push(`p = writeString(u8, p, ${v});`);
      return;
    case 'tuple':
      checkOf(e, t, v, path);
      t.elements.forEach((element, index) => {
        const item = e.temp('t');
        e.push(`const ${item} = ${v}[${index}];`);
        encodeValue(e, element, item, [...path, `[${index}]`]);
      });
      return;
    case 'row':
      checkOf(e, t, v, path);
      for (const field of t.fields) {
        const item = e.temp('f');
        e.push(`const ${item} = ${v}[${JSON.stringify(field.name)}];`);
        encodeValue(e, field.type, item, [...path, fieldStep(field.name)]);
      }
      return;
    case 'nullable':
      // Tag 0 is null, 2 is undefined, 1 is a value; keeping null and undefined apart costs nothing more.
      e.block(`if (${v} === null) {`, () => e.push(`u8[${e.fixed(1)}] = 0;`));
      e.block(`else if (${v} === undefined) {`, () => e.push(`u8[${e.fixed(1)}] = 2;`));
      e.block('else {', () => {
        e.push(`u8[${e.fixed(1)}] = 1;`);
        encodeValue(e, t.inner, v, path);
      });
      return;
    case 'array': {
      checkOf(e, t, v, path);
      const n = e.temp('n');
      const j = e.temp('j');
      const elementSize = fixedSize(t.element);
      e.push(`const ${n} = ${v}.length;`);
      e.push(`dv.setUint32(${e.fixed(4)}, ${n}, true);`);
      e.flush();
      if (elementSize !== undefined) e.push(`if (p + ${n} * ${elementSize} > u8.length) grow(p, p + ${n} * ${elementSize});`);
      const outer = e.unguarded;
      e.unguarded = elementSize !== undefined;
      e.block(`for (let ${j} = 0; ${j} < ${n}; ${j}++) {`, () => {
        const item = e.temp('a');
        e.push(`const ${item} = ${v}[${j}];`);
        encodeValue(e, t.element, item, [...path, { index: j }]);
      });
      e.unguarded = outer;
      return;
    }
  }
}
