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
}

/**
 * The control words (Int32Array over `control`):
 *
 *   byte 0         4
 *        +---------+
 *        | STOP    |  0 run, 1 stop gracefully (sources end their input), 2 cancel now
 *        +---------+
 */
export const CONTROL_BYTES = 4;
export const STOP = 0;
export const STOP_RUN = 0;
export const STOP_GRACEFUL = 1;
export const STOP_CANCEL = 2;

export interface OperatorCounts {
  readonly name: string;
  recordsIn: number;
  recordsOut: number;
}

/** Worker -> coordinator over the control port. */
export type WorkerMessage = { type: 'warning'; message: string };

/** What a slot's task returns: its counts, or the failure that ended it. */
export type SlotResult =
  | { type: 'failed'; report: import('../errors.ts').ErrorReport }
  | { type: 'finished'; counts: Record<string, OperatorCounts>; peakOverdraftBytes: number };
