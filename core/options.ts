// Job options: Flink's names, their defaults, validation naming the option, and the kebab-case CLI form.
import { availableParallelism } from 'node:os';
import { WeirError } from './errors.ts';

export interface JobOptions {
  /** Default parallelism of operators that set none; defaults to the machine's available parallelism. */
  parallelism: number;
  /** Key groups; Flink's rule from the parallelism when unset. */
  maxParallelism: number | undefined;
  stateBackend: 'heap' | 'lmdb';
  /** Checkpoint interval in ms; 0 disables checkpointing. */
  checkpointInterval: number;
  mode: 'aligned' | 'unaligned';
  alignedCheckpointTimeout: number;
  checkpointTimeout: number;
  minPause: number;
  tolerableFailedCheckpoints: number;
  retainedCheckpoints: number;
  restartStrategy: 'none' | 'fixed-delay' | 'exponential-delay';
  restartAttempts: number;
  restartDelay: number;
  checkpointDir: string | undefined;
  fromSavepoint: string | undefined;
  /** Bytes of each channel's ring. */
  ringCapacity: number;
  /** Records per DATA frame before a batch is sent. */
  batchSize: number;
  /** Where workers keep working files (LMDB environments, in-progress output). */
  workDir: string;
  /** Bytes of the LMDB write-back cache of each keyed operator subtask. */
  lmdbCacheBytes: number;
  /** Old-generation heap limit of each worker thread in MB (resourceLimits); unset: Node's default. */
  workerHeapMb: number | undefined;
}

type Spec = { kind: 'int'; min: number; max: number } | { kind: 'enum'; values: readonly string[] } | { kind: 'string' };

const SPECS: { [K in keyof JobOptions]: Spec } = {
  parallelism: { kind: 'int', min: 1, max: 32768 },
  maxParallelism: { kind: 'int', min: 1, max: 32768 },
  stateBackend: { kind: 'enum', values: ['heap', 'lmdb'] },
  checkpointInterval: { kind: 'int', min: 0, max: 2 ** 31 },
  mode: { kind: 'enum', values: ['aligned', 'unaligned'] },
  alignedCheckpointTimeout: { kind: 'int', min: 0, max: 2 ** 31 },
  checkpointTimeout: { kind: 'int', min: 1, max: 2 ** 31 },
  minPause: { kind: 'int', min: 0, max: 2 ** 31 },
  tolerableFailedCheckpoints: { kind: 'int', min: 0, max: 2 ** 31 },
  retainedCheckpoints: { kind: 'int', min: 1, max: 1000 },
  restartStrategy: { kind: 'enum', values: ['none', 'fixed-delay', 'exponential-delay'] },
  restartAttempts: { kind: 'int', min: 0, max: 2 ** 31 },
  restartDelay: { kind: 'int', min: 0, max: 2 ** 31 },
  checkpointDir: { kind: 'string' },
  fromSavepoint: { kind: 'string' },
  ringCapacity: { kind: 'int', min: 64, max: 1 << 30 },
  batchSize: { kind: 'int', min: 1, max: 0xff_ffff },
  workDir: { kind: 'string' },
  lmdbCacheBytes: { kind: 'int', min: 4096, max: 2 ** 40 },
  workerHeapMb: { kind: 'int', min: 16, max: 1 << 20 },
};

export const OPTION_NAMES = Object.keys(SPECS) as (keyof JobOptions)[];

export function defaultOptions(): JobOptions {
  return {
    parallelism: availableParallelism(),
    maxParallelism: undefined,
    stateBackend: 'heap',
    checkpointInterval: 0,
    mode: 'aligned',
    alignedCheckpointTimeout: 0,
    checkpointTimeout: 600_000,
    minPause: 0,
    tolerableFailedCheckpoints: 0,
    retainedCheckpoints: 1,
    restartStrategy: 'none',
    restartAttempts: 3,
    restartDelay: 1000,
    checkpointDir: undefined,
    fromSavepoint: undefined,
    ringCapacity: 256 * 1024,
    batchSize: 256,
    workDir: '.weir-work',
    lmdbCacheBytes: 16 * 1024 * 1024,
    workerHeapMb: undefined,
  };
}

/** Checks user-given options up front: unknown names and bad values fail naming the option. */
export function validateOptions(given: Record<string, unknown>, origin = 'option'): Partial<JobOptions> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(given)) {
    if (value === undefined) continue;
    const spec = (SPECS as Record<string, Spec>)[name];
    if (spec === undefined) {
      const near = OPTION_NAMES.find((n) => n.toLowerCase() === name.toLowerCase().replace(/-/g, ''));
      throw new WeirError(`unknown ${origin} '${name}'${near ? `; did you mean '${near}'?` : ''}`);
    }
    out[name] = check(name, spec, value, origin);
  }
  return out as Partial<JobOptions>;
}

function check(name: string, spec: Spec, value: unknown, origin: string): unknown {
  const bad = (want: string) => new WeirError(`${origin} '${name}' must be ${want}, got ${JSON.stringify(value)}`);
  if (spec.kind === 'int') {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < spec.min || value > spec.max) {
      throw bad(`an integer in [${spec.min}, ${spec.max}]`);
    }
    return value;
  }
  if (spec.kind === 'enum') {
    if (typeof value !== 'string' || !spec.values.includes(value)) throw bad(`one of ${spec.values.join(', ')}`);
    return value;
  }
  if (typeof value !== 'string' || value === '') throw bad('a non-empty string');
  return value;
}

export function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** Parses `--kebab-case value` pairs into options, converting numbers where the option is numeric. */
export function parseCliOptions(args: readonly string[]): Partial<JobOptions> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (!arg.startsWith('--')) throw new WeirError(`unexpected argument '${arg}'`);
    const [flag, inline] = arg.slice(2).split('=', 2) as [string, string | undefined];
    const name = flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    const spec = (SPECS as Record<string, Spec>)[name];
    if (spec === undefined) throw new WeirError(`unknown option '--${flag}'`);
    const raw = inline ?? args[++i];
    if (raw === undefined) throw new WeirError(`option '--${flag}' needs a value`);
    out[name] = spec.kind === 'int' && /^-?\d+$/.test(raw) ? Number(raw) : raw;
  }
  return validateOptions(out, 'option');
}
