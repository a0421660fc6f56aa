// The coordinator's end of collect() sinks: reads their rings on the submitting thread, committing records by checkpoint.
import { Doorbell } from '../channel/doorbell.ts';
import { decodeBarrier, FrameKind } from '../channel/frames.ts';
import { RingConsumer } from '../channel/ring.ts';
import type { Codec } from '../codec/codec.ts';
import { generalCodec } from '../codec/general.ts';

interface Source {
  readonly uid: string;
  /** The subtask that writes this ring, `<task>-<subtask>`. */
  readonly subtask: string;
  readonly consumer: RingConsumer;
  /** Records between two barriers, closed by barrier `id`; `open` is what came after the last one. */
  readonly epochs: { id: number; records: unknown[] }[];
  open: unknown[];
  ended: boolean;
}

/**
 * Data never travels on the control plane: collected records come back through rings. The
 * sink forwards each barrier into its ring, so the records of epoch n (before barrier n)
 * are known; they reach `records` only once checkpoint n is complete (and the rest at the
 * successful end), so a restarted job hands back each record once. `records` belongs to
 * the job and outlives the attempt that read them; this holds for the life of the
 * submitting process.
 */
export class CollectReader {
  readonly records: Record<string, unknown[]>;
  private readonly sources: Source[] = [];
  private readonly bell: Doorbell;
  private readonly codec: Codec = generalCodec();
  private stopped = false;
  private committedUpTo = 0;
  private finished = new Set<string>();
  private all = false;

  constructor(bell: Doorbell, records: Record<string, unknown[]> = {}) {
    this.bell = bell;
    this.records = records;
  }

  add(uid: string, subtask: string, ring: SharedArrayBuffer, producerBell: SharedArrayBuffer): void {
    const consumer = new RingConsumer(ring);
    consumer.wake = new Doorbell(producerBell);
    this.sources.push({ uid, subtask, consumer, epochs: [], open: [], ended: false });
    this.records[uid] ??= [];
  }

  /**
   * Checkpoint `id` is complete: every epoch up to it is committed, and so is the tail of
   * each subtask that had ended by then (`finished`), whose final state the checkpoint holds.
   * Epochs still in a ring are committed as they are read.
   */
  commit(id: number, finished: ReadonlySet<string>): void {
    this.committedUpTo = Math.max(this.committedUpTo, id);
    for (const s of finished) this.finished.add(s);
    this.apply();
  }

  /** The job ended successfully: everything read is output. */
  commitAll(): void {
    this.all = true;
    this.drain();
    this.apply();
  }

  private apply(): void {
    for (const s of this.sources) {
      const out = this.records[s.uid]!;
      while (s.epochs.length > 0 && (this.all || s.epochs[0]!.id <= this.committedUpTo)) {
        for (const r of s.epochs.shift()!.records) out.push(r);
      }
      if (s.open.length > 0 && (this.all || (s.ended && s.epochs.length === 0 && this.finished.has(s.subtask)))) {
        for (const r of s.open) out.push(r);
        s.open = [];
      }
    }
  }

  private drain(): boolean {
    let any = false;
    for (const s of this.sources) {
      const c = s.consumer;
      while (c.next()) {
        if (c.kind === FrameKind.DATA) {
          const open = s.open;
          this.codec.decode(c.payload(), c.count, (r) => { open.push(r); });
        } else if (c.kind === FrameKind.BARRIER) {
          const id = decodeBarrier(c.payload()).checkpointId;
          // Marked handled before it is consumed: a consumer past an announced barrier it has
          // not handled breaks the ring's invariant (ring.ts, poll).
          c.markHandled(id);
          s.epochs.push({ id, records: s.open });
          s.open = [];
        } else if (c.kind === FrameKind.END_OF_PARTITION) {
          s.ended = true;
        }
        c.consume();
        any = true;
      }
    }
    if (any) this.apply();
    return any;
  }

  /**
   * Reads until stop(), which the attempt calls once its checkpoints have stopped: not until
   * a failure. A checkpoint may still complete after one (its last acknowledgement was being
   * written when another slot failed, and the next attempt restores it), and what its barriers
   * close must be read by then, or those records come back from neither attempt.
   */
  async run(): Promise<void> {
    if (this.sources.length === 0) return;
    while (!this.stopped) {
      if (this.drain()) {
        // Let the event loop run: worker messages arrive there.
        await new Promise<void>((r) => setImmediate(r));
        continue;
      }
      const epoch = this.bell.prepareToSleep();
      if (this.drain()) { this.bell.awake(); continue; }
      await this.bell.sleep(epoch, 100);
    }
    this.drain();
  }

  stop(): void {
    this.stopped = true;
    this.bell.ring();
  }
}
