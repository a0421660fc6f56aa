// Submits the endless fixture job and resolves once its source says, on a BroadcastChannel, that records flow.
import { submit } from '../../core/index.ts';
import type { JobHandle, JobOptions } from '../../core/index.ts';

export async function submitWhenFlowing(query: string, options: Partial<JobOptions>): Promise<JobHandle> {
  const channel = new BroadcastChannel('weir-test-endless');
  const flowing = new Promise((resolve) => { channel.onmessage = resolve; });
  const handle = await submit(new URL(`../fixtures/jobs/params.ts?mode=endless&${query}`, import.meta.url), options);
  await flowing;
  channel.close();
  return handle;
}
