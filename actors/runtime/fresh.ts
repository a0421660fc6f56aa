// Per-record functions compiled from their own source, so each operator's call sites keep their own type feedback.
import type { RecordStatements } from '../../core/codec/codec.ts';

let count = 0;

/**
 * Closures made from one function literal share their type feedback in V8, so a call such as
 * `out.collect(fn(v))` inside them turns polymorphic across all the operators of a worker and
 * stops being inlined. A function compiled from unique source has feedback of its own:
 * measured 2x on a chained map > filter > map job (native-bench/pipeline.bench.ts).
 * `body` must be a trusted constant: it is compiled, never built from user input.
 */
export function fresh<F>(params: readonly string[], body: string, ...args: unknown[]): F {
  return new Function(...params, `${body}\n// ${count++}`)(...args) as F;
}

/**
 * The first operator of a chain, as statements on record `v`, for a loop that compiles it into
 * its own body (a source's loop over its records, a decoder's over a frame): the record never
 * goes through a call of its own, and the loop's one `try` around all of it calls `fail`,
 * where an entry (Subtask.entry) has a `try` per record. V8 inlines a chain into the loop
 * that calls it only while the chain has not been compiled alone first, with its own
 * inlining, which it then counts against the loop's budget; a loop with the chain in its
 * body has no such order to lose (BENCHMARKS.md, fused loops).
 */
export type FusedStep = RecordStatements;

/** A source whose loop over its records can be compiled again with a FusedStep in its body, which it then runs instead of calling emit. */
export interface FusableSource {
  fuse(step: FusedStep): void;
}

/**
 * Compiles `function name(...params) { <prologue> try { <loop> { <step on v> } } catch (err) { fail(err) } }`:
 * `loop` is the loop's head (`for (; v < stop; v++)`), `perRecord` what comes before the step
 * in its body (the line that sets `v`). `names`/`values` are the loop's own bindings.
 */
export function fusedLoop<F>(step: FusedStep, fn: { name: string; params: readonly string[]; prologue: string; loop: string; perRecord?: string },
  names: readonly string[] = [], values: readonly unknown[] = []): F {
  const source = `return function ${fn.name}(${fn.params.join(', ')}) {
  ${fn.prologue}
  try {
    ${fn.loop} {
      ${fn.perRecord ?? ''}
      ${step.body}
    }
  } catch (err) {
    fail(err);
  }
};`;
  return fresh<F>([...step.names, 'fail', ...names], source, ...step.values, step.fail, ...values);
}
