// The producing end of one network edge in one subtask: partitions records, batches them into frames, encodes.
import type { ChannelWriter, HeldFrame } from '../../core/channel/channel-writer.ts';
import { FrameBuffer, FrameQueue } from '../../core/checkpoint/channel-state.ts';
import type { PersistedChannel } from '../../core/checkpoint/channel-state.ts';
import { encodeBarrier, FrameKind, MAX_RECORDS_PER_FRAME, stampedPayload } from '../../core/channel/frames.ts';
import type { RecordTime } from '../../core/api/operator.ts';
import type { Codec } from '../../core/codec/codec.ts';
import { WeirError } from '../../core/errors.ts';
import { fresh } from './fresh.ts';
import { checkParallelism, flinkMurmurHash, operatorIndexForKeyGroup, SMALL_KEYS } from '../../core/keys/key-groups.ts';
import { keyHash, numberKeyHash } from '../../core/keys/hash.ts';
import type { Key } from '../../core/keys/encoding.ts';
import type { PartitionerKind } from '../../core/graph/stream-graph.ts';

export interface RecordWriterOptions {
  readonly partitioner: PartitionerKind;
  readonly keySelector: ((v: unknown) => unknown) | undefined;
  /** Key groups of the consuming operator; keyBy routes by key group. */
  readonly maxParallelism: number;
  /** Records per frame at most. */
  readonly batchSize: number;
  /** Bytes a frame is filled to (within each ring's room): records per frame follow from the records' size. */
  readonly frameBytes: number;
  /** First channel for round-robin, so that producers do not all start on consumer 0. */
  readonly start: number;
  readonly uid: string;
  readonly subtask: number;
  /** Event time flows on this edge: each record goes with the chain's current timestamp, in DATA_TS frames. */
  readonly time?: RecordTime;
}


/** Records per frame before the first frame of variable-size records has given their size. */
const INITIAL_PER_FRAME = 256;
/** Frames of at least this many records set the records per frame of variable-size records. */
const MEAN_OVER = 16;
/** Small integer keys whose channels are computed together, on the first miss of any of them (SMALL_KEYS is a multiple). */
const SMALL_KEY_BLOCK = 256;

export class RecordWriter {
  /** One per target channel; for keyBy, indexed by the consumer's subtask. */
  readonly channels: readonly ChannelWriter[];
  private readonly batches: unknown[][];
  /**
   * Records in channel i's batch so far. The batch array keeps its length between frames and is
   * written over from slot 0 (cut only when a frame comes out shorter than the one before): set
   * to length 0 after every frame, V8 freed its backing store and regrew it record by record
   * (GrowFastSmiOrObjectElements, 2.4% of the objects keyed job). A channel holds the records of
   * its last frame until the next one writes over them or is shorter (at most one frame's).
   */
  private readonly batched: Int32Array;
  /** Per channel, the timestamps of the batch's records (edges that carry event time). */
  private readonly stamps: number[][] | null;
  private readonly codec: Codec;
  private readonly o: RecordWriterOptions;
  private next: number;
  /** keyBy: the target channel of every key group, computed once instead of per record. */
  private readonly channelOfGroup: Int32Array;
  private readonly maxParallelism: number;
  /** keyBy on small non-negative integer keys (below SMALL_KEYS, as keyGroupCache): each key's channel, once hashed (-1: not yet). */
  private readonly channelOfSmallKey: Int16Array;
  /**
   * Fixed-size records on an edge without event time, routed to one channel each: encoded
   * as they are added into the channel's next frame (staging[i], `staged[i]` records so far),
   * not held as references until the frame is full and then encoded in a second pass. A
   * record is then dead once added, which lets V8 drop the chain's allocation of it; null
   * where records are batched as values.
   */
  private readonly staging: { readonly bytes: Uint8Array; readonly view: DataView }[] | null = null;
  private readonly staged: Int32Array;
  /**
   * Where channel i's open frame is written: its ring itself, at the payload offset `base[i]`
   * of a frame reserved there (published as it is when full, no copy), or staging[i] at 0
   * where the ring had no room for a whole frame or frames wait in overdraft.
   */
  private readonly target: { readonly bytes: Uint8Array; readonly view: DataView }[] = [];
  private readonly base: Int32Array;
  /** Per channel, the ring as a frame's target (its data bytes and a view of them). */
  private readonly inRing: { readonly bytes: Uint8Array; readonly view: DataView }[] = [];
  private readonly recordBytes: number;
  /** The bytes a frame is filled to: frameBytes within every ring's room. */
  private readonly frameRoom: number;
  /** The most records a frame takes: batchSize, within what a frame header can count. */
  private readonly mostPerFrame: number;
  private readonly encodeRecord: (record: unknown, target: Uint8Array, view: DataView, offset: number) => void;
  recordsOut = 0;
  /**
   * Records a frame takes before it is sent: frameBytes over the record size (a fixed-size
   * codec's, or for the others the last frame's mean, so it follows the records), at most
   * batchSize, at least one. Against a fixed 256 records: 1.16x on small msgpack objects,
   * 1.00x on 12-byte typed records (BENCHMARKS.md, frames sized by bytes).
   */
  perFrame: number;

