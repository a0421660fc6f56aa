// The worker thread's first module: turns Node's compile cache on, then loads the worker proper.
//
// A worker thread compiles its whole module graph (about 80 modules, TypeScript types
// stripped from each when run from source) before its first record. Node's compile cache
// keeps the stripped source and V8's code cache on disk by content hash, so every later
// worker, in this process or the next, skips both: measured 2x on the start-up of a
// 1000-record job (native-bench/pipeline.bench.ts). It must be on before those imports
// start, hence this module, which imports nothing else at its top level.
// NODE_DISABLE_COMPILE_CACHE=1 turns it off; NODE_COMPILE_CACHE=dir moves it.
import { enableCompileCache } from 'node:module';

enableCompileCache();
const worker = import(new URL(`./worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url).href);

export default async function runSlot(deploy: unknown): Promise<unknown> {
  const { default: run } = await worker;
  return run(deploy as never);
}
