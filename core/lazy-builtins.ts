// Node's built-in modules that only checkpoints, restores and generated uids use, loaded at first use.
//
// A worker thread loading node:crypto, node:zlib, node:v8 and node:fs/promises at start paid
// ~12 ms of its cold start for them (native-bench/startup.bench.ts), while a job without
// checkpoints, or whose operators all have uids, needs none of them. process.getBuiltinModule
// returns the module Node has loaded already, or loads it then.
export const crypto = (): typeof import('node:crypto') => process.getBuiltinModule('node:crypto');
export const zlib = (): typeof import('node:zlib') => process.getBuiltinModule('node:zlib');
export const v8 = (): typeof import('node:v8') => process.getBuiltinModule('node:v8');
export const fsPromises = (): typeof import('node:fs/promises') => process.getBuiltinModule('node:fs/promises');
