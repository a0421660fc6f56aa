// Job options: Flink's names, their defaults, validation naming the option, and the kebab-case CLI form.
import { availableParallelism } from 'node:os';
import type { RestartPolicy } from './checkpoint/restart-strategy.ts';
import { WeirError } from './errors.ts';

export interface JobOptions {
  /** Default parallelism of operators that set none; defaults to the machine's available parallelism. */
  parallelism: number;
  /** Key groups; Flink's rule from the parallelism when unset. */
  maxParallelism: number | undefined;
  stateBackend: 'heap' | 'lmdb';
  /** Checkpoint interval in ms; 0 disables checkpointing. */
  checkpointInterval: number;
  /** Flink's CheckpointingMode: aligned barriers block their channel ('exactly-once') or do not ('at-least-once'). */
  checkpointingMode: 'exactly-once' | 'at-least-once';
  /** Flink's enableUnalignedCheckpoints: barriers overtake in-flight records, which are persisted. */
  unaligned: boolean;
  alignedCheckpointTimeout: number;
  checkpointTimeout: number;
  minPause: number;
  tolerableFailedCheckpoints: number;
  retainedCheckpoints: number;
  /** Unset: as Flink, exponential-delay when checkpointing is on, none otherwise. */
  restartStrategy: 'none' | 'fixed-delay' | 'exponential-delay' | undefined;
  /** Unset: 1 for fixed-delay, unlimited for exponential-delay (Flink's defaults). */
  restartAttempts: number | undefined;
  restartDelay: number;
  restartMaxDelay: number;
  restartMultiplier: number;
  restartResetAfter: number;
  restartJitter: number;
  checkpointDir: string | undefined;
  fromSavepoint: string | undefined;
  /** With fromSavepoint: state of operators the job no longer has is skipped (a warning) instead of refused. */
  allowNonRestoredState: boolean;
  /** Bytes of each channel's ring. */
  ringCapacity: number;
  /** Records per DATA frame at most. */
  batchSize: number;
  /** Bytes a DATA frame is filled to before it is sent: records per frame are chosen by size, at most batchSize. */
  frameBytes: number;
  /** ms of processing time between periodic watermarks (onPeriodicEmit); 0: none. */
  autoWatermarkInterval: number;
  /** Where workers keep working files (LMDB environments, in-progress output). */
  workDir: string;
  /** Bytes of the LMDB write-back cache of each keyed operator subtask. */
  lmdbCacheBytes: number;
  /** Old-generation heap limit of each worker thread in MB (resourceLimits); unset: Node's default. */
  workerHeapMb: number | undefined;
  /**
   * Warm slots: ms the worker threads of a job that ended well wait for the next job of this
   * process with the same slot count and heap limit, which then runs on them; 0: the job
   * starts threads of its own and leaves none.
   */
  warmSlotsMs: number;
  /**
   * Flink's object reuse: a subtask whose operators keep no input record (map, filter, flatMap,
   * process functions, discard and print sinks, writers that encode as records come) gets every
   * record of a typed input channel in the same array or object, its fields overwritten. User
   * functions must then keep no reference to an input record (copy what they store).
   */
  objectReuse: boolean;
}

type Spec = ({ kind: 'int'; min: number; max: number } | { kind: 'size'; min: number; max: number } | { kind: 'number'; min: number; max: number }
  | { kind: 'enum'; values: readonly string[] } | { kind: 'string' } | { kind: 'bool' } | { kind: 'savepoint' }) & { doc: string };

const MS = { kind: 'int', min: 0, max: 2 ** 31 } as const;

