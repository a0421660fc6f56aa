// The producing end of one network edge in one subtask: partitions records, batches them into frames, encodes.
import type { ChannelWriter } from '../../core/channel/channel-writer.ts';
import { FrameKind } from '../../core/channel/frames.ts';
import type { Codec } from '../../core/codec/codec.ts';
import { WeirError } from '../../core/errors.ts';
import { keyGroupForHash, operatorIndexForKeyGroup } from '../../core/keys/key-groups.ts';
import { keyHash } from '../../core/keys/hash.ts';
import type { Key } from '../../core/keys/encoding.ts';
import type { PartitionerKind } from '../../core/graph/stream-graph.ts';

export interface RecordWriterOptions {
  readonly partitioner: PartitionerKind;
  readonly keySelector: ((v: unknown) => unknown) | undefined;
  /** Key groups of the consuming operator; keyBy routes by key group. */
  readonly maxParallelism: number;
  readonly batchSize: number;
  /** First channel for round-robin, so that producers do not all start on consumer 0. */
  readonly start: number;
  readonly uid: string;
  readonly subtask: number;
}

export class RecordWriter {
  /** One per target channel; for keyBy, indexed by the consumer's subtask. */
  readonly channels: readonly ChannelWriter[];
  private readonly batches: unknown[][];
  private readonly codec: Codec;
  private readonly o: RecordWriterOptions;
  private next: number;
  recordsOut = 0;

  constructor(channels: readonly ChannelWriter[], codec: Codec, options: RecordWriterOptions) {
    this.channels = channels;
    this.batches = channels.map(() => []);
    this.codec = codec;
    this.o = options;
    this.next = options.start % channels.length;
  }

  add(record: unknown): void {
    this.recordsOut++;
    const o = this.o;
    switch (o.partitioner) {
      case 'forward':
        this.push(0, record);
        return;
      case 'keyBy':
        this.push(this.channelOfKey(record), record);
        return;
      case 'broadcast':
        for (let i = 0; i < this.batches.length; i++) this.push(i, record);
        return;
      default: {
        const i = this.next;
        this.next = i + 1 === this.batches.length ? 0 : i + 1;
        this.push(i, record);
      }
    }
  }

  private channelOfKey(record: unknown): number {
    let hash: number;
    try {
      hash = keyHash(this.o.keySelector!(record) as Key);
    } catch (err) {
      throw new WeirError(`keyBy could not key record ${preview(record)}: ${(err as Error).message}`,
        { uid: this.o.uid, subtask: this.o.subtask, cause: err });
    }
    const kg = keyGroupForHash(hash, this.o.maxParallelism);
    return operatorIndexForKeyGroup(this.o.maxParallelism, this.channels.length, kg);
  }

  private push(i: number, record: unknown): void {
    const batch = this.batches[i]!;
    batch.push(record);
    if (batch.length >= this.o.batchSize) this.flushChannel(i);
  }

  private flushChannel(i: number): void {
    const batch = this.batches[i]!;
    if (batch.length === 0) return;
    this.writeRange(this.channels[i]!, batch, 0, batch.length);
    batch.length = 0;
  }

  /** A batch whose encoding does not fit in the ring is split until it does. */
  private writeRange(ch: ChannelWriter, batch: unknown[], start: number, end: number): void {
    let payload: Uint8Array;
    try {
      payload = this.codec.encode(batch, start, end);
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
      this.writeRange(ch, batch, start, mid);
      this.writeRange(ch, batch, mid, end);
      return;
    }
    ch.write(FrameKind.DATA, end - start, payload);
  }

  flush(): void {
    for (let i = 0; i < this.batches.length; i++) this.flushChannel(i);
  }

  /** Sends a control frame (watermark, end of partition) on every channel, after the records before it. */
  broadcastFrame(kind: number, payload: Uint8Array): void {
    this.flush();
    for (const ch of this.channels) ch.write(kind, 0, payload);
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