  constructor(channels: readonly ChannelWriter[], codec: Codec, options: RecordWriterOptions) {
    this.channels = channels;
    this.batches = channels.map(() => []);
    this.batched = new Int32Array(channels.length);
    this.stamps = options.time === undefined ? null : channels.map(() => []);
    this.time = options.time ?? { value: NaN };
    this.codec = codec;
    this.o = options;
    this.next = options.start % channels.length;
    this.maxParallelism = options.maxParallelism;
    this.channelOfSmallKey = new Int16Array(options.partitioner === 'keyBy' ? SMALL_KEYS : 0).fill(-1);
    this.channelOfGroup = new Int32Array(options.partitioner === 'keyBy' ? options.maxParallelism : 0);
    this.recordBytes = codec.recordBytes ?? 0;
    this.encodeRecord = codec.encodeRecord ?? (() => {});
    this.mostPerFrame = Math.min(options.batchSize, MAX_RECORDS_PER_FRAME);
    // A frame fills at most half a ring, so that the producer writes one while the consumer reads another.
    this.frameRoom = Math.min(options.frameBytes, ...channels.map((ch) => Math.floor(ch.ring.maxPayload / 2)));
    this.perFrame = this.recordBytes > 0 ? this.recordsPerFrame(this.recordBytes) : Math.min(this.mostPerFrame, INITIAL_PER_FRAME);
    const frameBytes = this.perFrame * this.recordBytes;
    if (codec.encodeRecord !== undefined && this.stamps === null && options.partitioner !== 'broadcast'
      && channels.every((ch) => frameBytes <= ch.ring.maxPayload)) {
      this.staging = channels.map(() => {
        const bytes = new Uint8Array(frameBytes);
        return { bytes, view: new DataView(bytes.buffer) };
      });
    }
    this.staged = new Int32Array(this.staging === null ? 0 : channels.length);
    this.base = new Int32Array(this.staged.length);
    if (this.staging !== null) {
      this.target = [...this.staging];
      this.inRing = channels.map((ch) => ({ bytes: ch.ring.data, view: ch.dataView }));
    }
    const encoded = this.staging !== null;
    // Called as w.add(v). Where a record meets a function of the job's own (its key selector,
    // its codec's encoder), add is compiled for this writer alone (compiledAdd); the others
    // call nothing of the job's and stay methods shared by every writer.
    switch (options.partitioner) {
      case 'forward': this.add = encoded ? this.compiledAdd('forward', true) : this.addForward; break;
      case 'keyBy': this.add = this.compiledAdd('keyBy', encoded); break;
      case 'broadcast': this.add = this.addBroadcast; break;
      default: this.add = encoded ? this.compiledAdd('roundRobin', true) : this.addRoundRobin;
    }
    if (options.partitioner === 'keyBy') {
      checkParallelism(options.maxParallelism, channels.length);
      for (let kg = 0; kg < options.maxParallelism; kg++) {
        this.channelOfGroup[kg] = operatorIndexForKeyGroup(options.maxParallelism, channels.length, kg);
      }
    }
  }

