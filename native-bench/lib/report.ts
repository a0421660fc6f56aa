// Records each benchmark figure beside its baseline and writes them, with the machine and commit, to native-bench/results/.

import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

export interface Baseline {
  readonly name: string;
  readonly value: number;
}

export interface Target {
  /** The ratio value / baseline the benchmark expects to reach. */
  readonly ratio: number;
  /** Whether it did; defaults to ratio >= target (higher is better). Pass it for lower-is-better figures. */
  readonly met?: boolean;
}

export interface Figure {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  readonly baseline: Baseline;
  /** Every timed run, when the figure is a median; kept so the spread of a noisy machine shows. */
  readonly samples?: readonly number[];
  readonly target?: Target;
}

export interface RecordedFigure extends Figure {
  readonly ratio: number;
  readonly target?: Required<Target>;
}

const recorded: RecordedFigure[] = [];
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const RESULTS_DIR = fileURLToPath(new URL('../results/', import.meta.url));

/** Records a figure beside its baseline (ratio = value / baseline.value) and prints one line. */
export function record(figure: Figure): RecordedFigure {
  const ratio = figure.value / figure.baseline.value;
  const target = figure.target === undefined
    ? undefined
    : { ratio: figure.target.ratio, met: figure.target.met ?? ratio >= figure.target.ratio };
  const { target: _asked, ...rest } = figure;
  const r: RecordedFigure = target === undefined ? { ...rest, ratio } : { ...rest, ratio, target };
  recorded.push(r);
  const verdict = target === undefined ? '' : `  target ${target.ratio}x: ${target.met ? 'met' : 'MISSED'}`;
  console.log(`${figure.name}: ${formatValue(figure.value)} ${figure.unit}`
    + `  = ${formatRatio(ratio)} ${figure.baseline.name} (${formatValue(figure.baseline.value)})${verdict}`);
  return r;
}

export interface ResultsHeader {
  readonly bench: string;
  readonly date: string;
  readonly machine: { readonly cpu: string; readonly cores: number; readonly loadavg: readonly number[] };
  readonly node: string;
  readonly commit: { readonly sha: string; readonly dirty: boolean };
}

/** Writes every figure recorded so far to native-bench/results/<bench>.json and returns the path. */
export function writeResults(bench: string): string {
  const header: ResultsHeader = {
    bench,
    date: new Date().toISOString(),
    machine: {
      cpu: os.cpus()[0]?.model ?? 'unknown',
      cores: os.availableParallelism(),
      // The machine is shared: the load when the figures were taken says how far to trust them.
      loadavg: os.loadavg().map((l) => Math.round(l * 100) / 100),
    },
    node: process.version,
    commit: gitCommit(),
  };
  mkdirSync(RESULTS_DIR, { recursive: true });
  const path = `${RESULTS_DIR}${bench}.json`;
  writeFileSync(path, `${JSON.stringify({ header, results: recorded }, null, 2)}\n`);
  console.log(`results written to ${path}`);
  return path;
}

function gitCommit(): { sha: string; dirty: boolean } {
  try {
    const git = (...args: string[]) => execFileSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
    return { sha: git('rev-parse', '--short', 'HEAD'), dirty: git('status', '--porcelain') !== '' };
  } catch {
    return { sha: 'unknown', dirty: true };
  }
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new RangeError('median of no values');
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Runs a measurement `warmup` times untimed, then n times; returns the n results. */
export async function sample(n: number, measure: () => number | Promise<number>, warmup = 1): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await measure();
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(await measure());
  return out;
}

/**
 * Runs several measurements in rounds, each once per round (after `warmup` rounds), and
 * returns each one's n results. On a shared machine the load drifts over seconds; taken in
 * rounds, a figure and its baseline see the same drift, so their ratio holds.
 */
export async function sampleEach(
  n: number, measures: readonly (() => number | Promise<number>)[], warmup = 1,
): Promise<number[][]> {
  const out = measures.map((): number[] => []);
  for (let round = 0; round < warmup + n; round++) {
    for (const [i, measure] of measures.entries()) {
      const value = await measure();
      if (round >= warmup) out[i]!.push(value);
    }
  }
  return out;
}

/** The median of n runs of a measurement after a warm-up: the figure to quote on a shared, noisy machine. */
export async function repeat(n: number, measure: () => number | Promise<number>, warmup = 1): Promise<number> {
  return median(await sample(n, measure, warmup));
}

export function formatValue(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e9) return `${(v / 1e9).toFixed(2)}G`;
  if (a >= 1e6) return `${(v / 1e6).toFixed(a >= 1e8 ? 0 : 1)}M`;
  if (a >= 1e3) return `${(v / 1e3).toFixed(1)}K`;
  return v.toPrecision(3);
}

function formatRatio(r: number): string {
  return `${r >= 10 ? r.toFixed(0) : r.toFixed(2)}x`;
}
