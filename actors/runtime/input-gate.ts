// The consuming end of a subtask's network inputs: reads frames round-robin, decodes records, tracks watermarks and barriers.
import { FrameKind, decodeBarrier, decodeWatermark, decodeWatermarkStatus, frameKindName } from '../../core/channel/frames.ts';
import type { RecordTime } from '../../core/api/operator.ts';
import { before, type RingConsumer } from '../../core/channel/ring.ts';
import type { Codec, FusedDecodeRange, FusedRows, RecordStatements } from '../../core/codec/codec.ts';
import { isNumberRows } from '../../core/codec/number-rows.ts';
import { CollectingBarriers, WaitingForFirstBarrier } from '../../core/checkpoint/barrier-handler.ts';
import type { BarrierEvent, BarrierHandlerState } from '../../core/checkpoint/barrier-handler.ts';
import { barrierOffset, FrameBuffer } from '../../core/checkpoint/channel-state.ts';
import type { FrameQueue, PersistedChannel } from '../../core/checkpoint/channel-state.ts';
import { WeirError } from '../../core/errors.ts';

export interface InputChannel {
  readonly consumer: RingConsumer;
  readonly codec: Codec;
  /** For error messages: which edge and producer subtask this channel comes from. */
  readonly label: string;
  /** channelKey(): how persisted channel state names this channel. */
  readonly key: string;
  /** The producing subtask's place in GateOptions.finished. */
  readonly producer: number;
  /** A two-input operator's second input (2), else 1. */
  readonly input?: 1 | 2;
  watermark: number;
  /** Its producer said it is idle (WATERMARK_STATUS): left out of the watermark until active again. */
  idle?: boolean;
  ended: boolean;
  /** Delivered the barrier being aligned: not read until the snapshot (or an abort). */
  blocked: boolean;
  /** Restored input-side channel state: read before anything new in the ring. */
  replay: FrameQueue | null;
  /** Its codec's decodeRange with the subtask's first operator compiled in (InputGate.fuse); decodeRange and emit where unset. */
  fused?: FusedDecodeRange;
  /** The general codec's number-rows frames, with the first operator compiled in (InputGate.fuse); its other frames decode whole. */
  fusedRows?: FusedRows;
}

export type Alignment = 'aligned' | 'unaligned' | 'switched';

/** What the gate asks of its subtask when a checkpoint's barriers say so. */
export interface BarrierCallbacks {
  /**
   * Snapshot now. `alignmentMs`: from the first barrier of the checkpoint on any input to the
   * snapshot. `alignment`: 'aligned' once every input delivered it; 'unaligned' at the first
   * sighting; 'switched' when an aligned one ran past the aligned-checkpoint timeout.
   */
  snapshot(checkpointId: number, alignmentMs: number, alignment: Alignment, timestamp: number): void;
  /** Unaligned: every input's frames up to its barrier are persisted (the snapshot came first). */
  channelState(checkpointId: number, inputs: PersistedChannel[]): void;
  decline(checkpointId: number, reason: string): void;
  forwardCancel(checkpointId: number): void;
}

export interface GateOptions {
  /** One word per subtask of the job, 1 once it has finished (deploy.ts, subtaskIndex). */
  readonly finished: Int32Array | null;
  /** 'exactly-once' blocks aligned inputs; 'at-least-once' only counts barriers, as Flink's CheckpointingMode says. */
  readonly blocking: boolean;
  /** The unaligned option: announcements are acted on and in-flight frames persisted. */
  readonly unaligned: boolean;
  /** With unaligned: ms after the trigger an aligned checkpoint switches to unaligned (0: unaligned from the start). */
  readonly alignedTimeout: number;
  /** Whether checkpoint `id` is a savepoint: aligned whatever the options. */
  readonly isSavepoint?: (id: number) => boolean;
}