  /** Records are encoded as they are added (fixed-size records, not broadcast): none is held after add returns. */
  get encodesOnAdd(): boolean {
    return this.staging !== null;
  }

  get codecDescriptor(): string {
    return this.codec.descriptor;
  }

  /** Routes a record to its channel's batch; chosen once per writer by partitioner, not per record. Call it as writer.add(v). */
  readonly add: (this: RecordWriter, record: unknown) => void;

  private addForward(record: unknown): void {
    this.recordsOut++;
    this.push(0, record);
  }

  private addBroadcast(record: unknown): void {
    this.recordsOut++;
    for (let i = 0; i < this.batches.length; i++) this.push(i, record);
  }

  private addRoundRobin(record: unknown): void {
    this.recordsOut++;
    const i = this.next;
    this.next = i + 1 === this.batches.length ? 0 : i + 1;
    this.push(i, record);
  }

  /**
   * This writer's add, compiled from source of its own (fresh), for the partitioners whose
   * records meet the job's functions: the key selector, and the encoder of records encoded as
   * added. As methods of the class, those calls were shared by every writer of the worker and
   * by every job its warm slots ran: from a worker's second job on, its key selector was a
   * call per record from the source's loop, no longer inlined (BENCHMARKS.md, warm slots).
   * Compiled per writer, each call site sees the one function it calls.
   *
   * The rare paths (a new small key's block, a hashed key, errors, a frame to open or send)
   * stay calls of methods: V8 inlines a call chain up to a budget of bytecode that counts cold
   * code too, and the chain from a source's loop through map, the type check and this writer
   * ran past it.
   */
  private compiledAdd(partitioner: 'forward' | 'keyBy' | 'roundRobin', encoded: boolean): (record: unknown) => void {
    const channels = this.channels.length;
    const route = partitioner === 'forward' ? 'const i = 0;'
      : partitioner === 'roundRobin' ? `const i = w.next; w.next = i + 1 === ${channels} ? 0 : i + 1;`
        : `let key;
  try { key = keySelector(record); } catch (err) { throw w.keyFailed(record, err); }
  let i;
  if (typeof key === 'number' && (key >>> 0) === key && key < ${SMALL_KEYS}) { const c = small[key]; i = c >= 0 ? c : w.fillSmallKeys(key); }
  else i = w.channelOfHashedKey(record, key);`;
    // Staged: the record is written into channel i's open frame at once (openFrame says where).
    const write = encoded
      ? `const n = staged[i];
  if (n === 0) w.openFrame(i);
  const s = target[i];
  try { encodeRecord(record, s.bytes, s.view, base[i] + n * ${this.recordBytes}); } catch (err) { throw w.encodeFailed(err); }
  if ((staged[i] = n + 1) >= w.perFrame) w.flushStaged(i);`
      : 'w.push(i, record);';
    return fresh<(record: unknown) => void>(['w', 'keySelector', 'small', 'encodeRecord', 'staged', 'target', 'base'],
      `return function add(record) {
  w.recordsOut++;
  ${route}
  ${write}
};`, this, this.o.keySelector, this.channelOfSmallKey, this.encodeRecord, this.staged, this.target, this.base);
  }

  /** A key that is not a small integer: hashed, every time. */
  channelOfHashedKey(record: unknown, key: Key): number {
    let hash: number;
    try {
      hash = typeof key === 'number' ? numberKeyHash(key) : keyHash(key);
    } catch (err) {
      throw this.keyFailed(record, err);
    }
    return this.channelOfGroup[flinkMurmurHash(hash) % this.maxParallelism]!;
  }

  /**
   * Fills the channels of small key `key`'s whole block of SMALL_KEY_BLOCK keys and returns its
   * own, so that a miss stays rare: V8 inlines calls by how often they ran while it compiled,
   * and with one miss per new key the hashing was inlined into the source's chain and
   * the key's routing itself was left as a call per record (BENCHMARKS.md, re-run at 66e74a9).
   */
  fillSmallKeys(key: number): number {
    const from = key - (key % SMALL_KEY_BLOCK);
    for (let k = from; k < from + SMALL_KEY_BLOCK; k++) {
      this.channelOfSmallKey[k] = this.channelOfGroup[flinkMurmurHash(numberKeyHash(k)) % this.maxParallelism]!;
    }
    return this.channelOfSmallKey[key]!;
  }

