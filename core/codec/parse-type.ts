// Reads a type descriptor (`tuple<int32,float64>`, `row<user:int32,"unit price":float64>`) back into its TypeInfo.
import { Types } from './types.ts';
import type { PrimitiveKind, TypeInfo } from './types.ts';

const PRIMITIVES: Readonly<Record<string, TypeInfo>> = {
  int8: Types.INT8, int16: Types.INT16, int32: Types.INT32, uint8: Types.UINT8, uint16: Types.UINT16, uint32: Types.UINT32,
  float32: Types.FLOAT32, float64: Types.FLOAT64, bigint64: Types.BIGINT64, boolean: Types.BOOLEAN, string: Types.STRING,
} satisfies Record<PrimitiveKind, TypeInfo>;

/**
 * The TypeInfo whose descriptor is `text`: a savepoint names each state's value codec by its
 * descriptor, and restoring into another backend decodes with it. Only what Types builds is
 * accepted; the result's descriptor equals `text` (checked), so nothing is guessed.
 */
export function parseTypeDescriptor(text: string): TypeInfo {
  let at = 0;
  const fail = (why: string): never => { throw new SyntaxError(`type descriptor ${JSON.stringify(text)}: ${why} at offset ${at}`); };
  const word = (): string => {
    const m = /^[a-z0-9]+/.exec(text.slice(at));
    if (m === null) return fail('a type name is expected');
    at += m[0].length;
    return m[0];
  };
  const expect = (c: string) => { if (text[at] !== c) fail(`'${c}' is expected`); at++; };
  const fieldName = (): string => {
    if (text[at] === '"') {
      // A JSON string: find its closing quote, honouring escapes.
      let end = at + 1;
      while (end < text.length && text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      if (end >= text.length) fail('an unterminated field name');
      const name = JSON.parse(text.slice(at, end + 1)) as string;
      at = end + 1;
      return name;
    }
    const m = /^[A-Za-z_$][\w$]*/.exec(text.slice(at));
    if (m === null) return fail('a field name is expected');
    at += m[0].length;
    return m[0];
  };
  const list = <T>(item: () => T): T[] => {
    expect('<');
    // tuple<> and row<> are types too (no elements, no fields).
    if (text[at] === '>') { at++; return []; }
    const items = [item()];
    while (text[at] === ',') { at++; items.push(item()); }
    expect('>');
    return items;
  };
  const type = (): TypeInfo => {
    const name = word();
    const p = PRIMITIVES[name];
    if (p !== undefined) return p;
    switch (name) {
      case 'tuple': return Types.TUPLE(...list(type));
      case 'nullable': return Types.NULLABLE(list(type)[0]!);
      case 'array': return Types.ARRAY(list(type)[0]!);
      case 'row': {
        const fields: Record<string, TypeInfo> = Object.create(null) as Record<string, TypeInfo>;
        for (const [n, t] of list(() => { const n = fieldName(); expect(':'); return [n, type()] as const; })) {
          if (n in fields) fail(`field ${JSON.stringify(n)} twice`);
          fields[n] = t;
        }
        return Types.ROW(fields);
      }
      default: return fail(`unknown type '${name}'`);
    }
  };
  const t = type();
  if (at !== text.length) fail('unexpected text after the type');
  if (t.descriptor !== text) fail(`it reads back as ${t.descriptor}`);
  return t;
}
