// The worker entry: one long-lived piscina task per slot that builds the job, wires its subtasks and runs them.
import { ChannelWriter } from '../../core/channel/channel-writer.ts';
import { Doorbell } from '../../core/channel/doorbell.ts';
import { RingConsumer, RingProducer } from '../../core/channel/ring.ts';
import type { Codec } from '../../core/codec/codec.ts';
import { generalCodec } from '../../core/codec/general.ts';
import { codecFor } from '../../core/codec/schema.ts';
import type { TypeInfo } from '../../core/codec/types.ts';
import { SAVEPOINT, STOP, STOP_CANCEL, STOP_GRACEFUL, subtaskIndex } from '../../core/coordinator/deploy.ts';
import type { DeployMessage, OperatorCounts, SlotResult, WorkerMessage } from '../../core/coordinator/deploy.ts';
import { reportOf, WeirError } from '../../core/errors.ts';
import { channelKey, collectRingKey, ringKey, targetsOf } from '../../core/graph/channels.ts';
import { compareSignatures, parallelismOf, plan } from '../../core/graph/plan.ts';
import type { Edge, JobPlan, Task } from '../../core/graph/plan.ts';
import { carriesEventTime } from '../../core/graph/stream-graph.ts';
import type { StreamNode } from '../../core/graph/stream-graph.ts';
import type { RecordTime, SourceSplit } from '../../core/api/operator.ts';
import { buildGraph, loadJob } from '../../core/job.ts';
import { keyGroupRangeForOperator } from '../../core/keys/key-groups.ts';
import type { BackendContext, KeyedStateBackend } from '../../core/state/backend.ts';
import { systemClock } from '../../core/time/clock.ts';
import { v8 } from '../../core/lazy-builtins.ts';
import { InputGate } from './input-gate.ts';
import { backendFactory } from './state-backends.ts';
import type { GateOptions, InputChannel } from './input-gate.ts';
import { readChannelState } from '../../core/checkpoint/channel-state.ts';
import type { ChannelState } from '../../core/checkpoint/channel-state.ts';
import { setEnvironmentReader } from '../../core/state/canonical.ts';
import { restoredChain } from './restore.ts';
import type { SubtaskState } from './subtask.ts';
import { RecordWriter } from './record-writer.ts';
import { runScheduler } from './scheduler.ts';
import { checkpointHooks } from './snapshot-files.ts';
import { readSubtaskState } from '../../core/checkpoint/read-savepoint.ts';
import { subtaskKey } from '../../core/coordinator/deploy.ts';
import { Subtask } from './subtask.ts';

export default async function runSlot(deploy: DeployMessage): Promise<SlotResult> {
  const port = deploy.port;
  // A pending Atomics.waitAsync does not keep a thread alive: hold a ref'd handle while running.
  const keepAlive = setInterval(() => {}, 1 << 30);
  // Until the graph is built and checked, every failure is deterministic: a restart cannot help.
  let setup = true;
  const backends: KeyedStateBackend[] = [];
  // Checkpoint writes (and LMDB environment copies) still running: the thread must not end under them.
  const pendingWrites: Promise<unknown>[] = [];
  try {
    const job = await loadJob(deploy.jobUrl);
    const { env } = buildGraph(job, deploy.options);
    const p = plan(env.graph, deploy.options);
    const diff = compareSignatures(deploy.signatures, p.signatures);
    if (diff !== null) throw new WeirError(diff);
    setup = false;
    const control = new Int32Array(deploy.control);
    if (deploy.checkpointDir !== undefined) warmSerializer();
    const createBackend = await backendFactory(deploy.options, deploy.runDir, deploy.slot);
    const makeBackend = (ctx: BackendContext) => {
      const b = createBackend(ctx);
      backends.push(b);
      return b;
    };
    // A heap job restoring LMDB state reads the copied environments through the LMDB module.
    if (deploy.restore !== undefined && deploy.options.stateBackend === 'heap' && deploy.restore.stateBackend !== 'heap') {
      setEnvironmentReader((await import('../../core/state/lmdb-backend.ts')).readEnvironmentCopy);
    }
    const actors = wire(deploy, p, control, makeBackend, pendingWrites);
    for (const a of actors) a.open();
    const bell = new Doorbell(deploy.doorbells[deploy.slot]!);
    await runScheduler(actors, bell, () => Atomics.load(control, STOP) === STOP_CANCEL);
    // Acknowledgements still being written go out before the slot reports its end.
    await Promise.all(pendingWrites);
    const counts: Record<string, OperatorCounts> = {};
    for (const a of actors) Object.assign(counts, a.counts);
    return { type: 'finished', counts, peakOverdraftBytes: Math.max(0, ...actors.map((a) => a.peakOverdraftBytes())) };
  } catch (err) {
    const report = reportOf(err);
    return { type: 'failed', report: setup ? { ...report, unrecoverable: true } : report };
  } finally {
    await Promise.allSettled(pendingWrites);
    // A failed or cancelled slot closes its state backends too, and waits for environment copies
    // still running on libuv's threads: the pool terminates this thread next, and native LMDB work
    // in flight then aborts the whole process (napi_throw in a terminating environment).
    for (const b of backends) {
      try { b.close(); } catch { /* closing after a failure: the failure is what is reported */ }
    }
    await Promise.allSettled(backends.map((b) => b.idle?.()));
    clearInterval(keepAlive);
    // The task's result travels apart from the port: this tells the coordinator it has every message.
    port.postMessage({ type: 'end' } satisfies WorkerMessage);
    port.close();
  }
}