/** Frames read from one channel before moving to the next, so no input starves the others. */
const FRAMES_PER_VISIT = 8;
/** Frames read in one step of the actor before the scheduler runs the others. */
const FRAMES_PER_STEP = 64;
/**
 * The outputs' overdraft, the priority slots, the aligned timeout and the turn's time are
 * looked at after the first record of each frame, then about every SLOW_RECORD_MS: after as
 * many records as the last ones took in that time, at most this many, and after every record
 * once records take longer (and after every frame). So between a barrier's announcement and
 * its snapshot an operator processes at most this many fast records (about SLOW_RECORD_MS of
 * work) or one slow one, and its overdraft holds at most that many calls' output. The reads
 * of the clock and the decoder's calls are what this costs: 64 instead of 8 took 10% off the
 * CPU of a typed keyed job, 256 instead of 64 a few percent more (BENCHMARKS.md, fused loops).
 */
export const RECORDS_PER_CHECK = 256;
/**
 * The same for a subtask with an operator that can refuse input (async I/O at capacity, which
 * the overdraft check asks): the records it takes past its capacity are at most this many.
 */
export const RECORDS_PER_CHECK_REFUSING = 64;
export const SLOW_RECORD_MS = 0.05;
/**
 * An actor's turn ends after this long even inside a frame (looked at with the slots), so
 * a slow operator does not hold up the actors sharing its worker thread.
 */
const STEP_BUDGET_MS = 1;

/** Thrown through a decoder by the gate's own sink to end a turn between two records of a frame; never escapes the gate. */
const INTERRUPT = new Error('turn ended inside a frame');
const IGNORE = (): void => {};

/** An unaligned checkpoint whose input-side channel state is still being gathered. */
interface Gathering {
  readonly id: number;
  /** Per input: its frames so far, or null once its barrier came (or it ended). */
  readonly recorders: (FrameBuffer | null)[];
  readonly skip: number[];
  /** Per input: its frames once whole. */
  readonly whole: (FrameBuffer | undefined)[];
  open: number;
}

export class InputGate {
  readonly channels: InputChannel[];
  private emit: (v: unknown) => void = () => {};
  private emit1: (v: unknown) => void = () => {};
  private emit2: ((v: unknown) => void) | null = null;
  private onWatermark: (ts: number) => void = () => {};
  private onStatus: (idle: boolean) => void = () => {};
  private watermark = -Infinity;
  /** Every open input idle: so is this gate's output. */
  private idle = false;
  /** Where each record's timestamp goes before the chain sees it (DATA_TS frames; NaN for DATA). */
  private time: RecordTime = { value: NaN };
  /** The current DATA_TS frame's timestamps. */
  private stamps: DataView | null = null;
  private next = 0;
  private open: number;
  private readonly uid: string;
  private readonly subtask: number;
  private barriers: BarrierHandlerState = new WaitingForFirstBarrier();
  private callbacks: BarrierCallbacks | null = null;
  private readonly o: GateOptions;
  /** When the alignment in progress began (performance.now()), or -1. */
  private alignedSince = -1;
  /** The newest checkpoint this gate snapshotted, declined or saw aborted: older barriers mean nothing. */
  private latest = 0;
  /** An aligned checkpoint in progress here (first seen announced or in-band), for its timeout. */
  private aligning: { id: number; timestamp: number } | null = null;
  private gathering: Gathering | null = null;
  // The DATA frame being processed, record by record: its channel (-1: none), its record
  // count, and how many of its records are done.
  private cur = -1;
  private curFromReplay = false;
  private count = 0;
  private at = 0;
  /** Records a re-decoded interrupted frame passes over: those done before the interruption. */
  private skipping = 0;
  /** Ranged decoding (processRanges): the byte where record `at` of the current frame begins; -1 until known. */
  private byteAt = 0;
  private overdrawn: () => boolean = () => false;
  private sinceCheck = 0;
  private checkEvery = RECORDS_PER_CHECK;
  /** RECORDS_PER_CHECK, or RECORDS_PER_CHECK_REFUSING (checkEveryAtMost). */
  private mostPerCheck = RECORDS_PER_CHECK;
  private lastCheck = 0;
  /** When the current turn is up (performance.now()). */
  private stepEnds = 0;
  /** Counts what check() did (snapshots started, inputs made whole), for poll(). */
  private acted = 0;
  /**
   * What the decoder calls for each record: the chain, then, every few records, the checks
   * between records (between()), which may end the turn inside the frame by throwing
   * INTERRUPT through the decoder. The chain runs inside the decoder's loop, as without the
   * checks; a frame interrupted is decoded again on resumption, its done records passed over.
   */
  private readonly sink = (r: unknown) => {
    if (this.skipping > 0) {
      this.skipping--;
      return;
    }
    this.at++;
    this.emit(r);
    if (++this.sinceCheck >= this.checkEvery && this.at < this.count && this.between()) throw INTERRUPT;
  };

