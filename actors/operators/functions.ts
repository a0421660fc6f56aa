// The stateless transforms: map, filter, flatMap and ProcessFunction, as operators of the SPI.
import type { Collector, Output, StreamOperator } from '../../core/api/operator.ts';
import type { ProcessContext, ProcessFunction } from '../../core/api/functions.ts';
import type { OperatorContext } from '../../core/api/operator.ts';
import { fresh } from '../runtime/fresh.ts';


export function mapOperator(fn: (v: unknown) => unknown): StreamOperator<unknown, unknown> {
  return { processElement: fresh(['fn'], 'return function map(v, out) { out.collect(fn(v)); };', fn) };
}

export function filterOperator(fn: (v: unknown) => boolean): StreamOperator<unknown, unknown> {
  return { processElement: fresh(['fn'], 'return function filter(v, out) { if (fn(v)) out.collect(v); };', fn) };
}

export function flatMapOperator(fn: (v: unknown, out: Collector<unknown>) => void): StreamOperator<unknown, unknown> {
  return { processElement: (v, out) => fn(v, out) };
}

/** Hosts a user ProcessFunction; module-level state in it is per worker, never checkpointed. */
export function processOperator(fn: ProcessFunction<unknown, unknown>, ctx: OperatorContext): StreamOperator<unknown, unknown> {
  let watermark = -Infinity;
  let current: Output<unknown> | null = null;
  const pctx: ProcessContext = {
    output: (tag, value) => current!.output(tag, value),
    currentWatermark: () => watermark,
    runtime: ctx,
  };
  return {
    open: () => fn.open?.(ctx),
    processElement(v, out) {
      current = out;
      fn.processElement(v, pctx, out);
    },
    processWatermark(ts, out) {
      watermark = ts;
      out.emitWatermark(ts);
    },
    close: () => fn.close?.(),
  };
}
