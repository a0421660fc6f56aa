// The check both backends make when the runtime sets a key: its key group must be this subtask's.
import { WeirError } from '../errors.ts';
import type { BackendContext, CurrentKey } from './backend.ts';

export function checkKeyGroup(ctx: BackendContext, current: CurrentKey): void {
  const kg = current.keyGroup;
  if (!Number.isInteger(kg) || kg < ctx.keyGroups.start || kg > ctx.keyGroups.end) {
    throw new WeirError(`key ${JSON.stringify(current.key, (_, v) => typeof v === 'bigint' ? `${v}n` : v)} is in key group ${kg}, `
      + `outside this subtask's range [${ctx.keyGroups.start}, ${ctx.keyGroups.end}]`, { uid: ctx.uid, subtask: ctx.subtask });
  }
}