  keyFailed(record: unknown, err: unknown): WeirError {
    return new WeirError(`keyBy could not key record ${preview(record)}: ${(err as Error).message}`,
      { uid: this.o.uid, subtask: this.o.subtask, cause: err });
  }

  private readonly time: RecordTime;

  push(i: number, record: unknown): void {
    const n = this.batched[i]!;
    this.batches[i]![n] = record;
    if (this.stamps !== null) this.stamps[i]![n] = this.time.value;
    if ((this.batched[i] = n + 1) >= this.perFrame) this.flushChannel(i);
  }

  /**
   * Channel i's next frame goes straight into its ring where a whole frame fits there and no
   * frame waits in overdraft (order), else into staging[i], copied when it is sent. Nothing
   * else is written to that ring while the frame is open: every other write on this writer
   * flushes first.
   */
  openFrame(i: number): void {
    const ch = this.channels[i]!;
    const at = ch.hasOverdraft ? -1 : ch.ring.reserve(this.perFrame * this.recordBytes);
    if (at >= 0) {
      this.target[i] = this.inRing[i]!;
      this.base[i] = at;
    } else {
      this.target[i] = this.staging![i]!;
      this.base[i] = 0;
    }
  }

  encodeFailed(err: unknown): WeirError {
    return new WeirError(`could not encode a record for the next operator: ${(err as Error).message}`,
      { uid: this.o.uid, subtask: this.o.subtask, cause: err });
  }

  /** The open frame is published where it was written in the ring, or copied in from staging (or into the overdraft behind what is held there). */
  flushStaged(i: number): void {
    const n = this.staged[i]!;
    if (n === 0) return;
    this.staged[i] = 0;
    if (this.target[i] === this.inRing[i]) this.channels[i]!.ring.publish(FrameKind.DATA, n, n * this.recordBytes);
    else this.channels[i]!.write(FrameKind.DATA, n, this.staging![i]!.bytes.subarray(0, n * this.recordBytes));
  }

  private flushChannel(i: number): void {
    if (this.staging !== null) {
      this.flushStaged(i);
      return;
    }
    const n = this.batched[i]!;
    if (n === 0) return;
    const batch = this.batches[i]!;
    const stamps = this.stamps?.[i];
    // A frame shorter than the last: the arrays are cut to it, so that they hold no records of an earlier frame
    // (and the codec can take the array whole).
    if (batch.length !== n) {
      batch.length = n;
      if (stamps !== undefined) stamps.length = n;
    }
    const bytes = this.writeRange(this.channels[i]!, batch, 0, n, stamps);
    // The records' mean size so far sets the next frames' count (a few records say little).
    if (n >= MEAN_OVER && this.recordBytes === 0) this.perFrame = this.recordsPerFrame(bytes / n);
    this.batched[i] = 0;
  }

  /** Records of `bytesPerRecord` that fill a frame: at least one, at most mostPerFrame. */
  private recordsPerFrame(bytesPerRecord: number): number {
    return Math.max(1, Math.min(this.mostPerFrame, Math.floor(this.frameRoom / bytesPerRecord)));
  }