/**
 * A thread's first v8.serialize (every snapshot is one) invalidates the prototype chains that
 * V8's optimized code depends on: at the first checkpoint every compiled function of the
 * running chains deoptimized (--trace-deopt: "dependent prototype chain changed") and was
 * compiled a second time. Serializing once before any record flows moves that to where
 * nothing has been compiled yet (BENCHMARKS.md, re-run at 66e74a9).
 */
function warmSerializer(): void {
  v8().serialize({ operators: {}, descriptors: {}, ranges: [[0, 1]] });
}

function wire(deploy: DeployMessage, p: JobPlan, control: Int32Array,
  makeBackend: (ctx: BackendContext) => KeyedStateBackend, pendingWrites: Promise<unknown>[]): Subtask[] {
  const slot = deploy.slot;
  const bells = deploy.doorbells.map((b) => new Doorbell(b));
  const coordinatorBell = bells[bells.length - 1]!;
  const codecs = new Map<string, Codec>();
  const codecOf = (e: Edge, trusted = false): Codec => {
    const k = `${trusted}:${e.codec}`;
    let c = codecs.get(k);
    if (c === undefined) {
      c = e.codec === 'general' ? generalCodec() : codecFor(e.fromNode.outType as TypeInfo, { trusted }) as Codec;
      codecs.set(k, c);
    }
    return c;
  };
  // A schema edge carries a node's main output (side outputs are general), which the emit-time
  // check of its .returns(...) has tested record by record (Subtask.typeCheck): its encoder
  // does not test them again.
  const encoderOf = (e: Edge): Codec => codecOf(e, e.codec !== 'general');
  const ring = (key: string) => {
    const sab = deploy.rings[key];
    if (sab === undefined) throw new WeirError(`no ring ${key} in the deploy message`);
    return sab;
  };
  const options = deploy.options;
  const actors: Subtask[] = [];
  // A rescaled subtask reads several old subtasks' files, and its neighbours on this thread the same ones.
  const states = new Map<string, SubtaskState>();
  const readOnce = (file: string) => {
    let s = states.get(file);
    if (s === undefined) states.set(file, (s = readSubtaskState(file) as SubtaskState));
    return s;
  };
  const channelStates = new Map<string, ChannelState>();
  const readChannelOnce = (file: string) => {
    let s = channelStates.get(file);
    if (s === undefined) channelStates.set(file, (s = readChannelState(file)));
    return s;
  };
  // Callbacks outside a step (async results) ring this worker's own doorbell.
  const ownBell = new Doorbell(deploy.doorbells[slot]!);
  const wake = () => ownBell.ring();
  for (const task of p.tasks) {
    if (task.parallelism <= slot) continue;
    const time: RecordTime = { value: NaN };
    const split: SourceSplit = { current: -1, opened: [], ended: [] };
    const writers = new Map<string, RecordWriter[]>();
    const writersOf = (node: StreamNode, tag: string | null): RecordWriter[] => {
      const k = `${node.uid}#${tag ?? ''}`;
      let ws = writers.get(k);
      if (ws === undefined) {
        ws = p.edges.filter((e) => e.fromNode === node && e.tag === tag).map((e) => {
          const channels = targetsOf(e.partitioner, e.from.parallelism, e.to.parallelism, slot).map((j) => {
            const producer = new RingProducer(ring(ringKey(e.id, slot, j)));
            producer.wake = bells[j]!;
            return new ChannelWriter(producer, channelKey(e, slot, j));
          });
          return new RecordWriter(channels, encoderOf(e), {
            partitioner: e.partitioner, keySelector: e.toNode.inputs.find((i) => i.node === node)?.partitioning?.keySelector,
            maxParallelism: e.to.maxParallelism, batchSize: options.batchSize, frameBytes: options.frameBytes, start: slot, uid: node.uid, subtask: slot,
            ...(carriesEventTime(node) ? { time } : {}),
          });
        });
        writers.set(k, ws);
      }
      return ws;
    };
    const collectWriter = (node: StreamNode): RecordWriter => {
      const producer = new RingProducer(ring(collectRingKey(node.uid, slot)));
      producer.wake = coordinatorBell;
      return new RecordWriter([new ChannelWriter(producer)], generalCodec(), {
        partitioner: 'forward', keySelector: undefined, maxParallelism: task.maxParallelism,
        batchSize: options.batchSize, frameBytes: options.frameBytes, start: 0, uid: node.uid, subtask: slot,
      });
    };
    const hooks = deploy.checkpointDir === undefined ? null : checkpointHooks({
      key: subtaskKey(task.id, slot), dir: deploy.checkpointDir, control, port: deploy.port, attempt: deploy.attempt, runId: deploy.runId,
      restore: deploy.restore === undefined ? undefined : restoredChain(deploy.restore, task, slot, readOnce, readChannelOnce, { edges: p.edges, codecOf }), pending: pendingWrites,
      unaligned: options.unaligned, alignedTimeout: options.alignedCheckpointTimeout,
    });
    const progress = new Float64Array(deploy.progress);
    actors.push(new Subtask({
      task, subtask: slot, writersOf, collectWriter, batchSize: options.batchSize, time,
      progress: (n) => { progress[slot]! += n; },
      gate: inputGate(task, p, slot, ring, bells, codecOf, {
        finished: new Int32Array(deploy.finished),
        blocking: options.checkpointingMode === 'exactly-once',
        unaligned: deploy.checkpointDir !== undefined && options.unaligned && options.checkpointingMode === 'exactly-once',
        alignedTimeout: options.alignedCheckpointTimeout,
        isSavepoint: (id) => Atomics.load(control, SAVEPOINT) === id,
      }),
      stopRequested: () => Atomics.load(control, STOP) >= STOP_GRACEFUL,
      checkpoints: hooks,
      objectReuse: options.objectReuse,
      context: (node) => {
        const parallelism = parallelismOf(node, options);
        const backendContext: BackendContext = {
          uid: node.uid, subtask: slot, maxParallelism: task.maxParallelism,
          keyGroups: keyGroupRangeForOperator(task.maxParallelism, parallelism, slot),
        };
        // One backend per operator subtask however often it is asked for: LMDB shares one
        // environment between two handles on a path, and two write caches over it would race.
        let backend: KeyedStateBackend | undefined;
        return {
          uid: node.uid, name: node.name, subtask: slot, parallelism, maxParallelism: task.maxParallelism,
          attempt: deploy.attempt, runId: deploy.runId, options: { ...options }, clock: systemClock, recordTime: time, sourceSplit: split, wake,
          keyedBackend: () => (backend ??= makeBackend(backendContext)),
          ...(hooks === null ? {} : {
            snapshotTarget: (id: number) => hooks.target(node.uid, id),
            isSavepoint: (id: number) => Atomics.load(control, SAVEPOINT) === id,
          }),
        };
      },
    }));
  }
  return actors;
}

function inputGate(task: Task, p: JobPlan, slot: number, ring: (k: string) => SharedArrayBuffer, bells: Doorbell[],
  codecOf: (e: Edge) => Codec, options: GateOptions): InputGate | null {
  const channels: InputChannel[] = [];
  for (const e of p.edges) {
    if (e.to !== task) continue;
    for (let i = 0; i < e.from.parallelism; i++) {
      if (!targetsOf(e.partitioner, e.from.parallelism, e.to.parallelism, i).includes(slot)) continue;
      const consumer = new RingConsumer(ring(ringKey(e.id, i, slot)));
      consumer.wake = bells[i]!;
      channels.push({
        consumer, codec: codecOf(e), label: `'${e.fromNode.uid}' subtask ${i}`, key: channelKey(e, i, slot), producer: subtaskIndex(p.tasks, e.from.id, i),
        input: e.input,
        watermark: -Infinity, ended: false, blocked: false, replay: null,
      });
    }
  }
  return channels.length === 0 ? null : new InputGate(channels, task.nodes[0]!.uid, slot, options);
}
