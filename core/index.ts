// The public API of weir: everything a user or an actor author imports comes from here.
import './node-check.ts';
export { allocateRing, RingConsumer, RingProducer, before, RING_HEADER_BYTES } from './channel/ring.ts';
export type { Announcement } from './channel/ring.ts';
export { ChannelWriter } from './channel/channel-writer.ts';
export { Doorbell, DOORBELL_BYTES } from './channel/doorbell.ts';
export {
  FrameKind, frameKindName, frameSpan, encodeBarrier, decodeBarrier, encodeWatermark, decodeWatermark,
  FRAME_HEADER_BYTES,
} from './channel/frames.ts';
export type { Barrier } from './channel/frames.ts';
export { defineJob } from './job.ts';
export type { JobDefinition } from './job.ts';
import type { submit as submitJob } from './coordinator/submit.ts';
/**
 * Runs a job (core/coordinator/submit.ts). The coordinator (piscina and the checkpoint
 * coordinator with it) loads on the first call: every worker thread imports this module
 * through its job's `import 'weir'` and never submits, and loading piscina there cost each
 * thread ~12 ms of a cold start (native-bench/startup.bench.ts).
 */
export const submit: typeof submitJob = async (job, options, hooks) => (await import('./coordinator/submit.ts')).submit(job, options, hooks);
export { readSavepoint } from './checkpoint/read-savepoint.ts';
export type { SavepointReader } from './checkpoint/read-savepoint.ts';
export type { JobHandle, JobResult, SubmitHooks } from './coordinator/submit.ts';
export type { CheckpointStats } from './coordinator/checkpointing.ts';
export { StreamExecutionEnvironment } from './api/environment.ts';
export type { SourceOperator, SourceFactory, FileSourceOptions, SplitSource, SplitReader } from './api/environment.ts';
export { DataStream, KeyedStream, SingleOutputStreamOperator, DataStreamSink, fileSink } from './api/datastream.ts';
export type { FileSinkOptions } from './api/datastream.ts';
export { twoPhaseCommitSink } from './api/sink.ts';
export type { OperatorListState, Redistribution } from './state/operator-state.ts';
export type { TwoPhaseCommitSink } from './api/sink.ts';
export type { SinkDescriptor } from './api/datastream.ts';
export { ProcessFunction } from './api/functions.ts';
export { WatermarkStrategy, Watermark, BoundedOutOfOrdernessWatermarks } from './api/watermarks.ts';
export type { WatermarkGenerator, WatermarkOutput, TimestampAssigner, WatermarkGeneratorSupplier } from './api/watermarks.ts';
export {
  TimeWindow, GlobalWindow, WindowAssigner, TumblingEventTimeWindows, TumblingProcessingTimeWindows, SlidingEventTimeWindows,
  SlidingProcessingTimeWindows, EventTimeSessionWindows, ProcessingTimeSessionWindows, GlobalWindows, Trigger, TriggerResult,
  EventTimeTrigger, ProcessingTimeTrigger, CountTrigger, PurgingTrigger, ContinuousEventTimeTrigger, ContinuousProcessingTimeTrigger,
  NeverTrigger, ProcessWindowFunction, ProcessAllWindowFunction, WindowFunction, AllWindowFunction, Evictor, CountEvictor, TimeEvictor,
  DeltaEvictor, TimestampedValue,
} from './api/windows.ts';
export type {
  Window, WindowAssignerContext, TriggerContext, OnMergeContext, ProcessWindowContext, WindowStateStore, PartitionedState,
  SessionWindowTimeGapExtractor, EvictorContext,
} from './api/windows.ts';
export { WindowedStream, AllWindowedStream } from './api/windowed-stream.ts';
export {
  CoProcessFunction, KeyedCoProcessFunction, KeyedBroadcastProcessFunction, BroadcastProcessFunction, ProcessJoinFunction,
} from './api/co-functions.ts';
export type {
  KeyedCoContext, BroadcastState, ReadOnlyBroadcastState, BroadcastContext, BroadcastReadOnlyContext, KeyedBroadcastReadOnlyContext,
  KeyedBroadcastContext, ProcessJoinContext,
} from './api/co-functions.ts';
export { AsyncDataStream, AsyncFunction } from './api/async.ts';
export type { ResultFuture, AsyncCall, AsyncOptions } from './api/async.ts';
export { ConnectedStreams, BroadcastStream, BroadcastConnectedStream, IntervalJoin, IntervalJoined, JoinedStreams } from './api/connected-streams.ts';
export type { WindowAggregateFunction } from './api/windowed-stream.ts';
export type { MapFunction, FilterFunction, FlatMapFunction, KeySelector, ProcessContext } from './api/functions.ts';
export { OutputTag } from './api/operator.ts';
export type { Collector, Output, OperatorContext, StreamOperator, OperatorFactory, RecordTime } from './api/operator.ts';
export { WeirError } from './errors.ts';
export type { JobOptions, SavepointLocation, SubmitOptions } from './options.ts';
export { Types } from './codec/types.ts';
export type { TypeInfo } from './codec/types.ts';
export { codecFor } from './codec/schema.ts';
export { generalCodec } from './codec/general.ts';
export type { Codec } from './codec/codec.ts';
export { CodecError } from './codec/errors.ts';
export {
  encodeKey, decodeKey, keyHash, keyId, KeyError, keyGroupOf, keyGroupForHash, operatorIndexForKeyGroup,
  keyGroupRangeForOperator, defaultMaxParallelism,
} from './keys/index.ts';
export type { Key, KeyGroupRange } from './keys/index.ts';
export { KeyedProcessFunction } from './api/keyed-process-function.ts';
export type { KeyedContext, OnTimerContext, TimerService, TimeDomain } from './api/keyed-process-function.ts';
export {
  ValueStateDescriptor, ListStateDescriptor, MapStateDescriptor, ReducingStateDescriptor, AggregatingStateDescriptor,
  StateDescriptor,
} from './state/descriptors.ts';
export type { AggregateFunction, StateKind } from './state/descriptors.ts';
export type { ValueState, ListState, MapState, ReducingState, AggregatingState, KeyedStateStore } from './state/keyed-state.ts';
export type { KeyedStateBackend, StateTable, BackendContext, CurrentKey } from './state/backend.ts';
export { HeapBackend } from './state/heap-backend.ts';
export { ManualClock, systemClock } from './time/clock.ts';
export type { Clock } from './time/clock.ts';