const SPECS: { [K in keyof JobOptions]: Spec } = {
  parallelism: { kind: 'int', min: 1, max: 32768, doc: 'default parallelism of operators that set none' },
  maxParallelism: { kind: 'int', min: 1, max: 32768, doc: 'number of key groups (fixed at a job\'s first run)' },
  stateBackend: { kind: 'enum', values: ['heap', 'lmdb'], doc: 'where keyed state lives' },
  checkpointInterval: { ...MS, doc: 'ms between checkpoints; 0 disables checkpointing' },
  checkpointingMode: { kind: 'enum', values: ['exactly-once', 'at-least-once'], doc: 'whether aligned barriers block their channel' },
  unaligned: { kind: 'bool', doc: 'unaligned checkpoints: barriers overtake in-flight records' },
  alignedCheckpointTimeout: { ...MS, doc: 'with unaligned: ms to try aligned before switching; 0 starts unaligned' },
  checkpointTimeout: { kind: 'int', min: 1, max: 2 ** 31, doc: 'ms before a checkpoint in progress is aborted' },
  minPause: { ...MS, doc: 'least ms between the end of one checkpoint and the start of the next' },
  tolerableFailedCheckpoints: { ...MS, doc: 'failed checkpoints in a row before the job fails over' },
  retainedCheckpoints: { kind: 'int', min: 1, max: 1000, doc: 'complete checkpoints kept on disk' },
  restartStrategy: { kind: 'enum', values: ['none', 'fixed-delay', 'exponential-delay'],
    doc: 'what happens after a failure; unset: exponential-delay with checkpointing, else none' },
  restartAttempts: { ...MS, doc: 'restarts before the job fails (exponential-delay: before the backoff resets); unset: 1, or unlimited' },
  restartDelay: { ...MS, doc: 'ms before a restart (the first one, for exponential-delay)' },
  restartMaxDelay: { ...MS, doc: 'exponential-delay: the longest delay, in ms' },
  restartMultiplier: { kind: 'number', min: 1, max: 1000, doc: 'exponential-delay: each delay is the previous one times this' },
  restartResetAfter: { kind: 'int', min: 1, max: 2 ** 31, doc: 'exponential-delay: ms without a failure after which delays start over' },
  restartJitter: { kind: 'number', min: 0, max: 1, doc: 'exponential-delay: each delay moves by up to this share of itself' },
  checkpointDir: { kind: 'string', doc: 'directory of checkpoints (relative paths: to the working directory)' },
  fromSavepoint: { kind: 'savepoint', doc: 'savepoint or retained checkpoint directory to start from (or what job.savepoint() resolved with)' },
  allowNonRestoredState: { kind: 'bool', doc: 'with fromSavepoint: skip state of operators (uids) the job no longer has' },
  ringCapacity: { kind: 'size', min: 64, max: 1 << 30, doc: 'bytes of each channel\'s ring' },
  batchSize: { kind: 'int', min: 1, max: 0xff_ffff, doc: 'records per DATA frame at most' },
  frameBytes: { kind: 'size', min: 64, max: 1 << 30, doc: 'bytes of a DATA frame: records per frame are chosen by their size (within the ring\'s room), at most batchSize' },
  autoWatermarkInterval: { ...MS, doc: 'ms between periodic watermarks (Flink\'s pipeline.auto-watermark-interval); 0: none' },
  workDir: { kind: 'string', doc: 'working files (LMDB environments); removed when the job ends' },
  lmdbCacheBytes: { kind: 'size', min: 4096, max: 2 ** 40, doc: 'LMDB write-back cache per keyed operator subtask' },
  workerHeapMb: { kind: 'int', min: 16, max: 1 << 20, doc: 'old-generation heap limit of each worker thread, in MB' },
  warmSlotsMs: { ...MS, doc: 'ms a finished job\'s threads wait for the next job of this process (warm slots); 0: none' },
  objectReuse: { kind: 'bool', doc: 'typed input records decoded into one reused array or object where no operator keeps its input' },
};

export const OPTION_NAMES = Object.keys(SPECS) as (keyof JobOptions)[];

