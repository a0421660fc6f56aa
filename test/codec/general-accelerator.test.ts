// The general codec's native string extractor loads once a thread has decoded enough, not at import; records decode alike before and after.
// Its own file: ava runs each file in a process of its own, and this one must start with msgpackr's pure-JS build alone.

import { deepStrictEqual } from 'node:assert/strict';
import { createRequire } from 'node:module';
import test from 'ava';
import { ACCELERATE_AFTER_BYTES, generalCodec, stringAccelerator } from '../../core/codec/general.ts';
import { decodeAll, inSharedMemory } from './helpers.ts';

/** The live flag of the unpack module every Unpackr of this process uses (not in msgpackr's typings). */
const pure = (await import('msgpackr/unpack')) as unknown as { isNativeAccelerationEnabled: boolean };
const addonInstalled = (() => {
  try {
    createRequire(import.meta.url).resolve('msgpackr-extract');
    return true;
  } catch {
    return false;
  }
})();

test('the string extractor loads only after ACCELERATE_AFTER_BYTES decoded, between frames, and decoding is the same either way', async (t) => {
  const codec = generalCodec();
  const records = Array.from({ length: 1000 }, (_, i) => ({ user: `user-${i % 97}`, note: 'é'.repeat(i % 40), n: i }));
  const payload = inSharedMemory(codec.encode(records, 0, records.length));
  t.true(payload.length < ACCELERATE_AFTER_BYTES / 4);
  const before = decodeAll(codec, payload, records.length);
  deepStrictEqual(before, records);
  t.is(stringAccelerator(), null, 'one small frame does not load the addon');
  t.false(pure.isNativeAccelerationEnabled, 'importing weir\'s codec does not load the addon');

  let decoded = payload.length;
  while (decoded < ACCELERATE_AFTER_BYTES) {
    deepStrictEqual(decodeAll(codec, payload, records.length), records);
    decoded += payload.length;
  }
  const loading = stringAccelerator();
  t.not(loading, null);
  // The import completes after the decode that started it, never inside one.
  t.false(pure.isNativeAccelerationEnabled);
  await loading;
  t.is(pure.isNativeAccelerationEnabled, addonInstalled);
  deepStrictEqual(decodeAll(codec, payload, records.length), records);
  t.is(stringAccelerator(), loading, 'it is loaded once');
});