  /** A batch whose encoding does not fit in the ring is split until it does; returns the payload bytes written. */
  private writeRange(ch: ChannelWriter, batch: unknown[], start: number, end: number, stamps?: number[]): number {
    let payload: Uint8Array;
    try {
      if (stamps === undefined && this.codec.recordBytes !== undefined && ch.tryWriteRecords(this.codec, batch, start, end)) {
        return (end - start) * this.codec.recordBytes;
      }
      payload = this.codec.encode(batch, start, end);
      if (stamps !== undefined) payload = stampedPayload(stamps, start, end, payload);
    } catch (err) {
      throw new WeirError(`could not encode a record for the next operator: ${(err as Error).message}`,
        { uid: this.o.uid, subtask: this.o.subtask, cause: err });
    }
    if (payload.byteLength > ch.ring.maxPayload) {
      if (end - start === 1) {
        throw new WeirError(`a record of ${payload.byteLength} encoded bytes does not fit in a ring of `
          + `${ch.ring.capacity} bytes; raise the ringCapacity option`, { uid: this.o.uid, subtask: this.o.subtask });
      }
      const mid = (start + end) >>> 1;
      return this.writeRange(ch, batch, start, mid, stamps) + this.writeRange(ch, batch, mid, end, stamps);
    }
    ch.write(stamps === undefined ? FrameKind.DATA : FrameKind.DATA_TS, end - start, payload);
    return payload.byteLength;
  }

  flush(): void {
    for (let i = 0; i < this.batches.length; i++) this.flushChannel(i);
  }

  /** Sends a control frame (watermark, end of partition) on every channel, after the records before it. */
  broadcastFrame(kind: number, payload: Uint8Array): void {
    this.flush();
    for (const ch of this.channels) ch.write(kind, 0, payload);
  }

  /**
   * Sends barrier `id` on every channel after the records before it. Aligned barriers queue
   * behind any overdraft: order is what alignment relies on. Unaligned ones overtake it, and
   * what each overtook is returned as that channel's output-side state.
   */
  broadcastBarrier(id: number, timestamp: number, unaligned = false): PersistedChannel[] {
    this.flush();
    const payload = encodeBarrier({ checkpointId: id, unaligned, timestamp });
    if (!unaligned) {
      for (const ch of this.channels) ch.writeBarrier(FrameKind.BARRIER, id, false, payload);
      return [];
    }
    const out: PersistedChannel[] = [];
    for (const ch of this.channels) this.persist(out, ch, ch.writePriorityBarrier(id, timestamp, payload));
    return out;
  }

  /** The aligned timeout expired: barrier `id`, where still held in an overdraft, moves ahead as unaligned. */
  promoteBarrier(id: number, timestamp: number): PersistedChannel[] {
    this.flush();
    const payload = encodeBarrier({ checkpointId: id, unaligned: true, timestamp });
    const out: PersistedChannel[] = [];
    for (const ch of this.channels) this.persist(out, ch, ch.promoteBarrier(id, timestamp, payload) ?? []);
    return out;
  }

  holdsBarrier(id: number): boolean {
    for (const ch of this.channels) if (ch.holdsBarrier(id)) return true;
    return false;
  }

  private persist(out: PersistedChannel[], ch: ChannelWriter, frames: readonly HeldFrame[]): void {
    const buf = new FrameBuffer();
    for (const f of frames) buf.appendFrame(f.kind, f.count, f.payload);
    if (buf.byteLength > 0) out.push({ channel: ch.key, codec: this.codec.descriptor, skip: 0, frames: buf.bytes() });
  }

  /** Recovery: the frames this producer's barrier had overtaken go out first, before any new output. */
  replay(channel: string, frames: Uint8Array): boolean {
    const ch = this.channels.find((c) => c.key === channel);
    if (ch === undefined) return false;
    const q = new FrameQueue(frames);
    for (; q.next(); q.consume()) ch.write(q.kind, q.count, q.payload());
    return true;
  }

  hasOverdraft(): boolean {
    for (const ch of this.channels) if (ch.hasOverdraft) return true;
    return false;
  }

  /** True when every channel's overdraft is empty. */
  drain(): boolean {
    let empty = true;
    for (const ch of this.channels) if (ch.hasOverdraft && !ch.drain()) empty = false;
    return empty;
  }

  peakOverdraftBytes(): number {
    let peak = 0;
    for (const ch of this.channels) peak = Math.max(peak, ch.peakBytes);
    return peak;
  }
}

function preview(v: unknown): string {
  try {
    const s = JSON.stringify(v);
    return s === undefined ? String(v) : s.length > 80 ? `${s.slice(0, 77)}...` : s;
  } catch {
    return String(v);
  }
}
