// Channel throughput: 16-byte records from a producer worker thread to a consumer worker thread.
//
// Measures records/s through weir's ring, on its zero-copy path (reserve, write records in
// place, publish) and its copy path (tryWrite of a heap batch), beside the same records moved
// in the same run by: a bare hand-written SPSC ring (the memory limit), ringbuf.js, and
// postMessage, one record per message and as transferred buffers of 256 and 1024 records
// (4 and 16 KB). Rings of 1 MiB; batches of 64..1024 records per frame; the consumer sums a
// field and the sum is checked. Medians of 5 runs, taken in rounds (every transport once
// per round) after a warm-up round, so the drifting load of a shared machine falls on all
// alike. Every shared-memory variant waits the same way (spin, then sleep on a Doorbell),
// so the comparison isolates the rings.
//
// Expect, weir zero-copy at 256 records per frame: >= 0.7x the bare ring, >= 3x ringbuf.js
// moving bytes (float64 elements are recorded beside it), >= 4x transferred 16 KB buffers,
// >= 100x postMessage per record.
// Run: npm run bench -- ring   (or: npm exec -- node native-bench/ring.bench.ts)

import os from 'node:os';
import { formatValue, median, record, sampleEach, writeResults } from './lib/report.ts';
import { Peer } from './ring/peer.ts';
import { expectedSum, RECORD_BYTES } from './ring/records.ts';
import type { Job } from './ring/variant.ts';
import { variants, type VariantName } from './ring/variants.ts';

const RUNS = 5;
const BATCHES = [64, 128, 256, 512, 1024];
const AT = 256;
const RING_RECORDS = 32 << 20;

interface Case {
  readonly variant: VariantName;
  readonly label: string;
  readonly batches: readonly number[];
  readonly total: number;
}

const cases: readonly Case[] = [
  { variant: 'weirZeroCopy', label: 'weir ring, zero-copy', batches: BATCHES, total: RING_RECORDS },
  { variant: 'weirCopy', label: 'weir ring, tryWrite copy', batches: BATCHES, total: RING_RECORDS },
  { variant: 'bareRing', label: 'bare SPSC ring', batches: BATCHES, total: RING_RECORDS },
  { variant: 'ringbufjsFloat64', label: 'ringbuf.js, float64 elements', batches: [AT], total: RING_RECORDS / 2 },
  { variant: 'ringbufjsBytes', label: 'ringbuf.js, byte elements', batches: [AT], total: RING_RECORDS / 4 },
  { variant: 'postTransferredPooled', label: 'postMessage, transferred buffers, pooled', batches: [AT, 1024], total: RING_RECORDS / 2 },
  { variant: 'postTransferredFresh', label: 'postMessage, transferred buffers, fresh', batches: [AT, 1024], total: RING_RECORDS / 2 },
  { variant: 'postPerRecord', label: 'postMessage, one record per message', batches: [1], total: 1 << 20 },
];

/** Records per second of one run: from the producer's first record to the consumer's last. */
async function runOnce(producer: Peer, consumer: Peer, variant: VariantName, job: Job): Promise<number> {
  const ends = variants[variant].connect();
  consumer.send({ variant, end: ends.consumer, job }, ends.transfer.consumer);
  await consumer.take('ready');
  producer.send({ variant, end: ends.producer, job }, ends.transfer.producer);
  const [started, consumed] = await Promise.all([producer.take('produced'), consumer.take('consumed')]);
  if (consumed.sum !== expectedSum(job.total)) {
    throw new Error(`${variant}, batch ${job.batch}: consumer summed ${consumed.sum}, expected ${expectedSum(job.total)}`);
  }
  return job.total / ((consumed.at - started.at) / 1000);
}

interface Measured {
  readonly label: string;
  readonly batch: number;
  readonly median: number;
  readonly samples: readonly number[];
}

console.log(`${os.cpus()[0]?.model}, ${os.availableParallelism()} cores, load ${os.loadavg()[0]!.toFixed(2)}; `
  + `${RECORD_BYTES}-byte records, medians of ${RUNS} runs`);
// Threads of their own for each transport: code shared between transports (ringbuf.js's copy
// loop over two element types, say) must not run with type feedback another one left.
const peers = cases.map(() => ({ producer: new Peer('producer'), consumer: new Peer('consumer') }));
const runs = cases.flatMap((c, i) => c.batches.map((batch) => ({ label: c.label, batch, variant: c.variant, total: c.total, ...peers[i]! })));
const samples = await sampleEach(RUNS, runs.map((r) => () => runOnce(r.producer, r.consumer, r.variant, { batch: r.batch, total: r.total })));
await Promise.all(peers.flatMap((p) => [p.producer.stop(), p.consumer.stop()]));

const measured: Measured[] = runs.map((r, i) => ({ label: r.label, batch: r.batch, median: median(samples[i]!), samples: samples[i]! }));
for (const m of measured) {
  console.log(`  ${m.label}, ${m.batch}/batch: ${formatValue(m.median)} records/s`
    + ` (${formatValue(Math.min(...m.samples))}..${formatValue(Math.max(...m.samples))})`);
}

const find = (label: string, batch: number) => measured.find((m) => m.label === label && m.batch === batch)!;
const best = (label: string) => measured.filter((m) => m.label === label).reduce((a, b) => (b.median > a.median ? b : a));

console.log(`\n${'transport'.padEnd(48)} ${'batch'.padStart(5)} ${'records/s'.padStart(10)} ${'MB/s'.padStart(8)} ${'vs weir'.padStart(8)}`);
const weir = find('weir ring, zero-copy', AT);
for (const c of cases) {
  const first = c.batches.includes(AT) ? find(c.label, AT) : find(c.label, c.batches[0]!);
  const rows = best(c.label) === first ? [first] : [first, best(c.label)];
  for (const [i, m] of rows.entries()) {
    const tag = i === 1 ? ' (best)' : '';
    console.log(`${(c.label + tag).padEnd(48)} ${String(m.batch).padStart(5)} ${formatValue(m.median).padStart(10)}`
      + ` ${(m.median * RECORD_BYTES / 1e6).toFixed(0).padStart(8)} ${(weir.median / m.median).toFixed(2).padStart(7)}x`);
  }
}
console.log();

const figure = (m: Measured) => ({ name: `${m.label}, ${m.batch}/frame`, value: m.median, unit: 'records/s', samples: m.samples });
const baseline = (m: Measured) => ({ name: `${m.label}, ${m.batch}/batch`, value: m.median });
record({ ...figure(weir), baseline: baseline(find('bare SPSC ring', AT)), target: { ratio: 0.7 } });
record({ ...figure(weir), baseline: baseline(find('ringbuf.js, float64 elements', AT)), target: { ratio: 3 } });
record({ ...figure(weir), baseline: baseline(find('ringbuf.js, byte elements', AT)), target: { ratio: 3 } });
record({ ...figure(weir), baseline: baseline(find('postMessage, transferred buffers, pooled', 1024)), target: { ratio: 4 } });
record({ ...figure(weir), baseline: baseline(find('postMessage, transferred buffers, fresh', 1024)), target: { ratio: 4 } });
record({ ...figure(weir), baseline: baseline(find('postMessage, one record per message', 1)), target: { ratio: 100 } });
record({ ...figure(weir), baseline: baseline(find('postMessage, transferred buffers, pooled', AT)) });
record({ ...figure(find('weir ring, tryWrite copy', AT)), baseline: baseline(weir) });
record({ ...figure(best('weir ring, zero-copy')), baseline: baseline(best('bare SPSC ring')) });
writeResults('ring');