  /** The sink of DATA_TS frames: the record's timestamp is set first. */
  private readonly stampedSink = (r: unknown) => {
    if (this.skipping > 0) {
      this.skipping--;
      return;
    }
    this.time.value = this.stamps!.getFloat64(this.at * 8, true);
    this.at++;
    this.emit(r);
    if (++this.sinceCheck >= this.checkEvery && this.at < this.count && this.between()) throw INTERRUPT;
  };

  constructor(channels: InputChannel[], uid: string, subtask: number, options: GateOptions) {
    this.channels = channels;
    this.open = channels.length;
    this.uid = uid;
    this.subtask = subtask;
    this.o = options;
  }

  onBarriers(callbacks: BarrierCallbacks): void {
    this.callbacks = callbacks;
  }

  /** The coordinator gave checkpoint `id` up: an alignment or a gathering on it (or an older one) lets go. */
  abort(id: number): void {
    if (this.gathering !== null && this.gathering.id <= id) this.gathering = null;
    if (this.aligning !== null && this.aligning.id <= id) this.aligning = null;
    this.latest = Math.max(this.latest, id);
    this.dispatch({ kind: 'abort', id });
  }

  private dispatch(e: BarrierEvent): void {
    const r = this.barriers.on(e, this.channels);
    this.barriers = r.next;
    for (const a of r.actions) {
      switch (a.kind) {
        case 'block':
          if (this.alignedSince < 0) this.alignedSince = performance.now();
          if (this.o.blocking) this.channels[a.ch]!.blocked = true;
          break;
        case 'unblockAll': for (const ch of this.channels) ch.blocked = false; break;
        case 'snapshot': {
          const alignmentMs = this.alignedSince < 0 ? 0 : performance.now() - this.alignedSince;
          this.alignedSince = -1;
          const timestamp = this.aligning?.timestamp ?? Date.now();
          this.aligning = null;
          this.latest = Math.max(this.latest, a.id);
          this.callbacks?.snapshot(a.id, alignmentMs, 'aligned', timestamp);
          break;
        }
        case 'decline':
          this.alignedSince = -1;
          this.aligning = null;
          this.latest = Math.max(this.latest, a.id);
          this.callbacks?.decline(a.id, a.reason);
          break;
        case 'forwardCancel': this.callbacks?.forwardCancel(a.id); break;
      }
    }
  }

  connect(emit: (v: unknown) => void, onWatermark: (ts: number) => void, time?: RecordTime, onStatus?: (idle: boolean) => void,
    emit2?: (v: unknown) => void): void {
    this.emit1 = emit;
    if (emit2 !== undefined) this.emit2 = emit2;
    if (time !== undefined) this.time = time;
    if (onStatus !== undefined) this.onStatus = onStatus;
    this.emit = emit;
    this.onWatermark = onWatermark;
  }

  /**
   * The first operator as statements on each record (Subtask.recordStep): every first-input channel
   * whose codec can compile them into its decoder (schema codecs) decodes with a decodeRange of
   * its own that runs them, where it would call emit. `reuse`: one record object per channel.
   */
  fuse(statements: RecordStatements, reuse: boolean): void {
    for (const ch of this.channels) {
      if ((ch.input ?? 1) !== 1) continue;
      if (ch.codec.fuseRange !== undefined) ch.fused = ch.codec.fuseRange(statements, reuse);
      else if (ch.codec.fuseRows !== undefined) ch.fusedRows = ch.codec.fuseRows(statements);
    }
  }

  /** Records between two checks at most: fewer for a subtask whose operators can refuse input. */
  checkEveryAtMost(records: number): void {
    this.mostPerCheck = records;
    this.checkEvery = Math.min(this.checkEvery, records);
  }

  get finished(): boolean {
    return this.open === 0 && this.cur < 0;
  }

