// The deploy message: what the coordinator ships to each slot's worker, and the shared control words.
import type { MessagePort } from 'node:worker_threads';
import type { JobOptions } from '../options.ts';

export interface DeployMessage {
  readonly jobUrl: string;
  readonly options: JobOptions;
  readonly slot: number;
  readonly attempt: number;
  readonly runId: string;
  /** The coordinator's plan signatures; each worker compares its own. */
  readonly signatures: readonly string[];
  /** One doorbell per slot, then the coordinator's. */
  readonly doorbells: readonly SharedArrayBuffer[];
  readonly control: SharedArrayBuffer;
  /** Rings by ringKey / collectRingKey. */
  readonly rings: Readonly<Record<string, SharedArrayBuffer>>;
  readonly port: MessagePort;
  /** This attempt's working directory (LMDB environments); the coordinator removes it at the end. */
  readonly runDir: string;
  /** Where checkpoint directories `chk-<n>/` are written; undefined when checkpointing is off. */
  readonly checkpointDir: string | undefined;
  /** One float64 per slot: records its sources emitted so far (written by the slot, read by the coordinator). */
  readonly progress: SharedArrayBuffer;
  /** One Int32 per subtask (subtaskIndex order): 1 once it has finished (its final state is in). */
  readonly finished: SharedArrayBuffer;
  /** The checkpoint or savepoint this attempt starts from. */
  readonly restore: RestoreSpec | undefined;
}

/** What an attempt restores: the old job's state files and layout. */
export interface RestoreSpec {
  /** Absolute state file paths by `<task>-<subtask>` of the old job; channel state files by `<key>/<key>.channels`. */
  readonly files: Readonly<Record<string, string>>;
  /**
   * The old job's tasks by id: parallelism and operator uids in chain order. Absent for
   * checkpoints of earlier versions: their layout is this job's (the plan fingerprint matched).
   */
  readonly tasks?: Readonly<Record<string, TaskLayout>>;
  /** The old job's state backend (absent for checkpoints of earlier versions). */
  readonly stateBackend?: 'heap' | 'lmdb';
  /** The old job's network edges: channel key prefix (producer uid and output), consumer uid, partitioner. */
  readonly edges?: readonly EdgeLayout[];
}

export interface EdgeLayout {
  readonly from: string;
  readonly to: string;
  readonly partitioner: string;
}

export interface TaskLayout {
  readonly parallelism: number;
  readonly maxParallelism: number;
  readonly uids: readonly string[];
}

/**
 * The control words (Int32Array over `control`), the actors' mailbox: the coordinator
 * stores a word, then rings every doorbell; an actor reads them first in every step.
 *
 *   byte 0         4           8             12           16                 24          28
 *        +---------+-----------+-------------+------------+------------------+-----------+---------+
 *        | STOP    | TRIGGER   | COMPLETED   | ABORTED    | TRIGGERED_AT f64 | SAVEPOINT | SUSPEND |
 *        +---------+-----------+-------------+------------+------------------+-----------+---------+
 *   STOP       0 run, 1 stop gracefully (sources end their input), 2 cancel now
 *   TRIGGER    the newest checkpoint sources are to take (ids only grow)
 *   COMPLETED  the newest checkpoint that is complete (it subsumes every older one)
 *   ABORTED    the newest checkpoint given up (alignments on it and older ones let go)
 *   TRIGGERED_AT  when TRIGGER was stored (epoch ms, stored before it): barriers carry it,
 *              and the aligned-checkpoint timeout counts from it
 *   SAVEPOINT  the newest trigger that is a savepoint (stored before TRIGGER): taken aligned
 *              whatever the options, keyed state in the canonical form, written to sp-<id>/
 *   SUSPEND    a stop-with-savepoint's id: sources emit nothing after its barrier, and once it
 *              is COMPLETED every subtask commits and ends without ending its input
 */
export const CONTROL_BYTES = 32;
/** Float64 index of TRIGGERED_AT. */
export const TRIGGERED_AT = 2;
export const STOP = 0;
export const TRIGGER = 1;
export const COMPLETED = 2;
export const ABORTED = 3;
/** Int32 indexes past TRIGGERED_AT (bytes 16..24). */
export const SAVEPOINT = 6;
export const SUSPEND = 7;
export const STOP_RUN = 0;
export const STOP_GRACEFUL = 1;
export const STOP_CANCEL = 2;

export interface OperatorCounts {
  readonly name: string;
  recordsIn: number;
  recordsOut: number;
  /** Counters the operator keeps (OperatorContext.counter), such as a window's numLateRecordsDropped. */
  metrics?: Record<string, number>;
}

/** A subtask's place in the `finished` words: tasks in id order, each with its parallelism. */
export function subtaskIndex(tasks: readonly { readonly id: number; readonly parallelism: number }[], taskId: number, subtask: number): number {
  let at = 0;
  for (const t of tasks) {
    if (t.id === taskId) return at + subtask;
    at += t.parallelism;
  }
  throw new RangeError(`no task ${taskId}`);
}

/** A subtask by task id and index, `<task>-<subtask>`: how checkpoints name its state file. */
export const subtaskKey = (taskId: number, subtask: number) => `${taskId}-${subtask}`;

/** Keyed state registered per operator uid: name and `kind<type> ttl=ms` signature. */
export type StateDescriptors = Readonly<Record<string, readonly { readonly name: string; readonly signature: string }[]>>;

/** A subtask's state file in a checkpoint directory, as its writer measured it. */
export interface StateFile {
  readonly name: string;
  readonly bytes: number;
  readonly crc32: number;
}

/** Worker -> coordinator over the control port. */
export type WorkerMessage =
  | { type: 'warning'; message: string }
  /** The slot's last message: everything it sent has arrived once this has (one port keeps order). */
  | { type: 'end' }
  /** A subtask took checkpoint `id` and its state file is durable. */
  /** `extra`: files operators wrote beside the state file (a copied LMDB environment), named relative to chk-<id>/. */
  | {
    type: 'ack'; id: number; subtask: string; file: StateFile; extra: readonly StateFile[]; syncMs: number; asyncMs: number; alignmentMs: number;
    descriptors: StateDescriptors;
    /** Operator uids with any state in it. */
    stateful: readonly string[];
    /** How this subtask took it: aligned, unaligned, or aligned until the timeout switched it. */
    alignment: 'aligned' | 'unaligned' | 'switched';
    /** In-flight bytes it persisted (both sides, every channel). */
    persistedBytes: number;
  }
  | { type: 'decline'; id: number; subtask: string; reason: string }
  /** Input ended; the subtask holds output that a final checkpoint commits. */
  | { type: 'awaiting'; subtask: string }
  /** A subtask ended; its final state stands in for it in every later checkpoint. */
  /** `lastCheckpoint`: the newest checkpoint it snapshotted; for those its own acknowledgement counts. */
  | { type: 'finished'; subtask: string; file: StateFile; lastCheckpoint: number; descriptors: StateDescriptors; stateful: readonly string[] };

/** What a slot's task returns: its counts, or the failure that ended it. */
export type SlotResult =
  | { type: 'failed'; report: import('../errors.ts').ErrorReport }
  | { type: 'finished'; counts: Record<string, OperatorCounts>; peakOverdraftBytes: number };
