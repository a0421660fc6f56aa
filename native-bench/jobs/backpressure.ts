// The unaligned-checkpoint benchmark's job, as flink-benchmarks' CheckpointingTimeBenchmark: an endless source of
// ~100-byte records -> rebalance -> map -> rebalance -> a sink that busy-spins per record.
// ?sinkUs=<busy microseconds per record> &rate=<records per second per source subtask, 0: as fast as it can>
import { defineJob } from '../../core/index.ts';
import type { Collector, OperatorContext, SourceOperator } from '../../core/index.ts';

const q = new URL(import.meta.url).searchParams;
const sinkUs = Number(q.get('sinkUs') ?? 200);
const rate = Number(q.get('rate') ?? 0);

export type Rec = { seq: number; src: number; body: string };
/** ~100 bytes encoded (msgpack): 72 characters of body plus the keys and numbers. */
export const BODY = 'r'.repeat(72);

function source(ctx: OperatorContext): SourceOperator<Rec> {
  let seq = 0;
  const started = Date.now();
  return {
    emitBatch(emit, max) {
      const allowed = rate === 0 ? max : Math.min(max, Math.floor(((Date.now() - started) * rate) / 1000) - seq);
      for (let i = 0; i < allowed; i++) emit({ seq: seq++, src: ctx.subtask, body: BODY });
      return true;
    },
    snapshotState: () => ({ seq }),
    initializeState(s) { seq = (s as { seq: number }).seq; },
  };
}

export default defineJob((env) => {
  env.fromSource(source).uid('source')
    .rebalance().map((r) => ({ ...r, seq: r.seq + 1 })).uid('map')
    .rebalance().transform('Slow sink', (_: OperatorContext) => ({
      processElement(_v: Rec, _out: Collector<never>) {
        for (const t = performance.now(); performance.now() - t < sinkUs / 1000;);
      },
    })).uid('sink');
});
