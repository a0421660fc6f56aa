// Finding -0 inside arbitrary values, and copying a value with a marker in its place, for the general codec.

/** Stands for -0 while msgpackr packs a record; the general codec registers how it is written and read. */
export class NegativeZero {}
const MARKER = new NegativeZero();

/** Objects msgpackr writes from their own properties; anything else (Date, typed arrays, toJSON) is written whole. */
function isWalked(value: object): boolean {
  return !ArrayBuffer.isView(value) && typeof (value as { toJSON?: unknown }).toJSON !== 'function';
}

/** Whether -0 occurs anywhere in value; throws RangeError below `depth` levels of nesting (a cycle, most likely). */
export function containsNegativeZero(value: unknown, depth: number): boolean {
  if (typeof value === 'number') return value === 0 && 1 / value < 0;
  if (typeof value !== 'object' || value === null) return false;
  if (depth === 0) throw new RangeError('too deep');
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto === Object.prototype || proto === null) {
    if (!plainForInSeesOwnOnly()) return keysContain(value, depth);
    for (const key in value) {
      const v = (value as Record<string, unknown>)[key];
      if (typeof v === 'number') {
        if (v === 0 && 1 / v < 0) return true;
      } else if (typeof v === 'object' && v !== null && containsNegativeZero(v, depth - 1)) {
        return true;
      }
    }
    return false;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (containsNegativeZero(value[i], depth - 1)) return true;
    return false;
  }
  if (value instanceof Map) {
    for (const [k, v] of value) if (containsNegativeZero(k, depth - 1) || containsNegativeZero(v, depth - 1)) return true;
    return false;
  }
  if (value instanceof Set) {
    for (const v of value) if (containsNegativeZero(v, depth - 1)) return true;
    return false;
  }
  return isWalked(value) && keysContain(value, depth);
}

/** for-in over a plain object sees its own keys only while nobody has added an enumerable property to Object.prototype. */
function plainForInSeesOwnOnly(): boolean {
  for (const _ in {}) return false;
  return true;
}

function keysContain(value: object, depth: number): boolean {
  for (const key in value) {
    if (Object.hasOwn(value, key) && containsNegativeZero((value as Record<string, unknown>)[key], depth - 1)) return true;
  }
  return false;
}

/** A copy of value, deep where needed, with every -0 replaced by the marker; the caller's value is left as it was. */
export function withNegativeZeroMarked(value: unknown): unknown {
  if (typeof value === 'number') return value === 0 && 1 / value < 0 ? MARKER : value;
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map(withNegativeZeroMarked);
  if (value instanceof Map) {
    return new Map([...value].map(([k, v]) => [withNegativeZeroMarked(k), withNegativeZeroMarked(v)]));
  }
  if (value instanceof Set) return new Set([...value].map(withNegativeZeroMarked));
  if (!isWalked(value)) return value;
  const copy: Record<string, unknown> = {};
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    const marked = withNegativeZeroMarked((value as Record<string, unknown>)[key]);
    // Plain assignment of "__proto__" would set the copy's prototype instead of a property.
    Object.defineProperty(copy, key, { value: marked, enumerable: true, writable: true, configurable: true });
  }
  return copy;
}
