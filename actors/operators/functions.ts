// The stateless transforms: map, filter, flatMap and ProcessFunction, as operators of the SPI.
import type { Collector, Output, StreamOperator } from '../../core/api/operator.ts';
import type { ProcessContext, ProcessFunction } from '../../core/api/functions.ts';
import type { OperatorContext } from '../../core/api/operator.ts';
import { WeirError } from '../../core/errors.ts';
import { fresh } from '../runtime/fresh.ts';


export function mapOperator(fn: (v: unknown) => unknown): StreamOperator<unknown, unknown> {
  return { processElement: fresh(['fn'], 'return function map(v, out) { out.collect(fn(v)); };', fn) };
}

export function filterOperator(fn: (v: unknown) => boolean): StreamOperator<unknown, unknown> {
  return { processElement: fresh(['fn'], 'return function filter(v, out) { if (fn(v)) out.collect(v); };', fn) };
}

/** The function emits through the collector or returns an iterable of what it emits; anything else is a mistake. */
// The subtask's entry adds the operator uid, subtask and input record to the refusal.
export function flatMapOperator(fn: (v: unknown, out: Collector<unknown>) => unknown): StreamOperator<unknown, unknown> {
  const refuse = (r: unknown): never => {
    const what = typeof r === 'string' ? 'a string (return [s] to emit it as one record)' : `a ${r === null ? 'null' : typeof r}`;
    throw new WeirError(`flatMap's function returned ${what}; emit with out.collect(...) or return an array or other iterable`);
  };
  return {
    processElement(v, out) {
      const r = fn(v, out);
      if (r === undefined) return;
      if (Array.isArray(r)) {
        for (let i = 0; i < r.length; i++) out.collect(r[i]);
      } else if (typeof r === 'object' && r !== null && typeof (r as Iterable<unknown>)[Symbol.iterator] === 'function') {
        for (const x of r as Iterable<unknown>) out.collect(x);
      } else {
        refuse(r);
      }
    },
  };
}

/** The context of functions without keys: side outputs, the input watermark, the record's timestamp. */
export function unkeyedContext(ctx: OperatorContext, out: () => Output<unknown>, watermark: () => number): ProcessContext {
  const time = ctx.recordTime ?? { value: NaN };
  return {
    output: (tag, value) => out().output(tag, value),
    currentWatermark: watermark,
    timestamp: () => (Number.isNaN(time.value) ? null : time.value),
    runtime: ctx,
  };
}

/** Hosts a user ProcessFunction; module-level state in it is per worker, never checkpointed. */
export function processOperator(fn: ProcessFunction<unknown, unknown>, ctx: OperatorContext): StreamOperator<unknown, unknown> {
  let watermark = -Infinity;
  const at: { out: Output<unknown> | null } = { out: null };
  const pctx = unkeyedContext(ctx, () => at.out!, () => watermark);
  return {
    open: () => fn.open?.(ctx),
    // Compiled for this operator alone (fresh), as map and filter are: as a method here, the call
    // of the user's processElement was one call site for every process function of the worker
    // and of every job its warm slots ran, so it turned polymorphic and was not inlined.
    processElement: fresh(['fn', 'pctx', 'at'], 'return function process(v, out) { at.out = out; fn.processElement(v, pctx, out); };', fn, pctx, at),
    processWatermark(ts, out) {
      watermark = ts;
      out.emitWatermark(ts);
    },
    close: () => fn.close?.(),
  };
}