export function defaultOptions(): JobOptions {
  return {
    parallelism: availableParallelism(),
    maxParallelism: undefined,
    stateBackend: 'heap',
    checkpointInterval: 0,
    checkpointingMode: 'exactly-once',
    unaligned: false,
    alignedCheckpointTimeout: 0,
    checkpointTimeout: 600_000,
    minPause: 0,
    tolerableFailedCheckpoints: 0,
    retainedCheckpoints: 1,
    restartStrategy: undefined,
    restartAttempts: undefined,
    restartDelay: 1000,
    restartMaxDelay: 60_000,
    restartMultiplier: 1.5,
    restartResetAfter: 3_600_000,
    restartJitter: 0.1,
    checkpointDir: undefined,
    fromSavepoint: undefined,
    allowNonRestoredState: false,
    ringCapacity: 256 * 1024,
    batchSize: 4096,
    frameBytes: 16 * 1024,
    autoWatermarkInterval: 200,
    workDir: '.weir-work',
    lmdbCacheBytes: 16 * 1024 * 1024,
    workerHeapMb: undefined,
    warmSlotsMs: 2000,
    objectReuse: false,
  };
}

/** Checks user-given options up front: unknown names and bad values fail naming the option. */
export function validateOptions(given: Record<string, unknown>, origin = 'option'): Partial<JobOptions> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(given)) {
    if (value === undefined) continue;
    const spec = (SPECS as Record<string, Spec>)[name];
    if (spec === undefined) {
      const near = nearest(name, OPTION_NAMES);
      throw new WeirError(`unknown ${origin} '${name}'${near ? `; did you mean '${near}'?` : ''}`);
    }
    out[name] = check(name, spec, value, origin);
  }
  return out as Partial<JobOptions>;
}

function check(name: string, spec: Spec, value: unknown, origin: string): unknown {
  const bad = (want: string) => new WeirError(`${origin} '${name}' must be ${want}, got ${JSON.stringify(value)}`);
  switch (spec.kind) {
    case 'int': case 'size':
      if (typeof value !== 'number' || !Number.isInteger(value) || value < spec.min || value > spec.max) {
        throw bad(`an integer in [${spec.min}, ${spec.max}]${spec.kind === 'size' ? ' (bytes)' : ''}`);
      }
      return value;
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value) || value < spec.min || value > spec.max) {
        throw bad(`a number in [${spec.min}, ${spec.max}]`);
      }
      return value;
    case 'enum':
      if (typeof value !== 'string' || !spec.values.includes(value)) throw bad(`one of ${spec.values.join(', ')}`);
      return value;
    case 'bool':
      if (typeof value !== 'boolean') throw bad('true or false');
      return value;
    case 'string':
      if (typeof value !== 'string' || value === '') throw bad('a non-empty string');
      return value;
    case 'savepoint':
      // What job.savepoint() resolves with (its statistics) stands for its path.
      if (typeof value === 'object' && value !== null && typeof (value as { path?: unknown }).path === 'string') return check(name, { kind: 'string', doc: '' }, (value as { path: string }).path, origin);
      if (typeof value !== 'string' || value === '') throw bad('a non-empty string (a directory), or what job.savepoint() resolved with');
      return value;
  }
}

/** A savepoint or retained checkpoint: its directory, or the statistics job.savepoint() resolved with (their `path`). */
export type SavepointLocation = string | { readonly path: string };

/** The options submit() takes: the job options, with fromSavepoint also given as job.savepoint()'s result. */
export type SubmitOptions = Partial<Omit<JobOptions, 'fromSavepoint'>> & { readonly fromSavepoint?: SavepointLocation };

export function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, kb: 1024, kib: 1024, m: 1024 ** 2, mb: 1024 ** 2,
  mib: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3, gib: 1024 ** 3 };

/** A byte size as Flink's MemorySize reads it: `65536`, `64k`, `16MiB`, `1g` (every unit is binary). */
export function parseSize(text: string): number | undefined {
  const m = /^(\d+)\s*([a-z]*)$/i.exec(text.trim());
  const unit = m === null ? undefined : UNITS[m[2]!.toLowerCase()];
  return unit === undefined ? undefined : Number(m![1]) * unit;
}

