// One subtask of a task as an actor: its chain of operators, its input gate, its record writers, its steps.
import type { SourceOperator } from '../../core/api/environment.ts';
import type { Output, OperatorContext, OutputTag, RecordTime, StreamOperator } from '../../core/api/operator.ts';
import { EMPTY_PAYLOAD, FrameKind, encodeBarrier, encodeWatermark, encodeWatermarkStatus } from '../../core/channel/frames.ts';
import { ABORTED, COMPLETED, CONTROL_BYTES, SAVEPOINT, SUSPEND, TRIGGER, TRIGGERED_AT } from '../../core/coordinator/deploy.ts';
import type { OperatorCounts } from '../../core/coordinator/deploy.ts';
import { CodecError } from '../../core/codec/errors.ts';
import { checkerFor } from '../../core/codec/schema.ts';
import type { TypeInfo } from '../../core/codec/types.ts';
import { WeirError } from '../../core/errors.ts';
import type { Task } from '../../core/graph/plan.ts';
import type { StreamNode } from '../../core/graph/stream-graph.ts';
import { OperatorStateStore, redistributeLists } from '../../core/state/operator-state.ts';
import type { OperatorStateSnapshot, Redistribution } from '../../core/state/operator-state.ts';
import { createOperator, createSource, isSource } from '../operators/registry.ts';
import { fresh } from './fresh.ts';
import { RECORDS_PER_CHECK_REFUSING } from './input-gate.ts';
import type { FusableSource, FusedStep } from './fresh.ts';
import { CHANNEL_STATE_FORMAT, FRAME_FORMAT, FrameQueue } from '../../core/checkpoint/channel-state.ts';
import type { ChannelState, PersistedChannel } from '../../core/checkpoint/channel-state.ts';
import type { Alignment, InputGate } from './input-gate.ts';
import type { RestoredChain } from './restore.ts';
import type { RecordWriter } from './record-writer.ts';

export interface SubtaskWiring {
  readonly task: Task;
  readonly subtask: number;
  readonly context: (node: StreamNode) => OperatorContext;
  /** The chain's current record timestamp: the gate sets it, operators read it, stamped writers send it. */
  readonly time: RecordTime;
  /** Record writers of the network edges leaving `node` with side output `tag` (null: main output). */
  readonly writersOf: (node: StreamNode, tag: string | null) => RecordWriter[];
  readonly collectWriter: (node: StreamNode) => RecordWriter;
  readonly gate: InputGate | null;
  readonly batchSize: number;
  /** Reads the stop word: true once sources should end their input. */
  readonly stopRequested: () => boolean;
  /** Counts records a source emitted, for the live progress the coordinator reads. */
  readonly progress?: (records: number) => void;
  /** Checkpointing: the mailbox words and where snapshots go; null when checkpointing is off. */
  readonly checkpoints: CheckpointHooks | null;
  /** The objectReuse option: typed input records decoded into one object per channel, where no operator keeps its input. */
  readonly objectReuse?: boolean;
}

/** A subtask's state in a checkpoint: what each operator of its chain returned, by uid. */
export interface SubtaskState {
  readonly operators: Record<string, unknown>;
  /** Taken after the subtask's end of input: a restore does not run it again. */
  readonly finished?: boolean;
  /** Each operator's lists of operator state, by uid. */
  readonly operatorState?: Record<string, OperatorStateSnapshot>;
  /** The keyed state each operator registered, by uid: what the checkpoint metadata lists. */
  readonly descriptors: Record<string, readonly { readonly name: string; readonly signature: string }[]>;
}

export interface CheckpointHooks {
  /** The control words (deploy.ts): TRIGGER, COMPLETED, ABORTED. */
  readonly control: Int32Array;
  /** The state this subtask starts from (in-flight frames included), or undefined for a fresh start. */
  readonly restore: RestoredChain | undefined;
  /** The checkpoint options: the unaligned option and its aligned timeout. */
  readonly unaligned: boolean;
  readonly alignedTimeout: number;
  /** Checkpoint `id` is being taken now: operators may write files of their own beside the state (snapshotTarget). */
  begin(id: number): void;
  /** Synchronous part done, the barrier sent and the channel state whole: persist them and acknowledge. */
  taken(id: number, state: SubtaskState, syncMs: number, alignmentMs: number, alignment: Alignment, channels: ChannelState | null): void;
  declined(id: number, reason: string): void;
  /** Input ended, but an operator holds output only a checkpoint can commit: a final one is wanted. */
  awaitingFinal(): void;
  /**
   * The subtask ended: this state stands for it in every checkpoint after `lastCheckpoint`,
   * the newest it snapshotted (for that one and older, its own snapshot counts: records it
   * sent after that barrier are not in its downstream's snapshot).
   */
  finished(state: SubtaskState, lastCheckpoint: number): void;
}

type Entry = (v: unknown) => void;

/**
 * Operators that keep no input record once processElement returns (user functions aside, which
 * the objectReuse option leaves to the user): what a subtask must hold only for its input to be
 * decoded into a reused object.
 */
const KEEPS_NO_INPUT: ReadonlySet<string> = new Set(['map', 'filter', 'flatMap', 'process', 'keyedProcess', 'sink:discard', 'sink:print']);

/** A source whose loop can compile the chain's first operator in (sources.ts). */
function isFusable(s: SourceOperator<unknown>): s is SourceOperator<unknown> & FusableSource {
  return typeof (s as { fuse?: unknown }).fuse === 'function';
}

/** A snapshot taken and not yet acknowledged (see Subtask.acknowledge). */
interface Unacknowledged {
  readonly id: number;
  readonly state: SubtaskState;
  readonly syncMs: number;
  readonly alignmentMs: number;
  readonly timestamp: number;
  /** A savepoint: aligned whatever the options, never moved ahead. */
  readonly savepoint: boolean;
  alignment: Alignment;
  /** Input-side channel state; null while the gate still gathers it. */
  inputs: PersistedChannel[] | null;
  /** Output-side: frames this subtask's barriers overtook. */
  readonly outputs: PersistedChannel[];
}

