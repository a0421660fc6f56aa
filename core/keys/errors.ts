// Errors for keys that cannot be encoded (KeyError) and encodings that cannot be decoded (KeyDecodeError).

const KEY_KINDS = 'a key must be a string, a number other than NaN, a bigint, a boolean, or an array of these';
const SHOWN_CHARS = 60;

/**
 * A value that cannot be a key. `path` locates it inside an array key ('key' for the key itself,
 * 'key[2][0]' deeper down) so a caller can prefix its own context (operator uid, subtask, record
 * position) and still say exactly which part of the key was wrong.
 */
export class KeyError extends Error {
  override readonly name = 'KeyError';
  /** Where the bad value sits: 'key', 'key[2]', 'key[2][0]'. */
  readonly path: string;
  /** The same location as array indexes from the outermost key: [] for the key itself, [2, 0] for key[2][0]. */
  readonly indexes: readonly number[];
  /** What the value was, in words: its type and, for objects, its class ('object (Date)'). */
  readonly valueType: string;

  constructor(value: unknown, indexes: readonly number[], why: string = KEY_KINDS) {
    const path = pathOf(indexes);
    const valueType = typeOf(value);
    super(`Invalid key at ${path}: got ${show(value)} (type ${valueType}); ${why}`);
    this.path = path;
    this.indexes = [...indexes];
    this.valueType = valueType;
  }
}

/** Bytes that are not a canonical key encoding: corrupt state, or bytes from another format. */
export class KeyDecodeError extends Error {
  override readonly name = 'KeyDecodeError';
  /** Byte offset of the first byte that could not be decoded. */
  readonly offset: number;

  constructor(message: string, offset: number) {
    super(`Cannot decode key at byte ${offset}: ${message}`);
    this.offset = offset;
  }
}

function pathOf(indexes: readonly number[]): string {
  let path = 'key';
  for (const i of indexes) path += `[${i}]`;
  return path;
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto === null || proto === Object.prototype) return 'object (plain object)';
  const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof name === 'string' && name !== '' ? `object (${name})` : 'object (class instance)';
}

// Never calls the value's own toString or toJSON: a bad key must not run user code while we explain it.
function show(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return clip(JSON.stringify(value));
    case 'bigint':
      return clip(`${value}n`);
    case 'function':
      return value.name ? `function ${value.name}` : 'an anonymous function';
    case 'symbol':
      return value.description === undefined ? 'Symbol()' : clip(`Symbol(${value.description})`);
    case 'object':
      return value === null ? 'null' : showObject(value);
    default:
      return String(value);
  }
}

function showObject(value: object): string {
  if (value instanceof Date) {
    return Number.isNaN(value.getTime()) ? 'Invalid Date' : `Date ${Date.prototype.toISOString.call(value)}`;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto === null || proto === Object.prototype) {
    const fields = Object.keys(value);
    return clip(`{${fields.join(', ')}}`);
  }
  return 'an instance';
}

function clip(text: string): string {
  return text.length <= SHOWN_CHARS ? text : `${text.slice(0, SHOWN_CHARS)}...`;
}