/** Parses `--kebab-case value` pairs into options: numbers, sizes with units, booleans (`--unaligned`). */
export function parseCliOptions(args: readonly string[]): Partial<JobOptions> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (!arg.startsWith('--')) throw new WeirError(`unexpected argument '${arg}'`);
    const [flag, inline] = arg.slice(2).split('=', 2) as [string, string | undefined];
    const name = flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    const spec = (SPECS as Record<string, Spec>)[name];
    if (spec === undefined) {
      const near = nearest(flag, OPTION_NAMES.map(kebab));
      throw new WeirError(`unknown option '--${flag}'${near ? `; did you mean '--${near}'?` : ''} (weir run --help lists them)`);
    }
    if (spec.kind === 'bool' && inline === undefined && (args[i + 1] === undefined || args[i + 1]!.startsWith('--'))) {
      out[name] = true;
      continue;
    }
    const raw = inline ?? args[++i];
    if (raw === undefined) throw new WeirError(`option '--${flag}' needs a value`);
    out[name] = spec.kind === 'int' && /^-?\d+$/.test(raw) ? Number(raw)
      : spec.kind === 'number' && raw.trim() !== '' && Number.isFinite(Number(raw)) ? Number(raw)
      : spec.kind === 'size' ? parseSize(raw) ?? raw
      : spec.kind === 'bool' && (raw === 'true' || raw === 'false') ? raw === 'true'
      : raw;
  }
  return validateOptions(out, 'option');
}

/** One line per option for `--help`: the flag, what it does, its default. */
export function optionsHelp(): string {
  const defaults = defaultOptions() as unknown as Record<string, unknown>;
  const rows = OPTION_NAMES.map((n) => {
    const spec = SPECS[n];
    const arg = spec.kind === 'bool' ? '' : spec.kind === 'enum' ? ` <${spec.values.join('|')}>`
      : spec.kind === 'size' ? ' <bytes>' : spec.kind === 'int' || spec.kind === 'number' ? ' <n>' : ' <path>';
    const d = n === 'parallelism' ? `available cores (${defaults[n]})` : showDefault(spec, defaults[n]);
    return { flag: `--${kebab(n)}${arg}`, text: `${spec.doc}${d === undefined ? '' : ` [default: ${d}]`}` };
  });
  // Flags longer than the column put their text on the next line, so the column stays narrow.
  const width = 30;
  return rows.map((r) => (r.flag.length <= width ? `  ${r.flag.padEnd(width)}  ${r.text}` : `  ${r.flag}\n  ${''.padEnd(width)}  ${r.text}`))
    .join('\n');
}

function showDefault(spec: Spec, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (spec.kind === 'size' && typeof value === 'number') {
    for (const [u, f] of [['GiB', 1024 ** 3], ['MiB', 1024 ** 2], ['KiB', 1024]] as const) {
      if (value % f === 0) return `${value / f}${u}`;
    }
  }
  return String(value);
}

/** The closest name by edit distance, if it is close enough to be a typo. */
export function nearest(word: string, names: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  const w = word.toLowerCase();
  for (const n of names) {
    const d = editDistance(w, n.toLowerCase());
    if (d < bestDistance) { best = n; bestDistance = d; }
  }
  return bestDistance <= Math.max(2, Math.floor(w.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length]!;
}

/** The restart policy the options describe, with Flink's defaults for what they leave unset. */
export function restartPolicyOf(o: JobOptions): RestartPolicy {
  const strategy = o.restartStrategy ?? (o.checkpointInterval > 0 ? 'exponential-delay' : 'none');
  return {
    strategy,
    attempts: o.restartAttempts ?? (strategy === 'fixed-delay' ? 1 : Infinity),
    delayMs: o.restartDelay, maxDelayMs: o.restartMaxDelay, multiplier: o.restartMultiplier,
    resetAfterMs: o.restartResetAfter, jitter: o.restartJitter,
  };
}
