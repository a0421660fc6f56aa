// Maps an operator kind named in the graph to the implementation that runs it in a worker.
import type { SourceFactory, SourceOperator, SplitSource } from '../../core/api/environment.ts';
import type { ProcessFunction } from '../../core/api/functions.ts';
import type { OperatorContext, OperatorFactory, StreamOperator } from '../../core/api/operator.ts';
import { WeirError } from '../../core/errors.ts';
import type { StreamNode } from '../../core/graph/stream-graph.ts';
import type { RecordWriter } from '../runtime/record-writer.ts';
import type { KeyedProcessFunction } from '../../core/api/keyed-process-function.ts';
import { keyedProcessOperator } from './keyed-process.ts';
import { filterOperator, flatMapOperator, mapOperator, processOperator } from './functions.ts';
import type { TwoPhaseCommitSink } from '../../core/api/sink.ts';
import { fileSink } from './file-sink.ts';
import { collectSink, discardSink, printSink } from './sinks.ts';
import { twoPhaseCommitOperator } from './two-phase-commit.ts';
import { timestampsOperator } from './timestamps.ts';
import { windowOperator } from './window.ts';
import { asyncWaitOperator } from './async-wait.ts';
import { broadcastOperator, coProcessOperator, intervalJoinOperator, keyedBroadcastOperator, keyedCoProcessOperator } from './two-input.ts';
import type {
  BroadcastProcessFunction, CoProcessFunction, KeyedBroadcastProcessFunction, KeyedCoProcessFunction, ProcessJoinFunction,
} from '../../core/api/co-functions.ts';
import type { WindowSpec } from './window.ts';
import type { WatermarkStrategy } from '../../core/api/watermarks.ts';
import { collectionSource, fileSource, sequenceSource, splitSource } from './sources.ts';

type Fn = (...args: never[]) => unknown;

/** The key selector of a keyed two-input operator's input `side`. */
function keyOf(node: StreamNode, side: 1 | 2, ctx: OperatorContext): (v: unknown) => unknown {
  const input = node.inputs.find((i) => (i.side ?? 1) === side);
  const selector = input?.partitioning?.keySelector;
  if (selector === undefined || ctx.keyedBackend === undefined) {
    throw new WeirError(`a keyed two-input operator needs its input ${side} keyed (keyBy)`, { uid: node.uid });
  }
  return selector;
}

export function isSource(node: StreamNode): boolean {
  return node.kind.startsWith('source:');
}

export function createSource(node: StreamNode, ctx: OperatorContext): SourceOperator<unknown> {
  const p = node.params;
  switch (node.kind) {
    case 'source:sequence': return sequenceSource(p['from'] as number, p['to'] as number, ctx) as SourceOperator<unknown>;
    case 'source:collection': return collectionSource(p['items'] as unknown[]);
    case 'source:file': return fileSource(p['path'] as string, p['format'] as 'lines' | 'jsonl', ctx);
    case 'source:custom': return (p['factory'] as SourceFactory<unknown>)(ctx);
    case 'source:splits': return splitSource(p['source'] as SplitSource<unknown, unknown>, ctx, p['perSplit'] === true);
    default: throw new WeirError(`unknown source kind ${node.kind}`, { uid: node.uid });
  }
}

/** `collect` supplies the writer of a collect sink's ring to the coordinator. */
export function createOperator(node: StreamNode, ctx: OperatorContext, collect: () => RecordWriter): StreamOperator<unknown, unknown> {
  const p = node.params;
  switch (node.kind) {
    case 'map': return mapOperator(p['fn'] as (v: unknown) => unknown);
    case 'filter': return filterOperator(p['fn'] as (v: unknown) => boolean);
    case 'flatMap': return flatMapOperator(p['fn'] as Parameters<typeof flatMapOperator>[0]);
    case 'process': return processOperator(p['fn'] as ProcessFunction<unknown, unknown>, ctx);
    case 'keyedProcess': {
      const keySelector = node.inputs[0]?.partitioning?.keySelector;
      if (keySelector === undefined || ctx.keyedBackend === undefined) {
        throw new WeirError('a keyed operator needs a keyBy input', { uid: node.uid });
      }
      return keyedProcessOperator(p['fn'] as KeyedProcessFunction<unknown, unknown, unknown>, keySelector, ctx, ctx.keyedBackend());
    }
    case 'window': {
      const keySelector = node.inputs[0]?.partitioning?.keySelector;
      if (keySelector === undefined || ctx.keyedBackend === undefined) throw new WeirError('a window operator needs a keyBy input', { uid: node.uid });
      return windowOperator(p['spec'] as WindowSpec, keySelector, ctx, ctx.keyedBackend());
    }
    case 'coProcess': return coProcessOperator(p['fn'] as CoProcessFunction<unknown, unknown, unknown>, ctx);
    case 'broadcastProcess': return broadcastOperator(p['fn'] as BroadcastProcessFunction<unknown, unknown, unknown>, p['descriptors'] as never, ctx);
    case 'keyedCoProcess':
      return keyedCoProcessOperator(p['fn'] as KeyedCoProcessFunction<unknown, unknown, unknown, unknown>, keyOf(node, 1, ctx), keyOf(node, 2, ctx), ctx, ctx.keyedBackend!());
    case 'keyedBroadcastProcess':
      return keyedBroadcastOperator(p['fn'] as KeyedBroadcastProcessFunction<unknown, unknown, unknown, unknown>, keyOf(node, 1, ctx), p['descriptors'] as never, ctx,
        ctx.keyedBackend!());
    case 'intervalJoin':
      return intervalJoinOperator(p['fn'] as ProcessJoinFunction<unknown, unknown, unknown>, p['lower'] as number, p['upper'] as number,
        keyOf(node, 1, ctx), keyOf(node, 2, ctx), ctx, ctx.keyedBackend!());
    case 'async': return asyncWaitOperator(p as never, ctx);
    case 'timestamps': return timestampsOperator(p['strategy'] as WatermarkStrategy<unknown>, ctx, p['perSplit'] === true);
    case 'operator': return (p['factory'] as OperatorFactory<unknown, unknown>)(ctx);
    case 'sink:print': return printSink(p['prefix'] as string | undefined, ctx);
    case 'sink:discard': return discardSink();
    case 'sink:collect': return collectSink(collect());
    case 'sink:file': return twoPhaseCommitOperator(fileSink(p['dir'] as string, ctx) as TwoPhaseCommitSink<unknown, unknown>, ctx);
    case 'sink:2pc': return twoPhaseCommitOperator((p['factory'] as (c: OperatorContext) => TwoPhaseCommitSink<unknown, unknown>)(ctx), ctx);
    default: {
      const custom = p['factory'] as Fn | undefined;
      if (typeof custom === 'function') return (custom as OperatorFactory<unknown, unknown>)(ctx);
      throw new WeirError(`unknown operator kind ${node.kind}`, { uid: node.uid });
    }
  }
}
