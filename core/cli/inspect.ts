// `weir inspect`: what a checkpoint holds, read from its files (verified first), without running anything.
import { existsSync, statSync } from 'node:fs';
import { readSubtaskState } from '../checkpoint/read-savepoint.ts';
import { join, resolve } from 'node:path';
import { deserialize } from 'node:v8';
import { CHANNEL_STATE_FORMAT, FrameQueue, readChannelState } from '../checkpoint/channel-state.ts';
import type { PersistedChannel } from '../checkpoint/channel-state.ts';
import { latestValidCheckpoint, METADATA_FILE, readSavepointDir } from '../checkpoint/storage.ts';
import { rawPairs } from '../state/canonical.ts';
import type { RestorableCheckpoint } from '../checkpoint/storage.ts';
import { FrameKind } from '../channel/frames.ts';
import { formatBytes } from '../bytes.ts';
import { WeirError } from '../errors.ts';

export const INSPECT_HELP = `usage: weir inspect <checkpoint-or-savepoint>

Prints what a checkpoint or savepoint holds: its job and metadata, the job's layout (tasks,
parallelism, operators), every subtask's files and sizes, the keyed state each operator
registered (entries and key groups per state; LMDB checkpoints' copied environments by
size), timers, operator state lists, the positions and other small states operators
returned (source positions among them), and the in-flight records of an unaligned
checkpoint per channel. The path is a savepoint (sp-<n>), a chk-<n> directory, or a
--checkpoint-dir (its newest complete checkpoint). Every file is verified against its
checksum first; nothing in it is executed.`;

interface SubtaskState {
  readonly operators: Record<string, unknown>;
  readonly finished?: boolean;
  readonly operatorState?: Record<string, Record<string, { redistribution: string; items: unknown[] }>>;
}

export function inspect(path: string): string {
  const notes: string[] = [];
  const checkpoint = open(path, notes);
  const m = checkpoint.metadata;
  const lines: string[] = [...notes];
  lines.push(`${m.kind ?? 'checkpoint'} ${m.id} of ${m.job}`, `  path ${checkpoint.path}`,
    `  format ${m.format}, fingerprint ${m.fingerprint}, run ${m.runId}${m.stateBackend !== undefined ? `, state backend ${m.stateBackend}` : ''}`,
    `  triggered ${new Date(m.triggeredAt).toISOString()}, completed ${new Date(m.completedAt).toISOString()}`,
    `  key groups (maxParallelism) by task: ${Object.entries(m.maxParallelism).map(([t, n]) => `${t}: ${n}`).join(', ')}`);
  if (m.tasks !== undefined) {
    lines.push('', 'tasks (operators chained in each, by uid):');
    for (const [id, t] of Object.entries(m.tasks)) lines.push(`  task ${id}: parallelism ${t.parallelism}, maxParallelism ${t.maxParallelism}: ${t.uids.join(' > ')}`);
  }
  lines.push('', 'keyed and operator state registered, by operator uid:');
  for (const [uid, states] of Object.entries(m.state)) lines.push(`  ${uid}: ${states.map((s) => `${s.name} ${s.signature}`).join('; ')}`);
  const subtasks = Object.keys(m.files).filter((k) => !k.includes('/')).sort(bySubtask);
  let inFlight = 0;
  for (const key of subtasks) {
    const f = m.files[key]!;
    const extras = Object.entries(m.files).filter(([k]) => k.startsWith(`${key}/`));
    lines.push('', `subtask ${key}: ${f.name} ${formatBytes(f.bytes)}${extras.map(([, x]) => `, ${x.name} ${formatBytes(x.bytes)}`).join('')}`);
    const state = readSubtaskState(checkpoint.files[key]!) as SubtaskState;
    if (state.finished === true) lines.push('  taken after its end of input (a restore does not run it again)');
    for (const [uid, s] of Object.entries(state.operators)) lines.push(`  ${uid}: ${describeOperatorState(s)}`);
    for (const [uid, lists] of Object.entries(state.operatorState ?? {})) {
      for (const [name, l] of Object.entries(lists)) lines.push(`  ${uid}: operator list '${name}' (${l.redistribution}), ${l.items.length} item(s)`);
    }
    const channelKey = extras.find(([, x]) => x.name.endsWith('.channels'));
    if (channelKey !== undefined) {
      const cs = readChannelState(checkpoint.files[channelKey[0]]!);
      lines.push(`  in-flight records (channel state format ${CHANNEL_STATE_FORMAT}, frame format ${cs.frameFormat}):`);
      for (const [side, list] of [['input', cs.inputs], ['output', cs.outputs]] as const) {
        for (const c of list) {
          inFlight += c.frames.byteLength;
          lines.push(`    ${side} ${c.channel}: ${describeFrames(c)}`);
        }
      }
    }
  }
  lines.push('', `in-flight bytes persisted in all: ${formatBytes(inFlight)}`);
  return lines.join('\n');
}