  /** Reads frames round-robin until the step's budget is spent, nothing is left, or an output overdraws. */
  step(overdrawn: () => boolean): boolean {
    this.lastCheck = performance.now();
    this.sinceCheck = 0;
    this.stepEnds = this.lastCheck + STEP_BUDGET_MS;
    if (this.o.unaligned) this.check();
    let frames = 0;
    if (this.cur >= 0) {
      // A frame interrupted by an overdraft: its remaining records come first.
      if (!this.process(overdrawn)) return true;
      frames++;
      if (overdrawn()) return true;
    }
    let idle = 0;
    const n = this.channels.length;
    while (frames < FRAMES_PER_STEP && idle < n && this.open > 0) {
      const index = this.next;
      const ch = this.channels[index]!;
      this.next = this.next + 1 === n ? 0 : this.next + 1;
      let read = 0;
      while (!ch.ended && !ch.blocked && read < FRAMES_PER_VISIT && this.nextFrame(ch)) {
        read++;
        if (!this.handle(ch, index, overdrawn)) return true;
        if (overdrawn()) return true;
        if (this.o.unaligned) this.check();
        if (performance.now() >= this.stepEnds) return true;
      }
      frames += read;
      idle = read === 0 ? idle + 1 : 0;
    }
    return frames > 0;
  }

  /** Channels whose restored channel state is not replayed yet. */
  private replaying = 0;

  /** Restored channel state for `ch`: read before any ring of this gate (see nextFrame). */
  replayOn(ch: InputChannel, queue: FrameQueue): void {
    if (queue.empty) return;
    if (ch.replay === null) this.replaying++;
    ch.replay = queue;
  }

  /**
   * The channel's replay is consumed: its ring may be read, and every ring once no replay is
   * left. At the consume of its last frame, not at the next look at the channel: a replay that
   * ends in an END_OF_PARTITION leaves the channel ended, never looked at again.
   */
  private replayed(ch: InputChannel): void {
    ch.replay = null;
    this.replaying--;
  }

  /**
   * Positions the channel on its next frame: restored channel state first, then the ring.
   * No ring is read while any channel of the gate still replays (as Flink requests its
   * partitions only once a gate's recovered state is consumed): a rescale re-routes a key's
   * in-flight records onto one channel while its newer records may come on another.
   */
  private nextFrame(ch: InputChannel): boolean {
    if (ch.replay !== null) {
      if (ch.replay.next()) {
        this.curFromReplay = true;
        return true;
      }
      this.replayed(ch);
    }
    this.curFromReplay = false;
    if (this.replaying > 0) return false;
    return ch.consumer.next();
  }

  private source(ch: InputChannel): RingConsumer | FrameQueue {
    return this.curFromReplay ? ch.replay! : ch.consumer;
  }

  /** Handles the frame the channel is positioned on; false when a DATA frame was interrupted between records. */
  private handle(ch: InputChannel, index: number, overdrawn: () => boolean): boolean {
    const c = this.source(ch);
    switch (c.kind) {
      case FrameKind.DATA:
      case FrameKind.DATA_TS: {
        // The frame stays in the ring (unconsumed) until its last record is processed: a
        // checkpoint taken in between persists it with the records already processed.
        this.cur = index;
        this.count = c.count;
        this.at = this.curFromReplay ? (c as FrameQueue).skip : 0;
        this.byteAt = this.at === 0 ? 0 : -1;
        // The first record of every frame is timed on its own: a slow one (or one call that
        // emits a burst) is followed by a check at once.
        this.checkEvery = 1;
        this.sinceCheck = 0;
        this.lastCheck = performance.now();
        return this.process(overdrawn);
      }
      case FrameKind.WATERMARK:
        ch.watermark = Math.max(ch.watermark, decodeWatermark(c.payload()));
        this.consume(ch, index);
        this.advanceWatermark();
        return true;
      case FrameKind.WATERMARK_STATUS:
        ch.idle = decodeWatermarkStatus(c.payload());
        this.consume(ch, index);
        this.advanceWatermark();
        return true;
      case FrameKind.END_OF_PARTITION:
        this.consume(ch, index);
        ch.ended = true;
        this.open--;
        this.advanceWatermark();
        this.inputDone(index);
        this.dispatch({ kind: 'ended', ch: index });
        return true;
      case FrameKind.BARRIER: {
        const b = decodeBarrier(c.payload());
        // Handled before it is consumed: a consumer past an announced barrier it has not
        // handled breaks the ring's invariant (ring.ts, poll).
        ch.consumer.markHandled(b.checkpointId);
        ch.consumer.consume();
        this.sighted(index, b.checkpointId, b.unaligned, b.timestamp, null);
        return true;
      }
      case FrameKind.CANCEL_BARRIER: {
        const id = decodeBarrier(c.payload()).checkpointId;
        ch.consumer.markHandled(id);
        ch.consumer.consume();
        this.dispatch({ kind: 'cancel', ch: index, id });
        return true;
      }
      default:
        throw new WeirError(`unexpected ${frameKindName(c.kind)} frame from ${ch.label}`,
          { uid: this.uid, subtask: this.subtask, position: c.describeFrame() });
    }
  }