/** How long an idle live source waits before its next poll: bounds both its latency and its CPU. */
const SOURCE_IDLE_POLL_MS = 5;
/** A source chained to an operator that can refuse input emits this many records between looks at it. */
const SOURCE_BATCH_WHEN_BLOCKING = 16;
/** Records a source emits per call at least (a chain without writers: a source and its sink). */
const MIN_SOURCE_BATCH = 1024;


/**
 * States: running -> ending (end of input reached: final watermark, finish(), end-of-partition
 * frames sent) -> done once every overdraft has drained and the operators are closed.
 */
export class Subtask {
  readonly task: Task;
  readonly index: number;
  private readonly counters: Record<string, OperatorCounts> = {};
  /** Output counts taken from the one target that counts them (buildOutput). */
  private readonly derivedCounts: (() => void)[] = [];

  /** Records in and out per operator uid of the chain, up to date. */
  get counts(): Record<string, OperatorCounts> {
    for (const d of this.derivedCounts) d();
    return this.counters;
  }
  private readonly ops: StreamOperator<unknown, unknown>[] = [];
  private readonly outputs: Output<unknown>[] = [];
  private readonly writers: RecordWriter[] = [];
  private readonly source: SourceOperator<unknown> | null;
  private readonly sourceEmit: Entry | null = null;
  private readonly wire: SubtaskWiring;
  private readonly contexts: OperatorContext[];
  private readonly operatorState: OperatorStateStore[];
  private ending = false;
  // The mailbox as last read: control words only grow.
  private triggered = 0;
  private completed = 0;
  private aborted = 0;
  /** The newest checkpoint this subtask snapshotted. */
  private snapshotted = 0;
  /** Rings to the coordinator's collect reader. */
  private readonly collectWriters: RecordWriter[] = [];
  /**
   * A snapshot whose barrier still waits in a collect ring's overdraft: it is acknowledged
   * only once the barrier is in the ring, because the coordinator commits what comes before
   * it when the checkpoint completes, and an overdraft dies with a failed attempt.
   */
  private unacknowledged: Unacknowledged[] = [];
  /** Restored from a state taken after this subtask had ended: it ends again at once, emitting nothing. */
  private readonly restoredFinished: boolean;
  /** Input ended and an operator waits for a final checkpoint to commit its output (two-phase commit sinks). */
  private awaitingFinal = false;
  /** While a live source had nothing to emit: when to poll it again (wall clock ms), else 0. */
  private idleUntil = 0;
  /** Whether checkpoint `id` is a savepoint (the SAVEPOINT word). */
  readonly isSavepoint: (id: number) => boolean;
  /** The source returned false: its final watermark is out, finish() waits for pending output (async requests). */
  private sourceExhausted = false;
  /**
   * Records a source emits per call: small where an operator of the chain can refuse input
   * (async I/O at capacity), which is looked at between calls only; otherwise enough to fill
   * a few frames of every channel (the writers flush what is left at the end of the call),
   * and no more than batchSize * 4.
   */
  private get sourceBatch(): number {
    if (this.blocking.length > 0) return SOURCE_BATCH_WHEN_BLOCKING;
    let frames = MIN_SOURCE_BATCH;
    for (const w of this.writers) frames = Math.max(frames, 4 * w.perFrame * w.channels.length);
    return Math.min(frames, this.wire.batchSize * 4);
  }
  /** Operators that can refuse input (at capacity) or hold output past the end of input. */
  private readonly blocking: StreamOperator<unknown, unknown>[] = [];
  private readonly pending: StreamOperator<unknown, unknown>[] = [];
  done = false;