function open(given: string, notes: string[]): RestorableCheckpoint {
  const path = resolve(given);
  if (!existsSync(path)) throw new WeirError(`no checkpoint at ${path}: it does not exist`);
  if (!statSync(path).isDirectory()) throw new WeirError(`${path} is a file: give a chk-<n> directory or a checkpoint directory`);
  // A savepoint or a retained checkpoint, wherever it was moved: its names are relative.
  if (existsSync(join(path, METADATA_FILE))) return readSavepointDir(path);
  const { checkpoint, skipped } = latestValidCheckpoint(path);
  if (checkpoint === null) throw new WeirError(`no complete checkpoint in ${path} (no chk-<n>/${METADATA_FILE})`);
  for (const s of skipped) notes.push(`  skipped a newer, damaged checkpoint: ${s}`);
  return checkpoint;
}

/** A keyed operator's snapshot by its backend; anything else by its JSON when short (source positions, counters). */
function describeOperatorState(s: unknown): string {
  const keyed = s as { state?: { kind?: string; tables?: Record<string, Record<string, Uint8Array>> }; eventTimers?: unknown[]; processingTimers?: unknown[]; watermark?: number };
  if (keyed !== null && typeof keyed === 'object' && keyed.state !== undefined && typeof keyed.state.kind === 'string') {
    const timers = `${lengthOf(keyed.eventTimers)} event-time and ${lengthOf(keyed.processingTimers)} processing-time timer(s), watermark ${keyed.watermark}`;
    if (keyed.state.kind === 'heap' && keyed.state.tables !== undefined) {
      const tables = Object.entries(keyed.state.tables).map(([name, groups]) => {
        let entries = 0;
        for (const g of Object.values(groups)) entries += (deserialize(g) as Map<unknown, unknown>).size;
        return `${name}: ${entries} entr${entries === 1 ? 'y' : 'ies'} in ${Object.keys(groups).length} key group(s)`;
      });
      return `keyed state (heap) ${tables.join(', ') || 'empty'}; ${timers}`;
    }
    const canonical = keyed.state as { kind: string; tables?: Record<string, { descriptor?: string; pairs?: Uint8Array } | Uint8Array> };
    if ((canonical.kind === 'canonical' || canonical.kind === 'lmdb') && canonical.tables !== undefined) {
      const tables = Object.entries(canonical.tables).map(([name, t]) => {
        const pairs = t instanceof Uint8Array ? t : t.pairs!;
        let entries = 0;
        const groups = new Set<number>();
        for (const [k] of rawPairs(pairs, `state '${name}'`)) { entries++; groups.add((k[0]! << 8) | k[1]!); }
        return `${name}: ${entries} entr${entries === 1 ? 'y' : 'ies'} in ${groups.size} key group(s), ${formatBytes(pairs.byteLength)}`;
      });
      return `keyed state (${canonical.kind === 'canonical' ? 'canonical, any backend' : 'lmdb'}) ${tables.join(', ') || 'empty'}; ${timers}`;
    }
    return `keyed state (${keyed.state.kind}); ${timers}`;
  }
  let json: string;
  try {
    json = JSON.stringify(s) ?? String(s);
  } catch {
    json = Object.prototype.toString.call(s);
  }
  return json.length <= 200 ? json : `${json.slice(0, 197)}...`;
}

function lengthOf(v: unknown): number {
  return Array.isArray(v) ? v.length : 0;
}

function describeFrames(c: PersistedChannel): string {
  const q = new FrameQueue(c.frames);
  let data = 0;
  let records = 0;
  let watermarks = 0;
  let ends = 0;
  for (; q.next(); q.consume()) {
    if (q.kind === FrameKind.DATA) { data++; records += q.count; } else if (q.kind === FrameKind.WATERMARK) watermarks++; else ends++;
  }
  return `${formatBytes(c.frames.byteLength)}, ${records - c.skip} record(s) in ${data} frame(s)${c.skip > 0 ? ` (the first ${c.skip} already processed)` : ''}`
    + `${watermarks > 0 ? `, ${watermarks} watermark(s)` : ''}${ends > 0 ? ', its end of partition' : ''}; codec ${c.codec}`;
}

function bySubtask(a: string, b: string): number {
  const [ta, sa] = a.split('-').map(Number) as [number, number];
  const [tb, sb] = b.split('-').map(Number) as [number, number];
  return ta - tb || sa - sb;
}
