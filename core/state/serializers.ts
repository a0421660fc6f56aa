// Value serializers for state tables: a record codec used for one value at a time.
import type { Codec } from '../codec/codec.ts';
import { generalCodec } from '../codec/general.ts';
import { codecFor } from '../codec/schema.ts';
import type { TypeInfo } from '../codec/types.ts';
import type { ValueSerializer } from './backend.ts';

function fromCodec(codec: Codec): ValueSerializer {
  const one: unknown[] = [undefined];
  let out: unknown;
  const take = (v: unknown) => { out = v; };
  return {
    descriptor: codec.descriptor,
    serialize(value) {
      one[0] = value;
      // The codec's result is a view of its scratch buffer: the caller keeps a copy. Not
      // `.slice()`: on a Buffer (msgpackr returns one) that is a view too.
      return Uint8Array.prototype.slice.call(codec.encode(one, 0, 1));
    },
    deserialize(bytes) {
      codec.decode(bytes, 1, take);
      const v = out;
      out = undefined;
      return v;
    },
  };
}

/** The general codec (msgpackr), or the schema codec of a declared type. */
export function serializerFor(type: TypeInfo | undefined): ValueSerializer {
  return fromCodec(type === undefined ? generalCodec() : (codecFor(type) as Codec));
}