  /** Processes the current frame's records from `at`; false when the turn ended inside it. */
  private process(overdrawn: () => boolean): boolean {
    const index = this.cur;
    const ch = this.channels[index]!;
    const c = this.source(ch);
    this.overdrawn = overdrawn;
    // A two-input operator's second input goes to its own entry.
    this.emit = ch.input === 2 && this.emit2 !== null ? this.emit2 : this.emit1;
    if (c.kind === FrameKind.DATA && ch.codec.decodeRange !== undefined) return this.processRanges(ch, index, c);
    let payload = c.payload();
    if (c.kind === FrameKind.DATA && ch.fusedRows !== undefined && isNumberRows(payload)) return this.processRanges(ch, index, c, payload, ch.fusedRows);
    this.skipping = this.at;
    let sink = this.sink;
    if (c.kind === FrameKind.DATA_TS) {
      this.stamps = new DataView(payload.buffer, payload.byteOffset, c.count * 8);
      payload = payload.subarray(c.count * 8);
      sink = this.stampedSink;
    } else {
      this.time.value = NaN;
    }
    try {
      ch.codec.decode(payload, c.count, sink);
    } catch (err) {
      if (err === INTERRUPT) return false;
      if (err instanceof WeirError) throw err;
      throw new WeirError(`could not decode a frame from ${ch.label}: ${(err as Error).message}`,
        { uid: this.uid, subtask: this.subtask, position: c.describeFrame(), cause: err });
    }
    this.cur = -1;
    this.consume(ch, index);
    return true;
  }

  /**
   * A DATA frame of a codec that decodes ranges (schema codecs), or a number-rows frame of the
   * general codec (`rows`: fixed-size rows of one shape, its fused loop): records go from the
   * decoder straight to the chain, checkEvery at a time, with the checks between the calls; an
   * interrupted frame resumes at the byte (the row) where it stopped instead of being decoded again.
   */
  private processRanges(ch: InputChannel, index: number, c: RingConsumer | FrameQueue, payload = c.payload(), rows?: FusedRows): boolean {
    const codec = ch.codec;
    const fused = ch.fused;
    const count = this.count;
    const emit = this.emit;
    this.time.value = NaN;
    try {
      // A restored replay's first frame: its records processed before the checkpoint are passed
      // over (rows are found by their index).
      if (this.byteAt < 0 && rows === undefined) this.byteAt = codec.decodeRange!(payload, count, 0, 0, this.at, IGNORE);
      while (this.at < count) {
        const from = this.at;
        const to = Math.min(count, from + this.checkEvery);
        if (rows !== undefined) rows(payload, count, from, to);
        else this.byteAt = fused !== undefined ? fused(payload, count, this.byteAt, from, to) : codec.decodeRange!(payload, count, this.byteAt, from, to, emit);
        this.at = to;
        this.sinceCheck = to - from;
        if (to < count && this.between()) return false;
      }
    } catch (err) {
      if (err instanceof WeirError) throw err;
      throw this.decodeFailed(ch, c, err);
    }
    this.cur = -1;
    this.consume(ch, index);
    return true;
  }

  private decodeFailed(ch: InputChannel, c: RingConsumer | FrameQueue, err: unknown): WeirError {
    return new WeirError(`could not decode a frame from ${ch.label}: ${(err as Error).message}`,
      { uid: this.uid, subtask: this.subtask, position: c.describeFrame(), cause: err });
  }

