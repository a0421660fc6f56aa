// The number-rows check of one record, written the ways it could be: what each costs per record, over 1024 {key, value}
// objects, each check compiled into a loop of its own. "nothing" is the loop and the field tests alone: subtract it from
// the others.
// Run: npm exec -- node native-bench/plain-check-explore.ts
const N = 20_000_000;
const records = Array.from({ length: 1024 }, (_, i) => ({ key: i % 10000, value: (i & 1023) + 0.5 }));
const KEYS = Object.freeze(['key', 'value']);
const FIELDS = `typeof r["key"] === 'number' && typeof r["value"] === 'number'`;
const COUNT = 'let n = 0; for (const k in r) n++; if (n !== 2) return false;';
// The keys in order: compared with literals, as number-rows.ts generates them, or looked up in an array of them.
const ORDER = 'let n = 0; for (const k in r) { if (k !== (n === 0 ? "key" : n === 1 ? "value" : null)) return false; n++; } if (n !== 2) return false;';
const ORDER_ARRAY = 'let n = 0; for (const k in r) { if (n === 2 || k !== keys[n]) return false; n++; } if (n !== 2) return false;';
// The keys as number-rows.ts checks them: each one the shape's next key, and the record's own (not inherited).
const OWN = `let n = 0; for (const k in r) { if (k !== (n === 0 ? "key" : n === 1 ? "value" : "") || !r.hasOwnProperty(k)) return false; n++; } if (n !== 2) return false;`;
const checks: [string, string][] = [
  ['Object.getPrototypeOf(r) === Object.prototype, for-in count', `if (Object.getPrototypeOf(r) !== Object.prototype) return false; ${COUNT}`],
  ['Object.getPrototypeOf alone', 'if (Object.getPrototypeOf(r) !== Object.prototype) return false;'],
  ['for-in count alone', COUNT],
  ['r.constructor === Object, for-in count', `if (r.constructor !== Object) return false; ${COUNT}`],
  ['r.constructor === Object alone', 'if (r.constructor !== Object) return false;'],
  ['r.constructor === Object, Object.keys(r).length', 'if (r.constructor !== Object || Object.keys(r).length !== 2) return false;'],
  ['r.constructor === Object, for-in: each key own and in order', `if (r.constructor !== Object) return false; ${OWN}`],
  ['Object.getPrototypeOf, for-in: each key own and in order', `if (Object.getPrototypeOf(r) !== Object.prototype) return false; ${OWN}`],
  ['r.__proto__ === Object.prototype, for-in count', `if (r.__proto__ !== Object.prototype) return false; ${COUNT}`],
  ['r.__proto__ === Object.prototype, for-in: each key the shape\'s next (number-rows.ts)', `if (r.__proto__ !== Object.prototype) return false; ${ORDER}`],
  ['the same, the keys looked up in an array', `if (r.__proto__ !== Object.prototype) return false; ${ORDER_ARRAY}`],
  ['r.__proto__ === Object.prototype alone', 'if (r.__proto__ !== Object.prototype) return false;'],
  ['nothing', 'return true;'],
];
let sink = 0;
for (let pass = 0; pass < 2; pass++) {
  for (const [name, test] of checks) {
    // The loop and the check compiled together from unique source, as TurboFan compiles encodeNumberRows with the check inlined.
    const loop = new Function('records', 'N', 'keys', `let ok = 0;
  for (let j = 0; j < N / 1024; j++) for (let i = 0; i < 1024; i++) {
    const r = records[i];
    ok += (() => { if (typeof r !== 'object' || r === null) return false; ${test} return ${FIELDS}; })() ? 1 : 0;
  }
  return ok; // ${name}`) as (records: unknown[], n: number, keys: readonly string[]) => number;
    const ns: number[] = [];
    for (let round = 0; round < 3; round++) {
      const t = performance.now();
      sink += loop(records, N, KEYS);
      ns.push(((performance.now() - t) * 1e6) / N);
    }
    if (pass === 1) console.log(`${name.padEnd(62)} ${ns[2]!.toFixed(2)} ns/record (the last of 3 rounds, second pass)`);
  }
}
if (sink === 0) console.log('no record passed');
