// The cooperative scheduler of one worker: runs its actors downstream first and sleeps on the doorbell.
import type { Doorbell } from '../../core/channel/doorbell.ts';
import type { Subtask } from './subtask.ts';

/** The event loop gets a turn at least this often, so control messages and timers are not starved. */
const YIELD_EVERY_MS = 1;
/** A bound on a sleep, as a safety net only: every wake-up the protocol needs comes from the doorbell. */
const MAX_SLEEP_MS = 200;

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export interface SchedulerStats {
  steps: number;
  sleeps: number;
}

/**
 * Runs until every actor is done or `cancelled()` says to stop. Actors are visited downstream
 * first, so records already in flight are drained before sources make more. No actor ever
 * blocks the thread: a full ring sends frames to overdraft instead, and an actor with
 * overdraft takes no input until it has drained (Subtask.step).
 */
export async function runScheduler(actors: Subtask[], bell: Doorbell, cancelled: () => boolean): Promise<SchedulerStats> {
  const order = [...actors].sort((a, b) => b.task.id - a.task.id);
  const stats: SchedulerStats = { steps: 0, sleeps: 0 };
  let lastYield = performance.now();
  while (!cancelled()) {
    let live = 0;
    let progress = false;
    for (const a of order) {
      if (a.done) continue;
      live++;
      if (a.step()) progress = true;
      stats.steps++;
    }
    if (live === 0) break;
    if (progress) {
      if (performance.now() - lastYield >= YIELD_EVERY_MS) {
        await yieldToEventLoop();
        lastYield = performance.now();
      }
      continue;
    }
    // The lost-wakeup protocol (doorbell.ts): announce the sleep, re-check, then wait.
    const epoch = bell.prepareToSleep();
    if (order.some((a) => a.hasWork())) {
      bell.awake();
      if (performance.now() - lastYield >= YIELD_EVERY_MS) {
        await yieldToEventLoop();
        lastYield = performance.now();
      }
      continue;
    }
    stats.sleeps++;
    // Processing-time timers are due on the wall clock, not on a ring: wake for the earliest.
    const deadline = Math.min(...order.map((a) => a.nextDeadline()));
    const ms = Math.min(MAX_SLEEP_MS, deadline - Date.now());
    if (!(ms > 0)) {
      // A deadline already due that no actor acts on: a wait of 0 resolves at once, and
      // awaiting it would yield to microtasks only, starving this thread's event loop (its
      // checkpoint writes and messages). Yield to the event loop instead.
      bell.awake();
      await yieldToEventLoop();
    } else await bell.sleep(epoch, ms);
    lastYield = performance.now();
  }
  return stats;
}