  constructor(wire: SubtaskWiring) {
    this.wire = wire;
    this.task = wire.task;
    this.index = wire.subtask;
    const nodes = this.task.nodes;
    // Operator state belongs to the runtime: snapshotted with the chain, restored before open.
    this.operatorState = nodes.map((n) => new OperatorStateStore(n.uid));
    this.contexts = nodes.map((n, i) => {
      const store = this.operatorState[i]!;
      const counter = (name: string) => {
        const metrics = (this.counters[n.uid]!.metrics ??= {});
        metrics[name] ??= 0;
        return { inc: (k = 1) => { metrics[name]! += k; } };
      };
      return { ...wire.context(n), counter, operatorState: <T>(name: string, r?: Redistribution) => store.list<T>(name, r) };
    });
    const head = nodes[0]!;
    this.source = isSource(head) ? createSource(head, this.contexts[0]!) : null;
    this.restoredFinished = wire.checkpoints?.restore?.finished === true;
    const control = wire.checkpoints?.control;
    this.isSavepoint = control === undefined ? () => false : (id) => Atomics.load(control, SAVEPOINT) === id;
    nodes.forEach((n, i) => {
      this.counters[n.uid] = { name: n.name, recordsIn: 0, recordsOut: 0 };
      this.ops[i] = i === 0 && this.source !== null
        ? { processElement: (v, out) => out.collect(v) }
        : createOperator(n, this.contexts[i]!, () => {
          const w = this.track(wire.collectWriter(n));
          this.collectWriters.push(w);
          return w;
        });
    });
    // Outputs are built downstream first: each one calls the entries of the nodes chained to it.
    const entries: Entry[] = [];
    const watermarkEntries: ((ts: number) => void)[] = [];
    const statusEntries: ((idle: boolean) => void)[] = [];
    for (let i = nodes.length - 1; i >= 0; i--) {
      const out = this.buildOutput(i, entries, watermarkEntries, statusEntries);
      this.outputs[i] = out;
      entries[i] = this.entry(i, out);
      const op = this.ops[i]!;
      watermarkEntries[i] = op.processWatermark !== undefined
        ? (ts) => this.guard(i, `processWatermark(${ts})`, () => op.processWatermark!(ts, out))
        : (ts) => out.emitWatermark(ts);
      statusEntries[i] = op.processWatermarkStatus !== undefined
        ? (idle) => this.guard(i, 'processWatermarkStatus', () => op.processWatermarkStatus!(idle, out))
        : (idle) => out.emitWatermarkStatus!(idle);
    }
    if (this.source !== null) this.sourceEmit = this.outputs[0]!.collect.bind(this.outputs[0]);
    // Loops that compile the chain's first operator in (FusedStep): a source's over its records,
    // the gate's decoders' over a frame (a two-input head's entries stay calls).
    if (this.source !== null && isFusable(this.source)) {
      const next = this.soleNext[0];
      // Without a chained operator to fuse, the head's output is called as it is, and what it
      // throws goes on to emitBatch's guard, as from the unfused loop.
      this.source.fuse(next !== undefined ? this.recordStep(next) : {
        names: ['s_collect'], values: [this.outputs[0]!.collect], body: 's_collect(v);', fail: (err) => { throw err; },
      });
    }
    if (this.source === null && this.ops[0]!.processElement2 === undefined) wire.gate?.fuse(this.recordStep(0), this.reusesInput());
    for (const op of this.ops) {
      if (op.isBlocked !== undefined) this.blocking.push(op);
      if (op.hasPendingOutput !== undefined) this.pending.push(op);
    }
    if (this.blocking.length > 0) wire.gate?.checkEveryAtMost(RECORDS_PER_CHECK_REFUSING);
    const second = this.ops[0]!.processElement2 !== undefined ? this.secondEntry(this.outputs[0]!) : undefined;
    wire.gate?.connect(entries[0]!, watermarkEntries[0]!, wire.time, statusEntries[0]!, second);
    wire.gate?.onBarriers({
      snapshot: (id, alignmentMs, alignment, timestamp) => this.snapshot(id, alignmentMs, alignment, timestamp),
      channelState: (id, inputs) => {
        const u = this.unacknowledged.find((x) => x.id === id);
        if (u !== undefined) u.inputs = inputs;
        this.acknowledge();
      },
      decline: (id, reason) => {
        this.dropUnacknowledged(id, id);
        wire.checkpoints?.declined(id, reason);
      },
      forwardCancel: (id) => {
        const payload = encodeBarrier({ checkpointId: id, unaligned: false, timestamp: Date.now() });
        for (const w of new Set(this.writers)) w.broadcastFrame(FrameKind.CANCEL_BARRIER, payload);
      },
    });
    this.headWatermark = watermarkEntries[0]!;
  }

  private readonly headWatermark: (ts: number) => void;
  /** Node i's output goes to one chained node, unchecked, and nowhere else on its main output: that node's index. */
  private readonly soleNext: (number | undefined)[] = [];

  private track(w: RecordWriter): RecordWriter {
    this.writers.push(w);
    return w;
  }

  /** The entry point of node i: counts, calls the operator, names the operator when user code throws. */
  private entry(i: number, out: Output<unknown>): Entry {
    const op = this.ops[i]!;
    const counts = this.counters[this.task.nodes[i]!.uid]!;
    const fail = this.failer(i, '');
    // map, filter and the discarding sink are fused into their entries: the user function is
    // called and its result passed on with no operator object or collector in between.
    const node = this.task.nodes[i]!;
    const fn = node.params['fn'];
    const head = i === 0 && this.source !== null;
    if (!head && node.kind === 'map') {
      return fresh<Entry>(['fn', 'collect', 'counts', 'fail'],
        'return function map(v) { counts.recordsIn++; let r; try { r = fn(v); } catch (err) { fail(err); } collect(r); };',
        fn, out.collect, counts, fail);
    }
    if (!head && node.kind === 'filter') {
      return fresh<Entry>(['fn', 'collect', 'counts', 'fail'],
        'return function filter(v) { counts.recordsIn++; let keep; try { keep = fn(v); } catch (err) { fail(err); } if (keep) collect(v); };',
        fn, out.collect, counts, fail);
    }
    if (node.kind === 'sink:discard') return fresh<Entry>(['counts'], 'return function discard(v) { counts.recordsIn++; };', counts);
    return fresh<Entry>(['op', 'out', 'counts', 'fail'],
      'return function entry(v) { counts.recordsIn++; try { op.processElement(v, out); } catch (err) { fail(err); } };',
      op, out, counts, fail);
  }

  /**
   * Node i's work on record `v` as statements, for a loop that compiles them into its body: the
   * same as its entry (counted, then the user function or the operator, then its output), with
   * the entry's `try` left to the loop's one around all records.
   */
  private recordStep(i: number): FusedStep {
    const node = this.task.nodes[i]!;
    const counts = this.counters[node.uid]!;
    const fail = this.failer(i, '');
    const collect = this.outputs[i]!.collect;
    const fn = node.params['fn'];
    switch (node.kind) {
      case 'map': return { names: ['s_counts', 's_fn', 's_collect'], values: [counts, fn, collect], body: 's_counts.recordsIn++; s_collect(s_fn(v));', fail };
      case 'filter': return { names: ['s_counts', 's_fn', 's_collect'], values: [counts, fn, collect], body: 's_counts.recordsIn++; if (s_fn(v)) s_collect(v);', fail };
      case 'sink:discard': return { names: ['s_counts'], values: [counts], body: 's_counts.recordsIn++;', fail };
      default: return {
        names: ['s_counts', 's_op', 's_out'], values: [counts, this.ops[i]!, this.outputs[i]!], body: 's_counts.recordsIn++; s_op.processElement(v, s_out);', fail,
      };
    }
  }

