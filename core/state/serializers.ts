// Value serializers for state tables: a record codec used for one value at a time.
import { copyBytes } from '../bytes.ts';
import type { Codec } from '../codec/codec.ts';
import { GENERAL_DESCRIPTOR, generalCodec } from '../codec/general.ts';
import { parseTypeDescriptor } from '../codec/parse-type.ts';
import { codecFor } from '../codec/schema.ts';
import type { TypeInfo } from '../codec/types.ts';
import type { ValueSerializer } from './backend.ts';

function fromCodec(codec: Codec): ValueSerializer {
  const one: unknown[] = [undefined];
  let out: unknown;
  const take = (v: unknown) => { out = v; };
  // The codec's result is a view of its scratch buffer.
  const view = (value: unknown) => {
    one[0] = value;
    try {
      return codec.encode(one, 0, 1);
    } finally {
      one[0] = undefined;
    }
  };
  return {
    descriptor: codec.descriptor,
    serialize: (value) => copyBytes(view(value)),
    serializeView: view,
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

/**
 * The TTL envelope: a value with TTL is stored as `[writtenAt, value]`, serialized as the
 * write time (float64, little-endian) followed by the value's own bytes, so a declared
 * value type keeps its schema codec and the format is the same whatever the codec.
 */
export function ttlSerializer(inner: ValueSerializer): ValueSerializer {
  return {
    descriptor: `ttl(${inner.descriptor})`,
    serialize(stored) {
      const [at, value] = stored as [number, unknown];
      const bytes = inner.serialize(value);
      const out = new Uint8Array(8 + bytes.byteLength);
      new DataView(out.buffer).setFloat64(0, at, true);
      out.set(bytes, 8);
      return out;
    },
    deserialize(bytes) {
      const at = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getFloat64(0, true);
      return [at, inner.deserialize(bytes.subarray(8))];
    },
  };
}

/**
 * The serializer a descriptor names (what `descriptor` of serializerFor or ttlSerializer
 * gives): state written by one backend is read by another through it.
 */
export function serializerFromDescriptor(descriptor: string): ValueSerializer {
  const ttl = /^ttl\((.*)\)$/.exec(descriptor);
  if (ttl !== null) return ttlSerializer(serializerFromDescriptor(ttl[1]!));
  if (descriptor === GENERAL_DESCRIPTOR) return serializerFor(undefined);
  if (descriptor.startsWith('schema:')) return serializerFor(parseTypeDescriptor(descriptor.slice('schema:'.length)));
  throw new SyntaxError(`unknown state serializer ${JSON.stringify(descriptor)}`);
}
