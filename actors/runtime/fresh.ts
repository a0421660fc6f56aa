// Per-record functions compiled from their own source, so each operator's call sites keep their own type feedback.

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
