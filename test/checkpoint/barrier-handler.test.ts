// The aligned barrier handler as a model: random inputs, random interleavings, checked against what alignment means.
import test from 'ava';
import fc from 'fast-check';
import { CollectingBarriers, WaitingForFirstBarrier } from '../../core/checkpoint/barrier-handler.ts';
import type { BarrierAction, BarrierEvent, BarrierHandlerState } from '../../core/checkpoint/barrier-handler.ts';

type Item = { kind: 'record'; epoch: number } | { kind: 'barrier'; id: number } | { kind: 'end' };

/**
 * One input: records, then barrier 1, records, barrier 2, ... as a producer sends them. A
 * producer that declined checkpoint k sends no barrier k; records carry the number of the
 * last barrier before them (their epoch).
 */
const input = (checkpoints: number) => fc.record({
  counts: fc.array(fc.nat(3), { minLength: checkpoints + 1, maxLength: checkpoints + 1 }),
  missing: fc.subarray(Array.from({ length: checkpoints }, (_, i) => i + 1)),
  ends: fc.boolean(),
}).map(({ counts, missing, ends }) => {
  const items: Item[] = [];
  let epoch = 0;
  counts.forEach((n, k) => {
    if (k > 0 && !missing.includes(k)) { items.push({ kind: 'barrier', id: k }); epoch = k; }
    for (let i = 0; i < n; i++) items.push({ kind: 'record', epoch });
  });
  if (ends) items.push({ kind: 'end' });
  return items;
});

const scenario = fc.integer({ min: 1, max: 4 }).chain((channels) => fc.integer({ min: 1, max: 5 }).chain((checkpoints) => fc.record({
  inputs: fc.array(input(checkpoints), { minLength: channels, maxLength: channels }),
  // The scheduler's choices: which unblocked input delivers next, and when the coordinator aborts.
  picks: fc.array(fc.nat(), { minLength: 200, maxLength: 200 }),
  aborts: fc.array(fc.record({ at: fc.nat(60), id: fc.integer({ min: 1, max: checkpoints }) }), { maxLength: 2 }),
})));

interface Run { snapshots: { id: number; processed: Map<number, number[]> }[]; declined: number[]; stuck: boolean }

function run(inputs: Item[][], picks: number[], aborts: { at: number; id: number }[]): Run {
  let state: BarrierHandlerState = new WaitingForFirstBarrier();
  const channels = inputs.map(() => ({ ended: false, blocked: false, next: 0 }));
  const processed = new Map<number, number[]>(inputs.map((_, i) => [i, []]));
  const out: Run = { snapshots: [], declined: [], stuck: false };
  const apply = (e: BarrierEvent) => {
    const r = state.on(e, channels);
    state = r.next;
    for (const a of r.actions as BarrierAction[]) {
      if (a.kind === 'block') channels[a.ch]!.blocked = true;
      else if (a.kind === 'unblockAll') for (const c of channels) c.blocked = false;
      else if (a.kind === 'snapshot') out.snapshots.push({ id: a.id, processed: new Map([...processed].map(([k, v]) => [k, [...v]])) });
      else if (a.kind === 'decline') out.declined.push(a.id);
    }
  };
  for (let step = 0; ; step++) {
    for (const ab of aborts) if (ab.at === step) apply({ kind: 'abort', id: ab.id });
    const ready = channels.map((c, i) => ({ c, i })).filter(({ c, i }) => !c.ended && !c.blocked && c.next < inputs[i]!.length);
    if (ready.length === 0) {
      out.stuck = channels.some((c, i) => c.next < inputs[i]!.length);
      return out;
    }
    const { c, i } = ready[picks[step % picks.length]! % ready.length]!;
    const item = inputs[i]![c.next++]!;
    if (item.kind === 'record') processed.get(i)!.push(item.epoch);
    else if (item.kind === 'barrier') apply({ kind: 'barrier', ch: i, id: item.id });
    else { c.ended = true; apply({ kind: 'ended', ch: i }); }
  }
}

