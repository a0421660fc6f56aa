// The coordinator's end of collect() sinks: reads their rings on the submitting thread while the job runs.
import { Doorbell } from '../channel/doorbell.ts';
import { decodeBarrier, FrameKind } from '../channel/frames.ts';
import { RingConsumer } from '../channel/ring.ts';
import type { Codec } from '../codec/codec.ts';
import { generalCodec } from '../codec/general.ts';

interface Source {
  readonly uid: string;
  readonly consumer: RingConsumer;
}

/** Data never travels on the control plane: collected records come back through rings. */
export class CollectReader {
  readonly records: Record<string, unknown[]> = {};
  private readonly sources: Source[] = [];
  private readonly bell: Doorbell;
  private readonly codec: Codec = generalCodec();
  private stopped = false;

  constructor(bell: Doorbell) {
    this.bell = bell;
  }

  add(uid: string, ring: SharedArrayBuffer, producerBell: SharedArrayBuffer): void {
    const consumer = new RingConsumer(ring);
    consumer.wake = new Doorbell(producerBell);
    this.sources.push({ uid, consumer });
    this.records[uid] ??= [];
  }

  private drain(): boolean {
    let any = false;
    for (const s of this.sources) {
      const out = this.records[s.uid]!;
      const push = (r: unknown) => { out.push(r); };
      while (s.consumer.next()) {
        const c = s.consumer;
        if (c.kind === FrameKind.DATA) this.codec.decode(c.payload(), c.count, push);
        // Marked handled before it is consumed: a consumer past an announced barrier it has
        // not handled breaks the ring's invariant (ring.ts, poll).
        else if (c.kind === FrameKind.BARRIER) c.markHandled(decodeBarrier(c.payload()).checkpointId);
        c.consume();
        any = true;
      }
    }
    return any;
  }

  async run(cancelled: () => boolean): Promise<void> {
    if (this.sources.length === 0) return;
    while (!this.stopped && !cancelled()) {
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