  /**
   * Whether this subtask may get its input records in one reused object (the objectReuse
   * option): none of its operators keeps an input record by weir's own doing (windows,
   * reduce, joins, async requests and collect keep theirs), and every writer encodes a record
   * as it is added rather than holding it until its frame is full.
   */
  private reusesInput(): boolean {
    if (this.wire.objectReuse !== true) return false;
    return this.task.nodes.every((n) => KEEPS_NO_INPUT.has(n.kind)) && this.writers.every((w) => w.encodesOnAdd);
  }

  /** What an entry of node i calls when user code throws: the error named with uid, subtask and input record. */
  private failer(i: number, input: string): (err: unknown) => never {
    const uid = this.task.nodes[i]!.uid;
    const counts = this.counters[uid]!;
    const subtask = this.index;
    return (err) => {
      if (err instanceof WeirError && err.uid !== undefined) throw err;
      throw new WeirError(`user code failed: ${(err as Error)?.message ?? String(err)}`,
        { uid, subtask, position: `input record ${counts.recordsIn - 1}${input}`, cause: err });
    };
  }

  /** A two-input head's second input (connect): counted with the first, named alike when user code throws. */
  private secondEntry(out: Output<unknown>): Entry {
    const op = this.ops[0]!;
    const counts = this.counters[this.task.nodes[0]!.uid]!;
    const fail = this.failer(0, ' (second input)');
    return fresh<Entry>(['op', 'out', 'counts', 'fail'],
      'return function entry2(v) { counts.recordsIn++; try { op.processElement2(v, out); } catch (err) { fail(err); } };', op, out, counts, fail);
  }

  private buildOutput(i: number, entries: Entry[], watermarkEntries: ((ts: number) => void)[], statusEntries: ((idle: boolean) => void)[]): Output<unknown> {
    const node = this.task.nodes[i]!;
    const counts = this.counters[node.uid]!;
    const chained = this.task.nodes
      .map((n, j) => ({ n, j }))
      .filter(({ n }) => n.inputs.length === 1 && n.inputs[0]!.node === node && this.task.nodes.indexOf(n) > i);
    const chainedFor = (tag: string | null) => chained.filter(({ n }) => n.inputs[0]!.tag === tag);
    const targetsFor = (tag: string | null): Entry[] => [
      ...chainedFor(tag).map(({ j }) => entries[j]!),
      ...this.wire.writersOf(node, tag).map((w) => fresh<Entry>(['w'], 'return function write(v) { w.add(v); };', w)),
    ];
    const main = targetsFor(null);
    const check = node.outType === undefined ? null : this.typeCheck(i, node.outType as TypeInfo);
    // With one target, whatever counts that target's input counts this node's output: the chained
    // node's recordsIn (its only input is this node), or the writer's records. The count is read
    // from it when counts are read (the counts getter) instead of being kept again on every record.
    if (main.length === 1) {
      const next = chainedFor(null)[0];
      if (next !== undefined) {
        if (check === null) this.soleNext[i] = next.j;
        const from = this.counters[next.n.uid]!;
        this.derivedCounts.push(() => { counts.recordsOut = from.recordsIn; });
      } else {
        const writer = this.wire.writersOf(node, null)[0]!;
        this.derivedCounts.push(() => { counts.recordsOut = writer.recordsOut; });
      }
    }
    const sides = new Map<string, Entry[]>();
    for (const tag of node.sideOutputs) sides.set(tag, targetsFor(tag));
    const allWriters = [null, ...node.sideOutputs].flatMap((tag) => this.wire.writersOf(node, tag));
    for (const w of allWriters) this.track(w);
    const watermarkTargets = chained.map(({ j }) => watermarkEntries[j]!);
    const statusTargets = chained.map(({ j }) => statusEntries[j]!);
    const fanOut: Entry = main.length === 1 ? main[0]! : (v) => { counts.recordsOut++; for (const t of main) t(v); };
    return {
      collect: check === null ? fanOut
        : fresh<Entry>(['check', 'fanOut'], 'return function collect(v) { check(v); fanOut(v); };', check, fanOut),
      output<S>(tag: OutputTag<S>, value: S) {
        const targets = sides.get(tag.id);
        if (targets === undefined) {
          throw new WeirError(`side output '${tag.id}' is not read by any getSideOutput(...); declare it before emitting`, { uid: node.uid });
        }
        for (const t of targets) t(value);
      },
      emitWatermark(ts: number) {
        for (const t of watermarkTargets) t(ts);
        const payload = encodeWatermark(ts);
        for (const w of allWriters) w.broadcastFrame(FrameKind.WATERMARK, payload);
      },
      emitWatermarkStatus(idle: boolean) {
        for (const t of statusTargets) t(idle);
        const payload = encodeWatermarkStatus(idle);
        for (const w of allWriters) w.broadcastFrame(FrameKind.WATERMARK_STATUS, payload);
      },
    };
  }

  /**
   * What `.returns(...)` declared is checked where the record is emitted, whether the edge is
   * chained (no encoder would see it) or crosses a ring, so the error names the emitting
   * operator's own input record rather than an index in a batch.
   */
  private typeCheck(i: number, type: TypeInfo): Entry {
    const checker = checkerFor(type);
    const node = this.task.nodes[i]!;
    const counts = this.counters[node.uid]!;
    const isSourceHead = i === 0 && this.source !== null;
    // The refusal is built outside the per-record function, which V8 inlines into the chain
    // only while the chain's bytecode, cold paths included, stays within its budget.
    const refused = (err: unknown): unknown => {
      if (!(err instanceof CodecError)) return err;
      return new WeirError(`a record does not match the type declared with .returns(): ${err.descriptor}${err.path}: `
        + err.message.slice(err.message.indexOf(': expected ') + 2),
        { uid: node.uid, subtask: this.index, position: isSourceHead ? `output record ${this.counts[node.uid]!.recordsOut}` : `input record ${counts.recordsIn - 1}`, cause: err });
    };
    return fresh<Entry>(['checker', 'refused'], 'return function check(v) { try { checker(v); } catch (err) { throw refused(err); } };', checker, refused);
  }