test('alignment: a snapshot sees every record before its barrier and none after, on every input; nothing stays blocked', (t) => {
  fc.assert(fc.property(scenario, ({ inputs, picks, aborts }) => {
    const r = run(inputs, picks, aborts);
    // An input that has not ended may yet send its barrier: waiting for it is alignment. Once
    // every input ends, nothing may stay blocked.
    const allEnd = inputs.every((items) => items.at(-1)?.kind === 'end');
    if (r.stuck && allEnd) throw new Error('an input stayed blocked with records left after every input ended: alignment deadlocked');
    let last = 0;
    for (const s of r.snapshots) {
      if (s.id <= last) throw new Error(`snapshot ${s.id} after ${last}`);
      last = s.id;
      inputs.forEach((items, ch) => {
        const seen = s.processed.get(ch)!;
        const before = items.findIndex((x) => x.kind === 'barrier' && x.id >= s.id);
        // Every record of this input that precedes barrier id (or the input's end) is in the snapshot.
        const expected = (before < 0 ? items : items.slice(0, before)).filter((x) => x.kind === 'record').length;
        if (seen.length !== expected) throw new Error(`snapshot ${s.id} saw ${seen.length} records of input ${ch}, expected ${expected}`);
        if (seen.some((epoch) => epoch >= s.id)) throw new Error(`snapshot ${s.id} holds a record after its barrier on input ${ch}`);
      });
    }
  }), { numRuns: 3000 });
  t.pass();
});

test('every checkpoint whose barrier reached every input, unaborted, is snapshotted exactly once', (t) => {
  fc.assert(fc.property(scenario, ({ inputs, picks }) => {
    const r = run(inputs, picks, []);
    const ids = r.snapshots.map((s) => s.id);
    const maxId = Math.max(0, ...inputs.flatMap((items) => items.flatMap((x) => (x.kind === 'barrier' ? [x.id] : []))));
    for (let id = 1; id <= maxId; id++) {
      // Completable here: every input carries barrier id or ends without skipping it.
      const everywhere = inputs.every((items) => items.some((x) => x.kind === 'barrier' && x.id === id)
        || (items.at(-1)?.kind === 'end' && !items.some((x) => x.kind === 'barrier' && x.id > id)));
      const overtaken = inputs.some((items) => !items.some((x) => x.kind === 'barrier' && x.id === id) && items.some((x) => x.kind === 'barrier' && x.id > id));
      const count = ids.filter((x) => x === id).length;
      if (count > 1) throw new Error(`checkpoint ${id} snapshotted ${count} times`);
      if (everywhere && !overtaken && count === 0 && !r.declined.includes(id)) {
        throw new Error(`checkpoint ${id} reached every input but was neither snapshotted nor declined`);
      }
      if (count === 1 && !everywhere) throw new Error(`checkpoint ${id} snapshotted though an input never had its barrier`);
    }
  }), { numRuns: 3000 });
  t.pass();
});

test('states by example: a newer barrier declines the one being aligned; an abort or a cancel unblocks', (t) => {
  const two = [{ ended: false }, { ended: false }];
  let r = new WaitingForFirstBarrier().on({ kind: 'barrier', ch: 0, id: 1 }, two);
  t.true(r.next instanceof CollectingBarriers);
  t.deepEqual(r.actions, [{ kind: 'block', ch: 0 }]);
  const collecting = r.next;
  r = collecting.on({ kind: 'barrier', ch: 1, id: 2 }, two);
  t.deepEqual(r.actions.map((a) => a.kind), ['unblockAll', 'decline', 'block']);
  t.is((r.next as CollectingBarriers).id, 2);
  t.deepEqual(collecting.on({ kind: 'abort', id: 1 }, two).actions, [{ kind: 'unblockAll' }]);
  t.deepEqual(collecting.on({ kind: 'cancel', ch: 1, id: 1 }, two).actions, [{ kind: 'unblockAll' }, { kind: 'forwardCancel', id: 1 }]);
  t.is(collecting.on({ kind: 'barrier', ch: 1, id: 1 }, two).next.name, 'WaitingForFirstBarrier');
});
