// Decoded tuples of integer and float fields keep their integers as small integers: an array literal of such values
// would be an array of unboxed doubles, whose integers read back as doubles, and a double kept as a Map key is a heap
// number that every later lookup compares through a load (the typed keyed job's running count paid 1.15x CPU for it).
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const fixture = fileURLToPath(new URL('../fixtures/tuple-elements.ts', import.meta.url));

test('every decoder path gives tuples of integers and floats as arrays of any values, their integers small integers', (t) => {
  const out = execFileSync(process.execPath, ['--allow-natives-syntax', '--conditions=weir-source', fixture], { encoding: 'utf8' });
  const report = JSON.parse(out) as Record<string, { smi: boolean; doubles: boolean; equal: boolean }>;
  const paths = ['decode', 'decodeRange', 'fused', 'fusedReuse'];
  t.deepEqual(Object.keys(report).sort(), ['tuple<int32,float64>', 'tuple<uint8,float32,int16>'].flatMap((n) => paths.map((p) => `${n} ${p}`)).sort());
  for (const [path, r] of Object.entries(report)) {
    t.true(r.equal, `${path}: the records decoded`);
    t.true(r.smi, `${path}: integer fields are small integers`);
    t.false(r.doubles, `${path}: not an array of unboxed doubles`);
  }
});