  /** Every call into an operator outside processElement: user code that throws is named by uid and subtask. */
  private guard<R>(i: number, what: string, f: () => R): R {
    try {
      return f();
    } catch (err) {
      if (err instanceof WeirError && err.uid !== undefined) throw err;
      throw new WeirError(`user code failed in ${what}: ${(err as Error)?.message ?? String(err)}`,
        { uid: this.task.nodes[i]!.uid, subtask: this.index, cause: err });
    }
  }

  open(): void {
    const restore = this.wire.checkpoints?.restore;
    // What its barriers had overtaken goes out first, also from a subtask that had ended (it
    // took the checkpoint while its last output drained).
    if (restore?.channels !== undefined) this.replayChannels(restore.channels);
    // A subtask that had ended is not opened again (as Flink skips fully finished operators).
    if (this.restoredFinished && restore!.whole !== undefined) return;
    if (restore !== undefined) this.restoreState(restore);
    if (this.restoredFinished) return;
    if (this.source !== null) this.guard(0, 'open', () => this.source!.open?.(this.contexts[0]!));
    this.ops.forEach((op, i) => this.guard(i, 'open', () => op.open?.(this.contexts[i]!, this.outputs[i]!)));
    if (restore !== undefined) this.checkDescriptors(restore);
  }

  /**
   * State comes back before open, as in Flink: open may read it. At the same parallelism each
   * operator gets its own snapshot; at another, every old subtask's, to take its share from
   * (initializeRescaledState), and its operator lists are redistributed by their rule.
   */
  private restoreState(restore: RestoredChain): void {
    this.task.nodes.forEach((n, i) => {
      const r = restore.operators[n.uid];
      if (r === undefined) return;
      const target: { initializeState?(s: unknown): void; initializeRescaledState?(p: readonly { subtask: number; parallelism: number; state: unknown }[]): void } =
        i === 0 && this.source !== null ? this.source : this.ops[i]!;
      if (!r.rescaled) {
        const part = r.parts[0]!;
        if (part.lists !== undefined) this.operatorState[i]!.restore(part.lists);
        if (part.state !== undefined) this.guard(i, 'initializeState', () => target.initializeState?.(part.state));
        return;
      }
      const context = this.contexts[i]!;
      this.guard(i, 'operator state redistribution', () => this.operatorState[i]!.restore(redistributeLists(r.parts, this.index, context.parallelism)));
      const withState = r.parts.filter((p) => p.state !== undefined);
      if (withState.length === 0) return;
      if (target.initializeRescaledState === undefined) {
        throw new WeirError(`operator '${n.uid}' ran at parallelism ${withState[0]!.parallelism} and now runs at ${context.parallelism}, but its `
          + `state (snapshotState) cannot be redistributed: it has no initializeRescaledState; keep its parallelism, or keep its state `
          + `in operatorState lists or keyed state`, { uid: n.uid, subtask: this.index, unrecoverable: true });
      }
      this.guard(i, 'initializeRescaledState', () => target.initializeRescaledState!(withState));
    });
  }

  /** A state whose kind or type changed since the checkpoint is refused, naming uid and state. */
  private checkDescriptors(restore: RestoredChain): void {
    this.task.nodes.forEach((n, i) => {
      const before = restore.descriptors[n.uid];
      const now = this.ops[i]!.stateDescriptors?.();
      if (before === undefined || now === undefined) return;
      for (const d of now) {
        const was = before.find((b) => b.name === d.name);
        if (was !== undefined && was.signature !== d.signature) {
          throw new WeirError(`state '${d.name}' was checkpointed as ${was.signature} and is now declared as ${d.signature}: `
            + `a state whose type changed cannot be restored (give the new one another name)`, { uid: n.uid, subtask: this.index, unrecoverable: true });
        }
      }
    });
  }

  /**
   * Recovery from an unaligned checkpoint: each input reads its persisted frames before its
   * ring, and the frames this subtask's barriers had overtaken go out before any new output,
   * so per channel the order is the consumer's input side, the producer's output side, new.
   */
  private replayChannels(channels: ChannelState): void {
    const where = { uid: this.task.nodes[0]!.uid, subtask: this.index };
    const inputs = this.wire.gate?.channels ?? [];
    for (const p of channels.inputs) {
      const ch = inputs.find((c) => c.key === p.channel);
      if (ch === undefined) throw new WeirError(`the checkpoint holds in-flight records for input ${p.channel}, which this job does not have`, where);
      if (ch.codec.descriptor !== p.codec) {
        throw new WeirError(`the checkpoint's in-flight records on ${p.channel} were written with codec ${p.codec}; this job reads it with ${ch.codec.descriptor}`, where);
      }
      this.wire.gate!.replayOn(ch, new FrameQueue(p.frames, p.skip));
    }
    for (const p of channels.outputs) {
      const w = this.writers.find((x) => x.channels.some((c) => c.key === p.channel));
      if (w === undefined) throw new WeirError(`the checkpoint holds in-flight records for output ${p.channel}, which this job does not have`, where);
      if (w.codecDescriptor !== p.codec) {
        throw new WeirError(`the checkpoint's in-flight records on ${p.channel} were written with codec ${p.codec}; this job writes it with ${w.codecDescriptor}`, where);
      }
      w.replay(p.channel, p.frames);
    }
  }

