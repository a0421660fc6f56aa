// Codec throughput: encode+decode of a numeric tuple, a row with a string and a plain object, schema vs general (msgpackr) vs JSON.
// Expects schema codecs >= 10x the general codec on [int32, float64] tuples, and the encoder a network edge
// uses (trusting the emit-time check, writing into the ring) >= 0.9x a hand-written DataView loop over frames at ring
// offsets (a frame's place and count read at run time, as on a ring); the same loop over one constant frame, which V8
// folds into constants, is reported beside it as the ceiling no encoder for a ring can reach. Each case runs in a fresh process
// (native-bench/codec-explore.ts) so no case inherits another's JIT state; medians of 3 such processes, and of 7
// for the trusted encoder and its two baselines, whose processes alternate.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { median, record, writeResults } from './lib/report.ts';

const explore = fileURLToPath(new URL('./codec-explore.ts', import.meta.url));

/** Encode-then-decode records/s of one case, from a fresh process. */
function once(name: string): number {
  const out = execFileSync(process.execPath, [...process.execArgv, explore, name], { encoding: 'utf8' });
  return (JSON.parse(out) as number[])[2]! * 1e6;
}

/** One case: the median of 3 fresh processes. */
function both(name: string): number {
  return median(Array.from({ length: 3 }, () => once(name)));
}

/**
 * Cases a target compares: their processes alternate (a, b, c, a, b, c, ...), 7 of each, so that
 * a spell of load on the shared machine falls on all of them alike; the median of each.
 */
function alternating(...names: string[]): number[] {
  const runs = names.map((): number[] => []);
  for (let r = 0; r < 7; r++) names.forEach((name, k) => runs[k]!.push(once(name)));
  return runs.map(median);
}

const tupleSchema = both('[int32, float64] schema codec');
const tupleGeneral = both('[int32, float64] general codec');
const tupleJson = both('[int32, float64] JSON');
// The trusted encoder's target and its baselines, in alternating processes.
const [tupleTrusted, tupleHand, tupleCeiling] = alternating('[int32, float64] schema codec, trusted',
  '[int32, float64] hand-written DataView loop, frames at ring offsets (baseline)',
  '[int32, float64] hand-written DataView loop, one constant frame (ceiling)') as [number, number, number];
record({ name: '[int32, float64] schema codec', value: tupleSchema, unit: 'records/s',
  baseline: { name: 'general codec (msgpackr)', value: tupleGeneral }, target: { ratio: 10 } });
record({ name: '[int32, float64] schema codec', value: tupleSchema, unit: 'records/s', baseline: { name: 'JSON', value: tupleJson } });
record({ name: '[int32, float64] schema codec', value: tupleSchema, unit: 'records/s',
  baseline: { name: 'hand-written DataView loop, frames at ring offsets', value: tupleHand } });
// Records a .returns(...) check has tested, encoded without the tests, a frame at a time in place in the ring
// (encodeInto: what a network edge ran until typed records were encoded as emitted; broadcast edges still do).
record({ name: '[int32, float64] schema codec, trusted (as on a network edge)', value: tupleTrusted, unit: 'records/s',
  baseline: { name: 'hand-written DataView loop, frames at ring offsets', value: tupleHand }, target: { ratio: 0.9 } });
record({ name: '[int32, float64] schema codec, trusted (as on a network edge)', value: tupleTrusted, unit: 'records/s',
  baseline: { name: 'hand-written DataView loop, one constant frame (ceiling)', value: tupleCeiling } });
// A fixed-size record on a network edge is now encoded as it is emitted (encodeRecord) and decoded a few records
// per call (decodeRange); a microbenchmark of that pair in one function measured the harness (a 4-10x spread from
// inlining alone), so the job A/B (ab-checkouts.ts) is its measure.

const rowSchema = both('{user, amount, tag} schema codec');
const rowGeneral = both('{user, amount, tag} general codec');
const rowJson = both('{user, amount, tag} JSON');
record({ name: '{user, amount, tag} row, schema codec', value: rowSchema, unit: 'records/s',
  baseline: { name: 'general codec (msgpackr)', value: rowGeneral } });
record({ name: '{user, amount, tag} row, schema codec', value: rowSchema, unit: 'records/s', baseline: { name: 'JSON', value: rowJson } });
record({ name: '{user, amount, tag} plain object, general codec', value: rowGeneral, unit: 'records/s',
  baseline: { name: 'JSON', value: rowJson } });

writeResults('codec');
