// Creates the keyed state backend of one keyed operator subtask, as the stateBackend option says.
import { join } from 'node:path';
import type { JobOptions } from '../../core/options.ts';
import type { BackendContext, KeyedStateBackend } from '../../core/state/backend.ts';
import { HeapBackend } from '../../core/state/heap-backend.ts';

/**
 * LMDB working environments live under `<attempt dir>/slot-<n>/<uid>`: fresh for every
 * attempt (each has its own directory, see core/coordinator/attempt.ts), unsynced (checkpoints bring durability), and removed by the
 * coordinator when the job ends. lmdb is imported only by jobs that use it.
 */
export async function backendFactory(options: JobOptions, runDir: string, slot: number):
  Promise<(ctx: BackendContext) => KeyedStateBackend> {
  if (options.stateBackend === 'heap') return (ctx) => new HeapBackend(ctx);
  const { openLmdbBackend } = await import('../../core/state/lmdb-backend.ts');
  return (ctx) => openLmdbBackend(join(runDir, `slot-${slot}`, ctx.uid), ctx, { cacheBytes: options.lmdbCacheBytes, discardOnClose: true });
}