  /**
   * The mailbox first, before the overdraft: a backpressured actor still takes triggers,
   * completions and aborts (a source's barrier then queues behind its held frames).
   */
  private readMailbox(): boolean {
    const hooks = this.wire.checkpoints;
    if (hooks === null) return false;
    let moved = false;
    const aborted = Atomics.load(hooks.control, ABORTED);
    if (aborted > this.aborted) {
      this.aborted = aborted;
      this.wire.gate?.abort(aborted);
      // Snapshots of aborted checkpoints are never acknowledged: later ones must not wait on them.
      this.dropUnacknowledged(aborted);
      this.ops.forEach((op, i) => this.guard(i, 'notifyCheckpointAborted', () => op.notifyCheckpointAborted?.(aborted)));
      moved = true;
    }
    const completed = Atomics.load(hooks.control, COMPLETED);
    if (completed > this.completed) {
      this.completed = completed;
      // A subtask restored as ended never opened its operators: they hear of nothing.
      if (this.restoredFinished) return true;
      if (this.source !== null) this.guard(0, 'notifyCheckpointComplete', () => this.source!.notifyCheckpointComplete?.(completed));
      this.ops.forEach((op, i) => this.guard(i, 'notifyCheckpointComplete', () => op.notifyCheckpointComplete?.(completed)));
      moved = true;
    }
    if (this.takesTriggers()) {
      const trigger = Atomics.load(hooks.control, TRIGGER);
      // A savepoint passed over while its producers were finishing is taken once this subtask ends its input.
      const missedSavepoint = this.ending && trigger > this.snapshotted && trigger <= this.triggered && this.isSavepoint(trigger);
      if (trigger > this.triggered || missedSavepoint) {
        this.triggered = trigger;
        // A subtask waiting for a final checkpoint may already have taken this one by alignment.
        if (trigger > this.snapshotted) {
          const triggeredAt = new Float64Array(hooks.control.buffer, 0, CONTROL_BYTES / 8)[TRIGGERED_AT]!;
          const savepoint = this.isSavepoint(trigger);
          // A savepoint is aligned: past finished producers its barrier comes after their ends.
          if (this.source === null && !this.ending && !this.inputEnded()) { if (!savepoint) this.wire.gate!.triggered(trigger, triggeredAt); }
          // Every input ended, output still owed (async requests in flight): nothing is in flight on the input side, so
          // the snapshot is taken here, as at a source, and aligned.
          else if (this.inputEnded()) this.snapshot(trigger, 0, 'aligned', triggeredAt);
          else this.snapshot(trigger, 0, !savepoint && hooks.unaligned && hooks.alignedTimeout === 0 ? 'unaligned' : 'aligned', triggeredAt);
        }
        moved = true;
      }
    }
    return moved;
  }

  /**
   * Triggers start a snapshot at a source still reading, at a subtask waiting for a final
   * checkpoint, at one whose inputs have all ended while an operator still owes output (async
   * requests in flight), and at one whose input has ended but whose output still drains (its barrier
   * follows its end of partition, or overtakes it when unaligned): a checkpoint does not wait
   * for that drain. Not where a collect ring is among the outputs: the coordinator commits a
   * collect ring's tail with the subtask's final state, never with a snapshot.
   */
  private takesTriggers(): boolean {
    if (this.restoredFinished) return false;
    if (this.ending) return this.awaitingFinal || (!this.done && this.collectWriters.length === 0 && this.hasOverdraft());
    return this.source !== null || this.inputEnded() || this.wire.gate?.upstreamFinished() === true;
  }

  /** Every input has ended but the subtask has not (an operator still owes output): no barrier will come on its inputs. */
  private inputEnded(): boolean {
    return this.source === null && this.wire.gate !== null && this.wire.gate.finished;
  }

  /** Every operator's state, in chain order, between two calls into user code. */
  private stateOfChain(id: number): SubtaskState {
    const operators: Record<string, unknown> = {};
    const descriptors: SubtaskState['descriptors'] = {};
    const operatorState: Record<string, OperatorStateSnapshot> = {};
    this.task.nodes.forEach((n, i) => {
      const s = i === 0 && this.source !== null
        ? this.guard(0, 'snapshotState', () => this.source!.snapshotState?.(id))
        : this.guard(i, 'snapshotState', () => this.ops[i]!.snapshotState?.(id));
      if (s !== undefined) operators[n.uid] = s;
      const d = this.ops[i]!.stateDescriptors?.();
      if (d !== undefined && d.length > 0) descriptors[n.uid] = d;
      if (!this.operatorState[i]!.empty) {
        const lists = this.operatorState[i]!.snapshot();
        operatorState[n.uid] = lists;
        const named = Object.entries(lists).map(([name, l]) => ({ name, signature: `operator-list<${l.redistribution}>` }));
        descriptors[n.uid] = [...(descriptors[n.uid] ?? []), ...named];
      }
    });
    return { operators, descriptors, operatorState };
  }

  /**
   * Checkpoint `id` at this subtask: its sources' positions or its inputs aligned. The
   * chain's batches are flushed, every operator snapshotted, then the barrier goes out on
   * every output (side outputs and collect rings too), after every record before it.
   */
  private snapshot(id: number, alignmentMs: number, alignment: Alignment, timestamp: number): void {
    const hooks = this.wire.checkpoints;
    if (hooks === null) return;
    const started = performance.now();
    this.snapshotted = Math.max(this.snapshotted, id);
    this.flush();
    hooks.begin(id);
    // Taken after the end of input: a restore from it does not run the input again.
    // A subtask waiting for its final checkpoint is not: it runs again to commit what it prepared.
    const state = this.ending && !this.awaitingFinal ? { ...this.stateOfChain(id), finished: true } : this.stateOfChain(id);
    const unaligned = alignment !== 'aligned';
    const outputs: PersistedChannel[] = [];
    // Once the end of input is out, the outputs are closed: a final checkpoint sends no barrier.
    // Collect rings always carry aligned barriers: the coordinator commits what precedes them.
    if (!this.ending || this.hasOverdraft()) {
      for (const w of new Set(this.writers)) outputs.push(...w.broadcastBarrier(id, timestamp, unaligned && !this.collectWriters.includes(w)));
    }
    // The gate gathers the input side of an unaligned one; it calls back once every input is whole.
    const gathers = unaligned && this.wire.gate !== null && !this.ending;
    this.unacknowledged.push({
      id, state, syncMs: performance.now() - started, alignmentMs, timestamp, alignment, inputs: gathers ? null : [], outputs, savepoint: this.isSavepoint(id),
    });
    this.acknowledge();
  }

