// The worker's side of checkpoint storage: a subtask's state written durably beside its peers', then acknowledged.
import { mkdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { MessagePort } from 'node:worker_threads';
import { SAVEPOINT } from '../../core/coordinator/deploy.ts';
import type { StateFile, WorkerMessage } from '../../core/coordinator/deploy.ts';
export { subtaskKey } from '../../core/coordinator/deploy.ts';
import { fileChecksum, writeFileDurably } from '../../core/durable.ts';
import { fsPromises, v8, zlib } from '../../core/lazy-builtins.ts';
import type { SnapshotTarget } from '../../core/state/backend.ts';
import { channelStateFile, encodeChannelState, persistedBytesOf } from '../../core/checkpoint/channel-state.ts';
import type { CheckpointHooks, SubtaskState } from './subtask.ts';
import type { RestoredChain } from './restore.ts';

/**
 * Hooks for one subtask. The state is serialized on the actor's thread (the copy must be
 * of this moment); the write and its fsync run on the event loop while records flow, and
 * the acknowledgement goes out only once the bytes are durable.
 */
export function checkpointHooks(o: {
  readonly key: string;
  readonly dir: string;
  readonly control: Int32Array;
  readonly port: MessagePort;
  readonly attempt: number;
  readonly runId: string;
  readonly restore: RestoredChain | undefined;
  readonly unaligned: boolean;
  readonly alignedTimeout: number;
  readonly pending: Promise<unknown>[];
}): CheckpointHooks & { target(uid: string, id: number): SnapshotTarget | undefined } {
  const send = (m: WorkerMessage) => o.port.postMessage(m);
  // A savepoint is staged in sp-<id>/ beside the checkpoints, and moved where it was asked for once complete.
  const dirOf = (id: number) => join(o.dir, Atomics.load(o.control, SAVEPOINT) === id ? `sp-${id}` : `chk-${id}`);
  // Files operators write beside the state of the checkpoint being taken, and when each is done.
  let taking = 0;
  let deferred: { file: string; done: Promise<unknown> }[] = [];
  return {
    control: o.control,
    restore: o.restore,
    unaligned: o.unaligned,
    alignedTimeout: o.alignedTimeout,
    begin(id) {
      taking = id;
      deferred = [];
    },
    target(uid, id) {
      if (id !== taking) return undefined;
      return {
        prefix: join(dirOf(id), `${o.key}-${uid.replace(/[^\w.-]/g, '_')}`),
        defer: (file, done) => { deferred.push({ file, done }); },
      };
    },
    taken(id, state, syncMs, alignmentMs, alignment, channels) {
      taking = 0;
      const extras = deferred;
      deferred = [];
      const started = performance.now();
      const bytes = v8().serialize(state);
      const channelBytes = channels === null ? null : encodeChannelState(channels);
      const serializeMs = performance.now() - started;
      const name = `${o.key}.state`;
      const chk = dirOf(id);
      // The in-flight frames go beside the state, in their own file: verified and restored with it.
      const channelFile = channelBytes === null ? [] : [writeDurably(chk, channelStateFile(o.key), channelBytes)];
      const write = Promise.all([writeDurably(chk, name, bytes), ...channelFile, ...extras.map((x) => x.done.then(() => measure(chk, x.file)))]).then(
        ([file, ...extra]) => send({
          type: 'ack', id, subtask: o.key, file, extra, syncMs: syncMs + serializeMs, asyncMs: performance.now() - started - serializeMs, alignmentMs,
          descriptors: state.descriptors, stateful: statefulOf(state), alignment, persistedBytes: channels === null ? 0 : persistedBytesOf(channels),
        }),
        (err: Error) => send({ type: 'decline', id, subtask: o.key, reason: `writing its state failed: ${err.message}` }),
      );
      o.pending.push(write);
    },
    declined(id, reason) {
      send({ type: 'decline', id, subtask: o.key, reason });
    },
    awaitingFinal() {
      send({ type: 'awaiting', subtask: o.key });
    },
    finished(state, lastCheckpoint) {
      // Once per subtask, at its end: written at once, so the coordinator has it before the slot returns.
      const dir = join(o.dir, 'finished');
      mkdirSync(dir, { recursive: true });
      // The run id too: a resumed process starts again at attempt 0, and these files are linked into checkpoints.
      const name = `${o.key}-${o.runId}-attempt-${o.attempt}.state`;
      const bytes = v8().serialize(state);
      writeFileDurably(join(dir, name), bytes);
      send({ type: 'finished', subtask: o.key, file: { name: `finished/${name}`, bytes: bytes.byteLength, crc32: zlib().crc32(bytes) }, lastCheckpoint, descriptors: state.descriptors, stateful: statefulOf(state) });
    },
  };
}

/** The uids with any state in a subtask's snapshot: a restore that drops one of them says so. */
function statefulOf(state: SubtaskState): string[] {
  return [...new Set([...Object.keys(state.operators), ...Object.keys(state.operatorState ?? {}), ...Object.keys(state.descriptors)])];
}

/** A file an operator wrote into the checkpoint (already fsynced): its name there, size and checksum, read a chunk at a time. */
async function measure(chk: string, file: string): Promise<StateFile> {
  return { name: relative(chk, file), ...await fileChecksum(file) };
}

async function writeDurably(dir: string, name: string, bytes: Uint8Array): Promise<StateFile> {
  await fsPromises().mkdir(dir, { recursive: true });
  const fh = await fsPromises().open(join(dir, name), 'w');
  try {
    await fh.writeFile(bytes);
    await fh.sync();
  } finally {
    await fh.close();
  }
  return { name, bytes: bytes.byteLength, crc32: zlib().crc32(bytes) };
}


