// Stable operator uids: the user's, or a hash of kind, name, input uids and ordinal.
import { WeirError } from '../errors.ts';
import type { StreamGraph } from './stream-graph.ts';
import { crypto } from '../lazy-builtins.ts';

/**
 * Generated uids depend only on an operator's own description and its inputs' uids, plus
 * an ordinal among otherwise identical siblings, so inserting an operator elsewhere in
 * the graph does not rename this one. Returns warnings for stateful operators without a
 * user uid: their state cannot be matched across changes of the job.
 */
export function assignUids(graph: StreamGraph): string[] {
  const seen = new Map<string, number>();
  const used = new Set<string>();
  const warnings: string[] = [];
  for (const node of graph.nodes) {
    if (node.userUid !== undefined) {
      if (used.has(node.userUid)) throw new WeirError(`uid '${node.userUid}' is used by two operators`, { uid: node.userUid });
      node.uid = node.userUid;
    } else {
      const basis = [node.kind, node.name, ...node.inputs.map((i) => `${i.node.uid}:${i.tag ?? ''}`)].join('\u0000');
      const ordinal = seen.get(basis) ?? 0;
      seen.set(basis, ordinal + 1);
      node.uid = `${node.kind.replace(/[^a-z]/gi, '')}-${crypto().createHash('sha256').update(`${basis}\u0000${ordinal}`).digest('hex').slice(0, 12)}`;
      if (node.stateful) {
        warnings.push(`stateful operator '${node.name}' has no uid; set .uid(...) so savepoints can restore its state`);
      }
    }
    used.add(node.uid);
  }
  return warnings;
}