  /**
   * Acknowledged in order once nothing it covers can still change: the input side gathered,
   * its barriers out of every collect overdraft (the coordinator commits what precedes them
   * there, and an overdraft dies with a failed attempt), and, with the aligned timeout, out
   * of every network overdraft too (until then the timeout may still move one ahead).
   */
  private acknowledge(): void {
    const hooks = this.wire.checkpoints!;
    while (this.unacknowledged.length > 0) {
      const a = this.unacknowledged[0]!;
      if (a.inputs === null || this.collectWriters.some((w) => w.hasOverdraft())) return;
      if (hooks.unaligned && !a.savepoint && a.alignment === 'aligned' && this.holdingBarrier(a.id).length > 0) return;
      this.unacknowledged.shift();
      const channels = a.inputs.length > 0 || a.outputs.length > 0
        ? { format: CHANNEL_STATE_FORMAT, frameFormat: FRAME_FORMAT, inputs: a.inputs, outputs: a.outputs } : null;
      hooks.taken(a.id, a.state, a.syncMs, a.alignmentMs, a.alignment, channels);
    }
  }

  /** Forgets snapshots of checkpoints `from`..`upTo` (given up), then acknowledges what that unblocks. */
  private dropUnacknowledged(upTo: number, from = 0): void {
    const before = this.unacknowledged.length;
    this.unacknowledged = this.unacknowledged.filter((u) => u.id < from || u.id > upTo);
    if (this.unacknowledged.length !== before && this.wire.checkpoints !== null) this.acknowledge();
  }

  /** The aligned timeout expired on barriers still held behind an overdraft: they move ahead, unaligned. */
  private promoteBarriers(): boolean {
    const hooks = this.wire.checkpoints;
    if (hooks === null || !hooks.unaligned || hooks.alignedTimeout === 0) return false;
    let moved = false;
    for (const a of this.unacknowledged) {
      if (a.savepoint || a.alignment !== 'aligned' || Date.now() - a.timestamp < hooks.alignedTimeout) continue;
      const held = this.holdingBarrier(a.id);
      if (held.length === 0) continue;
      for (const w of held) a.outputs.push(...w.promoteBarrier(a.id, a.timestamp));
      a.alignment = 'switched';
      moved = true;
    }
    if (moved) this.acknowledge();
    return moved;
  }

  /** The network writers whose barrier `id` still waits behind their overdraft (collect rings' barriers never move ahead). */
  private holdingBarrier(id: number): RecordWriter[] {
    return this.writers.filter((w) => !this.collectWriters.includes(w) && w.holdsBarrier(id));
  }

  /** When a held aligned barrier is due to move ahead (epoch ms), or Infinity. */
  private promotionDeadline(): number {
    const hooks = this.wire.checkpoints;
    if (hooks === null || !hooks.unaligned || hooks.alignedTimeout === 0) return Infinity;
    let next = Infinity;
    for (const a of this.unacknowledged) {
      if (!a.savepoint && a.alignment === 'aligned' && this.holdingBarrier(a.id).length > 0) next = Math.min(next, a.timestamp + hooks.alignedTimeout);
    }
    return next;
  }

  /** The stop-with-savepoint this subtask took, if any (SUSPEND): its sources emit nothing after it. */
  private suspendedAt(): number {
    const hooks = this.wire.checkpoints;
    if (hooks === null) return 0;
    const id = Atomics.load(hooks.control, SUSPEND);
    return id > 0 && this.snapshotted >= id ? id : 0;
  }

  /** Runs one slice of work; true if anything moved. */
  step(): boolean {
    if (this.done) return false;
    let progress = this.readMailbox();
    const suspended = this.suspendedAt();
    if (suspended > 0 && this.completed >= suspended) {
      // Stopped with a savepoint: committed (notifyCheckpointComplete ran), and ended without
      // ending the input: no final watermark, no finish(), so nothing fires twice on resume.
      this.ops.forEach((op, i) => this.guard(i, 'close', () => op.close?.()));
      if (this.source !== null) this.guard(0, 'close', () => this.source!.close?.());
      this.done = true;
      return true;
    }
    if (this.unacknowledged.length > 0 && this.promoteBarriers()) progress = true;
    // Unaligned: the inputs' priority slots are looked at even while the overdraft cannot drain.
    if (this.wire.checkpoints?.unaligned === true && this.wire.gate !== null && this.wire.gate.poll()) progress = true;
    if (this.hasOverdraft()) {
      const before = this.overdraftBytes();
      const drained = this.drain();
      this.acknowledge();
      if (!drained) return this.overdraftBytes() !== before || progress;
      progress = true;
    }
    if (this.restoredFinished && !this.ending) {
      // Its end of input ran before the checkpoint: downstream holds what it emitted then.
      for (const w of new Set(this.writers)) w.broadcastFrame(FrameKind.END_OF_PARTITION, EMPTY_PAYLOAD);
      this.ending = true;
      return true;
    }
    if (this.ending) {
      if (this.wire.checkpoints !== null && !this.restoredFinished && this.ops.some((op) => op.awaitsFinalCheckpoint?.() === true)) {
        if (!this.awaitingFinal) {
          this.awaitingFinal = true;
          this.wire.checkpoints.awaitingFinal();
        }
        return progress;
      }
      this.awaitingFinal = false;
      // Everything is emitted and drained: what this subtask holds now is final.
      const hooks = this.wire.checkpoints;
      if (hooks !== null) {
        hooks.finished(this.restoredFinished && hooks.restore!.whole !== undefined ? hooks.restore!.whole
          : { ...this.stateOfChain(this.snapshotted), finished: true }, this.snapshotted);
      }
      this.ops.forEach((op, i) => this.guard(i, 'close', () => op.close?.()));
      if (this.source !== null) this.guard(0, 'close', () => this.source!.close?.());
      this.done = true;
      return true;
    }
    if (this.fireProcessingTimers()) progress = true;
    if (this.hasOverdraft()) return true;
    if (this.sourceExhausted) {
      // Its input is over; async requests still in flight come out through the timers above.
      if (this.pendingOutput()) return progress;
      this.endInput();
      return true;
    }
    if (this.isBlocked()) return progress;
    if (this.source !== null) {
      if (suspended > 0) return progress;
      const source = this.source;
      const uid = this.task.nodes[0]!.uid;
      const before = this.counts[uid]!.recordsOut;
      this.wire.time.value = NaN;
      const more = !this.wire.stopRequested()
        && this.guard(0, 'emitBatch', () => source.emitBatch(this.sourceEmit!, this.sourceBatch));
      if (!more) this.headWatermark(Infinity);
      this.flush();
      if (!more) {
        if (this.pendingOutput()) this.sourceExhausted = true;
        else this.endInput();
      }
      // A live source with nothing to give is polled again after a pause, not in a busy loop.
      const emitted = this.counts[uid]!.recordsOut;
      this.idleUntil = more && emitted === before ? Date.now() + SOURCE_IDLE_POLL_MS : 0;
      this.wire.progress?.(emitted - before);
      return this.idleUntil === 0 || progress;
    }
    const gate = this.wire.gate!;
    progress = gate.step(this.blocking.length === 0 ? () => this.hasOverdraft() : () => this.hasOverdraft() || this.isBlocked()) || progress;
    this.flush();
    if (gate.finished && !this.pendingOutput()) this.endInput();
    return progress;
  }

