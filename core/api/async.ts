// Async I/O (Flink's AsyncDataStream): calls to services from a stream, many in flight, results in order or as they come.
import { WeirError } from '../errors.ts';
import type { DataStream, SingleOutputStreamOperator } from './datastream.ts';
import type { OperatorContext } from './operator.ts';

/** Where an async call puts its results (once): complete(results) or completeExceptionally(error). */
export interface ResultFuture<O> {
  complete(results: Iterable<O>): void;
  completeExceptionally(error: unknown): void;
}

/** As Flink's AsyncFunction: asyncInvoke starts the call; timeout (optional) answers one that took too long. */
export abstract class AsyncFunction<I, O> {
  open?(ctx: OperatorContext): void;
  abstract asyncInvoke(input: I, resultFuture: ResultFuture<O>): void;
  /** Called when a request passed the timeout; by default the job fails (as in Flink). */
  timeout?(input: I, resultFuture: ResultFuture<O>): void;
  close?(): void;
}

/** The JavaScript form: a function returning a promise of the results (an array or any iterable). */
export type AsyncCall<I, O> = (input: I) => Promise<Iterable<O>>;

export interface AsyncOptions {
  /** Requests in flight at most (Flink's capacity, 100 by default): at capacity the operator takes no input. */
  readonly capacity?: number;
}

function add<I, O>(stream: DataStream<I>, fn: AsyncFunction<I, O> | AsyncCall<I, O>, timeout: number, capacity: number, ordered: boolean) {
  if (!(fn instanceof AsyncFunction) && typeof fn !== 'function') {
    throw new WeirError('AsyncDataStream takes an AsyncFunction (asyncInvoke(input, resultFuture)) or a function input => Promise<results>');
  }
  if (!(timeout > 0) || !Number.isFinite(timeout)) throw new WeirError(`AsyncDataStream: the timeout must be a number of ms > 0, got ${String(timeout)}`);
  if (!Number.isInteger(capacity) || capacity < 1) throw new WeirError(`AsyncDataStream: the capacity must be an integer >= 1, got ${String(capacity)}`);
  return stream.addOperator<O>('async', ordered ? 'AsyncWait(ordered)' : 'AsyncWait(unordered)', { fn, timeout, capacity, ordered }, true);
}

export const AsyncDataStream = {
  /** Results in the order of their inputs. */
  orderedWait<I, O>(stream: DataStream<I>, fn: AsyncFunction<I, O> | AsyncCall<I, O>, timeout: number, options: AsyncOptions = {}): SingleOutputStreamOperator<O> {
    return add(stream, fn, timeout, options.capacity ?? 100, true);
  },
  /** Results as they complete; a watermark still waits for every result of the records before it. */
  unorderedWait<I, O>(stream: DataStream<I>, fn: AsyncFunction<I, O> | AsyncCall<I, O>, timeout: number, options: AsyncOptions = {}): SingleOutputStreamOperator<O> {
    return add(stream, fn, timeout, options.capacity ?? 100, false);
  },
};
