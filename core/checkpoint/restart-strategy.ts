// Restart strategies as Flink names them and with Flink's defaults: a pure decision over the failure history.

export type RestartStrategyName = 'none' | 'fixed-delay' | 'exponential-delay';

export interface RestartPolicy {
  readonly strategy: RestartStrategyName;
  /** fixed-delay: restarts before the job fails; exponential-delay: restarts before the backoff resets (Infinity). */
  readonly attempts: number;
  /** fixed-delay: the delay; exponential-delay: the first one. */
  readonly delayMs: number;
  readonly maxDelayMs: number;
  readonly multiplier: number;
  /** exponential-delay: a job that ran this long without failing starts again from the first delay. */
  readonly resetAfterMs: number;
  /** exponential-delay: each delay is moved by up to this share of itself, at random. */
  readonly jitter: number;
}

export interface RestartHistory {
  /** Restarts so far, since the last reset for exponential-delay. */
  readonly restarts: number;
  /** The delay the next failure waits before the multiplier (exponential-delay). */
  readonly backoffMs: number;
  /** When the last failure happened (epoch ms), or null before the first. */
  readonly lastFailureAt: number | null;
}

export const NO_RESTARTS_YET: RestartHistory = { restarts: 0, backoffMs: 0, lastFailureAt: null };

export type RestartDecision =
  | { readonly restart: true; readonly delayMs: number; readonly history: RestartHistory }
  | { readonly restart: false; readonly reason: string };

/**
 * What to do after a failure at `now`. `random` returns a number in [0, 1) and only moves
 * exponential delays by the jitter; tests pass a constant.
 */
export function decideRestart(policy: RestartPolicy, history: RestartHistory, now: number, random: () => number = Math.random): RestartDecision {
  switch (policy.strategy) {
    case 'none':
      return { restart: false, reason: 'the restart strategy is none' };
    case 'fixed-delay':
      if (history.restarts >= policy.attempts) {
        return { restart: false, reason: `the fixed-delay strategy allows ${policy.attempts} restart(s)` };
      }
      return { restart: true, delayMs: policy.delayMs, history: { restarts: history.restarts + 1, backoffMs: policy.delayMs, lastFailureAt: now } };
    case 'exponential-delay': {
      const reset = history.lastFailureAt === null || now - history.lastFailureAt >= policy.resetAfterMs;
      const restarts = reset ? 0 : history.restarts;
      if (restarts >= policy.attempts) {
        return { restart: false, reason: `the exponential-delay strategy allows ${policy.attempts} restart(s) before its backoff resets` };
      }
      const backoff = reset ? policy.delayMs : history.backoffMs;
      const jittered = backoff * (1 + policy.jitter * (2 * random() - 1));
      return {
        restart: true, delayMs: Math.max(0, Math.round(jittered)),
        history: { restarts: restarts + 1, backoffMs: Math.min(policy.maxDelayMs, backoff * policy.multiplier), lastFailureAt: now },
      };
    }
  }
}
