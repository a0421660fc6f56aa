// Types: declared record types (Flink's TypeInformation) that select a schema codec, and their descriptors.

export type PrimitiveKind =
  | 'int8' | 'int16' | 'int32' | 'uint8' | 'uint16' | 'uint32'
  | 'float32' | 'float64' | 'bigint64' | 'boolean' | 'string';

interface TypeBase<T> {
  /** Canonical text of the type, e.g. `tuple<int32,float64>`; equal descriptors mean equal wire formats. */
  readonly descriptor: string;
  /** Phantom: never set at run time; carries the record type for `codecFor` and `.returns`. */
  readonly _record?: T;
}
export interface PrimitiveType<T = unknown> extends TypeBase<T> { readonly kind: PrimitiveKind }
export interface TupleType<T = unknown> extends TypeBase<T> { readonly kind: 'tuple'; readonly elements: readonly TypeInfo[] }
export interface RowType<T = unknown> extends TypeBase<T> { readonly kind: 'row'; readonly fields: readonly RowField[] }
export interface NullableType<T = unknown> extends TypeBase<T> { readonly kind: 'nullable'; readonly inner: TypeInfo }
export interface ArrayType<T = unknown> extends TypeBase<T> { readonly kind: 'array'; readonly element: TypeInfo }
export interface RowField { readonly name: string; readonly type: TypeInfo }

export type TypeInfo<T = unknown> = PrimitiveType<T> | TupleType<T> | RowType<T> | NullableType<T> | ArrayType<T>;

/** The JavaScript type of the records a TypeInfo describes. */
export type RecordOf<I> = I extends { readonly _record?: infer T } ? T : never;

const KINDS = new Set(['int8', 'int16', 'int32', 'uint8', 'uint16', 'uint32', 'float32', 'float64', 'bigint64',
  'boolean', 'string', 'tuple', 'row', 'nullable', 'array']);

export function isTypeInfo(value: unknown): value is TypeInfo {
  return typeof value === 'object' && value !== null && KINDS.has((value as TypeInfo).kind) &&
    typeof (value as TypeInfo).descriptor === 'string';
}

function primitive<T>(kind: PrimitiveKind): PrimitiveType<T> {
  return Object.freeze({ kind, descriptor: kind });
}

function checkType(value: unknown, where: string): TypeInfo {
  if (!isTypeInfo(value)) throw new TypeError(`${where} must be a type from Types, got ${String(value)}`);
  return value;
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** A field name as it appears in descriptors and error paths: bare when it is an identifier, else JSON-quoted. */
export function fieldLabel(name: string): string {
  return IDENTIFIER.test(name) ? name : JSON.stringify(name);
}

/** The path step that reaches a field, e.g. `.amount` or `["unit price"]`. */
export function fieldStep(name: string): string {
  return IDENTIFIER.test(name) ? `.${name}` : `[${JSON.stringify(name)}]`;
}

/**
 * Declared record types. INT and UINT types hold JS numbers that are integers in range;
 * FLOAT32 holds numbers rounded as Math.fround rounds them; BIGINT64 holds signed 64-bit
 * bigints. NULLABLE admits null and undefined and keeps which one it was (a missing ROW
 * field reads as undefined). ROW fields are encoded in declared order (the order
 * Object.keys gives: integer-like names first); fields the type does not declare are not
 * encoded. TUPLE and ARRAY records decode as fresh JS arrays
 * (typed readonly for TUPLE, so that `[a, b] as const` fits).
 */
export const Types = Object.freeze({
  INT8: primitive<number>('int8'),
  INT16: primitive<number>('int16'),
  INT32: primitive<number>('int32'),
  UINT8: primitive<number>('uint8'),
  UINT16: primitive<number>('uint16'),
  UINT32: primitive<number>('uint32'),
  FLOAT32: primitive<number>('float32'),
  FLOAT64: primitive<number>('float64'),
  BIGINT64: primitive<bigint>('bigint64'),
  BOOLEAN: primitive<boolean>('boolean'),
  STRING: primitive<string>('string'),

  TUPLE<const E extends readonly TypeInfo[]>(...elements: E): TupleType<{ readonly [K in keyof E]: RecordOf<E[K]> }> {
    const checked = elements.map((e, i) => checkType(e, `TUPLE element ${i}`));
    return Object.freeze({
      kind: 'tuple', elements: Object.freeze(checked),
      descriptor: `tuple<${checked.map((e) => e.descriptor).join(',')}>`,
    });
  },

  ROW<F extends Readonly<Record<string, TypeInfo>>>(fields: F): RowType<{ [K in keyof F]: RecordOf<F[K]> }> {
    if (typeof fields !== 'object' || fields === null) throw new TypeError(`ROW needs an object of field types, got ${String(fields)}`);
    const list = Object.keys(fields).map((name): RowField => {
      // Decoding builds each row as an object literal, where a "__proto__" key would set the prototype instead.
      if (name === '__proto__') throw new TypeError('ROW field name "__proto__" is not supported');
      return Object.freeze({ name, type: checkType(fields[name], `ROW field ${fieldLabel(name)}`) });
    });
    return Object.freeze({
      kind: 'row', fields: Object.freeze(list),
      descriptor: `row<${list.map((f) => `${fieldLabel(f.name)}:${f.type.descriptor}`).join(',')}>`,
    });
  },

  NULLABLE<T>(inner: TypeInfo<T>): NullableType<T | null | undefined> {
    const checked = checkType(inner, 'NULLABLE type');
    if (checked.kind === 'nullable') return checked as NullableType<T | null | undefined>;
    return Object.freeze({ kind: 'nullable', inner: checked, descriptor: `nullable<${checked.descriptor}>` });
  },

  ARRAY<T>(element: TypeInfo<T>): ArrayType<T[]> {
    const checked = checkType(element, 'ARRAY element type');
    return Object.freeze({ kind: 'array', element: checked, descriptor: `array<${checked.descriptor}>` });
  },
});