  /** Between two records of a frame: the overdraft, the slots, the turn's time. True: the turn ends here. */
  private between(): boolean {
    if (this.overdrawn()) return true;
    const now = performance.now();
    // Slow records are checked one by one; fast ones in batches of about SLOW_RECORD_MS, so the checks cost little.
    const perRecord = (now - this.lastCheck) / this.sinceCheck;
    this.checkEvery = perRecord >= SLOW_RECORD_MS ? 1 : Math.max(1, Math.min(this.mostPerCheck, Math.floor(SLOW_RECORD_MS / perRecord)));
    this.lastCheck = now;
    this.sinceCheck = 0;
    if (this.o.unaligned) this.check();
    return now >= this.stepEnds;
  }

  /** Releases the current frame; one that came from the ring while its channel is being gathered is persisted first. */
  private consume(ch: InputChannel, index: number): void {
    if (this.curFromReplay) {
      ch.replay!.consume();
      if (ch.replay!.empty) this.replayed(ch);
      return;
    }
    const rec = this.gathering?.recorders[index];
    if (rec != null) rec.appendFrame(ch.consumer.kind, ch.consumer.count, ch.consumer.payload());
    ch.consumer.consume();
  }

  /**
   * Every input still open comes from a producer that has finished: no barrier will come on
   * any of them, only the rest of their frames and their ends (Flink's FLIP-147 triggers the
   * first running subtasks then). With the unaligned option the subtask takes a trigger
   * itself and gathers those frames as its channel state.
   */
  upstreamFinished(): boolean {
    const f = this.o.finished;
    if (f === null || !this.o.unaligned || this.open === 0) return false;
    for (const ch of this.channels) if (!ch.ended && Atomics.load(f, ch.producer) === 0) return false;
    return true;
  }

  /** Checkpoint `id` triggered here (upstreamFinished()): snapshot now, gather every open input up to its end. */
  triggered(id: number, timestamp: number): void {
    if (id <= this.latest) return;
    if (this.gathering !== null) {
      const g = this.gathering;
      this.gathering = null;
      this.callbacks?.decline(g.id, `checkpoint ${id} was triggered before barrier ${g.id} came on every input`);
    }
    // Every open input's producer has finished: startUnaligned copies the rest of each at once
    // (gatherFinished), up to a barrier of this checkpoint where its producer took this one
    // before it finished (its snapshot, not its final state, counts then). With the aligned
    // timeout set, checkpoints start aligned: this one switched at once, and says so.
    this.startUnaligned(id, timestamp, this.o.alignedTimeout > 0 ? 'switched' : 'unaligned');
  }

  /** The subtask's look at the priority slots while its overdraft keeps the gate from reading: true if it acted. */
  poll(): boolean {
    const before = this.acted;
    this.check();
    return this.acted !== before;
  }

  /** Whether an input's priority slot holds an announcement check() would act on now. */
  hasAnnouncement(): boolean {
    if (this.nextDeadline() <= Date.now()) return true;
    for (const ch of this.channels) {
      if (ch.ended) continue;
      const a = ch.consumer.announcement();
      if (a !== null && this.actsOn(a)) return true;
    }
    return false;
  }

  /**
   * Looks at every input's priority slot, and at the aligned timeout. Announcements are
   * acted on only with the unaligned option: aligned checkpoints read up to the barrier.
   */
  private check(): void {
    for (let i = 0; i < this.channels.length; i++) {
      const ch = this.channels[i]!;
      if (ch.ended) continue;
      const a = ch.consumer.announcement();
      if (a !== null) this.sighted(i, a.checkpointId, a.unaligned, a.timestamp, a.position);
    }
    const al = this.aligning;
    if (al !== null && this.timedOut(al.id, al.timestamp)) this.startUnaligned(al.id, al.timestamp, 'switched');
    this.gatherFinished();
  }

