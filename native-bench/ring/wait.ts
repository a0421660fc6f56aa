// How a benchmark thread waits for its peer: spin a little, then sleep on a Doorbell under its lost-wakeup protocol.

import type { Doorbell } from '../../core/channel/doorbell.ts';

/**
 * Long enough to ride out the peer finishing a batch when both threads have a core, short
 * enough not to burn the time slice the peer needs when they share one (the machine has two
 * cores, and the other may be busy).
 */
const SPINS = 200;
/** Only a guard: with the protocol a sleeper is always rung. */
const SLEEP_TIMEOUT_MS = 1000;

/** Returns once ready() is true; ready() must have no effect once it has returned true. */
export function blockUntil(bell: Doorbell, ready: () => boolean): void {
  for (let i = 0; i < SPINS; i++) if (ready()) return;
  for (;;) {
    // Announce the sleep before the last look: a peer that changes the ring after that look
    // rings the bell after we stored `sleeping`, so it notifies or moves the epoch we wait on.
    const epoch = bell.prepareToSleep();
    if (ready()) {
      bell.awake();
      return;
    }
    bell.sleepSync(epoch, SLEEP_TIMEOUT_MS);
  }
}