  /** An operator refuses input for now (async requests at capacity). */
  private isBlocked(): boolean {
    for (const op of this.blocking) if (op.isBlocked!()) return true;
    return false;
  }

  /** An operator still owes output after its input ended (async requests in flight). */
  private pendingOutput(): boolean {
    for (const op of this.pending) if (op.hasPendingOutput!()) return true;
    return false;
  }

  /** Calls operators whose processing-time deadline has come; true if any did. */
  private fireProcessingTimers(): boolean {
    let fired = false;
    for (let i = 0; i < this.ops.length; i++) {
      const op = this.ops[i]!;
      if (op.nextProcessingTime === undefined) continue;
      const now = this.contexts[i]!.clock.now();
      if (op.nextProcessingTime() <= now) {
        // What processing-time timers emit carries no event timestamp (as Flink erases it).
        this.wire.time.value = NaN;
        this.guard(i, `onProcessingTime(${now})`, () => op.onProcessingTime!(now, this.outputs[i]!));
        fired = true;
      }
    }
    if (fired) this.flush();
    return fired;
  }

  /** The earliest processing time an operator waits for (ms on its clock), or Infinity. */
  nextDeadline(): number {
    let next = this.idleUntil === 0 || this.suspendedAt() > 0 ? Infinity : this.idleUntil;
    if (this.unacknowledged.length > 0) next = Math.min(next, this.promotionDeadline());
    if (this.wire.gate !== null) next = Math.min(next, this.wire.gate.nextDeadline());
    for (const op of this.ops) if (op.nextProcessingTime !== undefined) next = Math.min(next, op.nextProcessingTime());
    return next;
  }

  /** Finishes the chain in order (a finish may emit to the nodes after it), then ends every output. */
  private endInput(): void {
    this.ops.forEach((op, i) => this.guard(i, 'finish', () => op.finish?.(this.outputs[i]!)));
    for (const w of new Set(this.writers)) w.broadcastFrame(FrameKind.END_OF_PARTITION, EMPTY_PAYLOAD);
    this.ending = true;
  }

  private flush(): void {
    for (const w of this.writers) w.flush();
  }

  hasOverdraft(): boolean {
    for (const w of this.writers) if (w.hasOverdraft()) return true;
    return false;
  }

  private drain(): boolean {
    let empty = true;
    for (const w of this.writers) if (!w.drain()) empty = false;
    return empty;
  }

  private overdraftBytes(): number {
    let n = 0;
    for (const w of this.writers) for (const c of w.channels) n += c.overdraftBytes;
    return n;
  }

  peakOverdraftBytes(): number {
    let peak = 0;
    for (const w of this.writers) peak = Math.max(peak, w.peakOverdraftBytes());
    return peak;
  }

  /** Whether a step could make progress now (the scheduler's re-check before sleeping). */
  hasWork(): boolean {
    if (this.done) return false;
    if (this.restoredFinished && !this.ending) return true;
    const hooks = this.wire.checkpoints;
    if (hooks !== null && (Atomics.load(hooks.control, ABORTED) > this.aborted || Atomics.load(hooks.control, COMPLETED) > this.completed
      || (this.takesTriggers() && Atomics.load(hooks.control, TRIGGER) > this.triggered))) return true;
    if (hooks !== null && this.ending && this.takesTriggers()) {
      const trigger = Atomics.load(hooks.control, TRIGGER);
      if (trigger > this.snapshotted && this.isSavepoint(trigger)) return true;
    }
    if (this.hasOverdraft()) {
      for (const w of this.writers) for (const c of w.channels) if (c.canDrain()) return true;
      if (hooks?.unaligned === true && this.wire.gate?.hasAnnouncement() === true) return true;
      return this.unacknowledged.length > 0 && this.promotionDeadline() <= Date.now();
    }
    if (this.ending) return !this.awaitingFinal;
    if (this.nextDeadline() <= this.contexts[0]!.clock.now()) return true;
    if (this.sourceExhausted) return !this.pendingOutput();
    if (this.isBlocked()) return false;
    if (this.source !== null) return this.suspendedAt() === 0 && this.idleUntil <= Date.now();
    if (this.wire.gate!.finished) return !this.pendingOutput();
    return this.wire.gate!.hasInput();
  }
}