  /**
   * Gathering: an input whose producer has finished sends no barrier of this checkpoint after
   * what it has sent (if it took this one before it finished, its barrier is in the ring
   * already). Everything it sent is published, its end last, so its in-flight frames are copied
   * now, up to that barrier or to its end, instead of being gathered until its end is read
   * behind every record still in the ring (a backpressured tail held the checkpoint to the end
   * of the job).
   */
  private gatherFinished(): void {
    const g = this.gathering;
    const f = this.o.finished;
    if (g === null || f === null) return;
    for (let i = 0; i < this.channels.length; i++) {
      const ch = this.channels[i]!;
      if (g.recorders[i] == null || ch.ended || Atomics.load(f, ch.producer) === 0) continue;
      const c = ch.consumer;
      // Its barrier of this checkpoint was just read in band: the sighting makes it whole, with nothing past it.
      if (c.handledCheckpoint >= g.id) continue;
      const published = c.published;
      const barrier = barrierOffset(c.peekBytes(published), g.id);
      this.inputDone(i, barrier < 0 ? published : (c.position + barrier) >>> 0, g.id);
      if (this.gathering !== g) return;
    }
  }

  /** Whether aligned checkpoint `id` has run past the aligned timeout (a savepoint never does). */
  private timedOut(id: number, timestamp: number): boolean {
    return this.o.unaligned && Date.now() - timestamp >= this.o.alignedTimeout && this.o.isSavepoint?.(id) !== true;
  }

  /**
   * Barrier `id` seen on input `index`: in its priority slot (`position`: where it stands in
   * the ring) or read in-band (`position` null: the gate stands right after it).
   */
  private sighted(index: number, id: number, unaligned: boolean, timestamp: number, position: number | null): void {
    const g = this.gathering;
    if (g !== null) {
      if (id === g.id) {
        this.inputDone(index, position, id);
        return;
      }
      if (id < g.id) {
        this.handledStale(index, id, position);
        return;
      }
      // A newer checkpoint: this one was aborted on the coordinator (one runs at a time).
      this.gathering = null;
      this.callbacks?.decline(g.id, `barrier ${id} came before barrier ${g.id} on every input`);
    }
    if (id <= this.latest) {
      this.handledStale(index, id, position);
      return;
    }
    const aligningIt = this.aligning !== null && this.aligning.id === id;
    if (this.o.unaligned && (unaligned || this.timedOut(id, timestamp))) {
      const alignment: Alignment = aligningIt || !unaligned ? 'switched' : 'unaligned';
      this.startUnaligned(id, timestamp, alignment);
      this.inputDone(index, position, id);
      return;
    }
    if (!aligningIt) this.aligning = { id, timestamp };
    // Aligned: an announcement only says a barrier is coming; the one read in-band aligns.
    if (position === null) this.dispatch({ kind: 'barrier', ch: index, id });
  }

  /**
   * An announcement of a checkpoint this gate is done with (snapshotted, declined, aborted):
   * handled at once, so the slot is free for the next one and reading may pass its barrier,
   * whose frame is ignored when it comes.
   */
  private handledStale(index: number, id: number, position: number | null): void {
    if (position !== null) this.channels[index]!.consumer.markHandled(id);
  }

  /**
   * Snapshot now and gather each input's in-flight frames: an input blocked by the
   * alignment (its barrier delivered) or ended has none; on every other one, what was not
   * processed before the snapshot up to its barrier: the rest of a restored replay, the
   * frame being processed (minus the records already done), and what follows in the ring.
   */
  private startUnaligned(id: number, timestamp: number, alignment: Alignment): void {
    const alignmentMs = this.alignedSince < 0 ? 0 : performance.now() - this.alignedSince;
    this.acted++;
    // Blocked by this checkpoint's alignment: its barrier is delivered, nothing of it is in flight.
    // Blocked by an older one (aborted, the abort not read yet): its frames after that barrier are.
    const aligned = this.barriers instanceof CollectingBarriers && this.barriers.id === id;
    const done = this.channels.map((ch) => ch.ended || (ch.blocked && aligned));
    this.alignedSince = -1;
    this.aligning = null;
    this.latest = Math.max(this.latest, id);
    this.barriers = new WaitingForFirstBarrier(id);
    for (const ch of this.channels) ch.blocked = false;
    const recorders = this.channels.map((ch, i) => {
      if (done[i]) return null;
      const r = new FrameBuffer();
      if (ch.replay !== null && !ch.replay.empty) r.appendRange(ch.replay.remaining());
      return r;
    });
    // Records of the first frame not to replay: those processed before this snapshot, or, on a
    // restored replay not yet begun, those the checkpoint it came from had processed.
    const skip = this.channels.map((ch, i) => (done[i] ? 0 : i === this.cur ? this.at
      : ch.replay !== null && !ch.replay.empty ? ch.replay.skip : 0));
    this.gathering = { id, recorders, skip, whole: [], open: recorders.filter((r) => r !== null).length };
    this.callbacks?.snapshot(id, alignmentMs, alignment, timestamp);
    if (this.gathering?.open === 0) this.complete();
    else this.gatherFinished();
  }

