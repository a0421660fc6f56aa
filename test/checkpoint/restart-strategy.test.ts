// Restart strategies: Flink's fixed-delay and exponential-delay, decided from the failure history alone.
import test from 'ava';
import { decideRestart, NO_RESTARTS_YET } from '../../core/checkpoint/restart-strategy.ts';
import type { RestartHistory, RestartPolicy } from '../../core/checkpoint/restart-strategy.ts';
import { defaultOptions, restartPolicyOf } from '../../core/options.ts';

const noJitter = () => 0.5;

function delays(policy: RestartPolicy, failuresAt: number[]): (number | string)[] {
  let h: RestartHistory = NO_RESTARTS_YET;
  return failuresAt.map((at) => {
    const d = decideRestart(policy, h, at, noJitter);
    if (!d.restart) return d.reason;
    h = d.history;
    return d.delayMs;
  });
}

test('defaults are Flink\'s: none without checkpointing, exponential-delay with it; fixed-delay allows one restart', (t) => {
  t.is(restartPolicyOf(defaultOptions()).strategy, 'none');
  const withCheckpoints = restartPolicyOf({ ...defaultOptions(), checkpointInterval: 1000 });
  t.like(withCheckpoints, { strategy: 'exponential-delay', attempts: Infinity, delayMs: 1000, maxDelayMs: 60_000, multiplier: 1.5, resetAfterMs: 3_600_000, jitter: 0.1 });
  t.is(restartPolicyOf({ ...defaultOptions(), restartStrategy: 'fixed-delay' }).attempts, 1);
});

test('fixed-delay waits the same delay each time and stops after its attempts', (t) => {
  const policy = { ...restartPolicyOf({ ...defaultOptions(), restartStrategy: 'fixed-delay', restartAttempts: 2, restartDelay: 50 }) };
  t.deepEqual(delays(policy, [0, 10, 20]), [50, 50, 'the fixed-delay strategy allows 2 restart(s)']);
});

test('exponential-delay multiplies up to its maximum and starts over after a quiet spell', (t) => {
  const policy = restartPolicyOf({ ...defaultOptions(), checkpointInterval: 1, restartDelay: 100, restartMaxDelay: 500, restartResetAfter: 10_000 });
  t.deepEqual(delays(policy, [0, 1, 2, 3, 4, 5, 20_000, 20_001]), [100, 150, 225, 338, 500, 500, 100, 150]);
});

test('jitter moves a delay by at most its share, both ways', (t) => {
  const policy = restartPolicyOf({ ...defaultOptions(), checkpointInterval: 1, restartDelay: 1000, restartJitter: 0.2 });
  const low = decideRestart(policy, NO_RESTARTS_YET, 0, () => 0);
  const high = decideRestart(policy, NO_RESTARTS_YET, 0, () => 0.999999);
  t.true(low.restart && low.delayMs === 800);
  t.true(high.restart && high.delayMs === 1200);
});

test('none never restarts', (t) => {
  t.deepEqual(delays(restartPolicyOf(defaultOptions()), [0]), ['the restart strategy is none']);
});
