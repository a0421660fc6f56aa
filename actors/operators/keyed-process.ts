// Hosts a KeyedProcessFunction: the keyed function operator with one input.
import type { KeyedContext, KeyedProcessFunction } from '../../core/api/keyed-process-function.ts';
import type { OperatorContext, StreamOperator } from '../../core/api/operator.ts';
import type { KeyedStateBackend } from '../../core/state/backend.ts';
import { keyedFunctionOperator } from './keyed-function.ts';
import { fresh } from '../runtime/fresh.ts';

type Fn = KeyedProcessFunction<unknown, unknown, unknown>;

export function keyedProcessOperator(fn: Fn, keySelector: (v: unknown) => unknown, ctx: OperatorContext,
  backend: KeyedStateBackend): StreamOperator<unknown, unknown> {
  return keyedFunctionOperator({
    fn,
    // Its own call site (fresh), not one shared by every keyed process function of the worker (keyed-function.ts).
    input1: { key: keySelector, call: fresh(['fn'], 'return function call(v, c, out) { fn.processElement(v, c, out); };', fn) },
    onTimer: fn.onTimer === undefined ? undefined : (ts, c, out) => fn.onTimer!(ts, c, out),
    open: (store) => fn.open?.(ctx, store),
    close: () => fn.close?.(),
  }, ctx, backend);
}