  /** Input `index` reached the barrier being gathered (or ended): its channel state is whole. */
  private inputDone(index: number, position: number | null = null, id = 0): void {
    const g = this.gathering;
    const c = this.channels[index]!.consumer;
    if (g === null) {
      if (position !== null) c.markHandled(id);
      return;
    }
    const rec = g.recorders[index];
    if (rec != null) {
      this.acted++;
      if (position !== null) rec.appendRange(c.peekUpTo(position));
      g.recorders[index] = null;
      g.whole[index] = rec;
      g.open--;
    }
    // Handled once its frames are copied: the producer may announce the next barrier now.
    if (position !== null) c.markHandled(g.id);
    if (g.open === 0) this.complete();
  }

  private complete(): void {
    const g = this.gathering!;
    this.gathering = null;
    const inputs: PersistedChannel[] = [];
    this.channels.forEach((ch, i) => {
      const buf = g.whole[i];
      if (buf === undefined || buf.byteLength === 0) return;
      inputs.push({ channel: ch.key, codec: ch.codec.descriptor, skip: g.skip[i]!, frames: buf.bytes() });
    });
    this.callbacks?.channelState(g.id, inputs);
  }

  /**
   * An actor's watermark is the minimum over its inputs, as Flink's StatusWatermarkValve has
   * it: an ended input stands at +infinity, an idle one is left out, and so is one active
   * again whose watermark is still behind (until it catches up). Once every input is idle,
   * the most advanced of them sets it and the output goes idle too.
   */
  private advanceWatermark(): void {
    let min = Infinity;
    let active = 0;
    let aligned = 0;
    for (const ch of this.channels) {
      if (ch.ended) { active++; aligned++; continue; }
      if (ch.idle === true) continue;
      active++;
      if (ch.watermark < this.watermark) continue;
      aligned++;
      if (ch.watermark < min) min = ch.watermark;
    }
    let next = this.watermark;
    if (active === 0) {
      for (const ch of this.channels) if (ch.watermark > next) next = ch.watermark;
    } else if (aligned > 0) next = min;
    if (next > this.watermark) {
      this.watermark = next;
      this.onWatermark(next);
    }
    const idle = active === 0;
    if (idle !== this.idle) {
      this.idle = idle;
      this.onStatus(idle);
    }
  }

  /** When the aligned checkpoint in progress switches to unaligned (epoch ms), or Infinity. */
  nextDeadline(): number {
    return this.aligning !== null && this.o.unaligned && this.o.isSavepoint?.(this.aligning.id) !== true
      ? this.aligning.timestamp + this.o.alignedTimeout : Infinity;
  }

  hasInput(): boolean {
    if (this.cur >= 0) return true;
    if (this.nextDeadline() <= Date.now()) return true;
    for (const ch of this.channels) {
      if (ch.ended) continue;
      const c = ch.consumer;
      const a = c.announcement();
      if (this.o.unaligned && a !== null && this.actsOn(a)) return true;
      if (ch.blocked) continue;
      if (ch.replay !== null && !ch.replay.empty) return true;
      if (this.replaying > 0 && ch.replay === null) continue;
      if (before(c.position, c.poll()) || a !== null) return true;
    }
    return false;
  }

  /** Whether check() would act on this announcement now (an aligned one it only waits for is not work). */
  private actsOn(a: { checkpointId: number; unaligned: boolean; timestamp: number }): boolean {
    if (this.gathering !== null) return a.checkpointId >= this.gathering.id;
    if (a.checkpointId <= this.latest) return false;
    return a.unaligned || this.timedOut(a.checkpointId, a.timestamp) || this.aligning === null;
  }
}
