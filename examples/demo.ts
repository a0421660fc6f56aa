// `npm start`: runs examples/payments.ts on worker threads and prints what each operator did.
import { submit } from 'weir';

const job = await submit(new URL('./payments.ts', import.meta.url));
console.log(`running on ${job.plan.slots} worker threads (plan ${job.plan.fingerprint})`);
const result = await job.done;
for (const [uid, c] of Object.entries(result.operators)) {
  console.log(`${uid.padEnd(12)} ${c.name.padEnd(10)} in ${String(c.recordsIn).padStart(9)}  out ${String(c.recordsOut).padStart(9)}`);
}
const rate = (1_000_000 / result.durationMs) * 1000;
console.log(`1,000,000 payments in ${result.durationMs.toFixed(0)} ms (${(rate / 1e6).toFixed(2)}M records/s); large ones in out/large-payments/`);
