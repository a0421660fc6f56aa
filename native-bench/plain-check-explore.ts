// The number-rows check of one record, written the ways it could be: what each costs per record, over 1024 {key, value}
// objects, each check compiled from its own source as number-rows.ts compiles it. G is the loop and the call alone
// (the checks are called through one call site, so none is inlined): subtract it from the others.
// Run: npm exec -- node native-bench/plain-check-explore.ts
const N = 20_000_000;
const recs = Array.from({ length: 1024 }, (_, i) => ({ key: i % 10000, value: (i & 1023) + 0.5 }));
const checkA = new Function('r', `if (typeof r !== 'object' || r === null || Object.getPrototypeOf(r) !== Object.prototype) return false;
  let n = 0; for (const k in r) n++; return n === 2 && typeof r["key"] === 'number' && typeof r["value"] === 'number';`) as (r: unknown) => boolean;
const checkB = new Function('r', `if (typeof r !== 'object' || r === null || Object.getPrototypeOf(r) !== Object.prototype) return false;
  return typeof r["key"] === 'number' && typeof r["value"] === 'number';`) as (r: unknown) => boolean;
const checkC = new Function('r', `if (typeof r !== 'object' || r === null) return false;
  let n = 0; for (const k in r) n++; return n === 2 && typeof r["key"] === 'number' && typeof r["value"] === 'number';`) as (r: unknown) => boolean;
const proto = Object.prototype;
const checkD = new Function('proto', 'return function(r) { if (typeof r !== "object" || r === null || Object.getPrototypeOf(r) !== proto) return false; let n = 0; for (const k in r) n++; return n === 2 && typeof r["key"] === "number" && typeof r["value"] === "number"; }')(proto) as (r: unknown) => boolean;
for (const [name, f] of [['A getPrototypeOf + for-in', checkA], ['B getPrototypeOf only', checkB], ['C for-in only', checkC], ['D proto as binding', checkD]] as const) {
  for (let round = 0; round < 3; round++) {
    const t = performance.now(); let ok = 0;
    for (let j = 0; j < N / 1024; j++) for (let i = 0; i < 1024; i++) if (f(recs[i])) ok++;
    if (round === 2) console.log(name, ((performance.now() - t) * 1e6 / N).toFixed(2), 'ns', ok);
  }
}
const checkE = new Function('r', `if (typeof r !== 'object' || r === null || r.constructor !== Object) return false;
  let n = 0; for (const k in r) n++; return n === 2 && typeof r["key"] === 'number' && typeof r["value"] === 'number';`) as (r: unknown) => boolean;
const checkF = new Function('r', `if (typeof r !== 'object' || r === null || r.constructor !== Object) return false;
  return typeof r["key"] === 'number' && typeof r["value"] === 'number';`) as (r: unknown) => boolean;
const checkG = new Function('r', `return typeof r === 'object' && r !== null;`) as (r: unknown) => boolean;
for (const [name, f] of [['E constructor + for-in', checkE], ['F constructor only', checkF], ['G nothing', checkG]] as const) {
  for (let round = 0; round < 3; round++) {
    const t = performance.now(); let ok = 0;
    for (let j = 0; j < N / 1024; j++) for (let i = 0; i < 1024; i++) if (f(recs[i])) ok++;
    if (round === 2) console.log(name, ((performance.now() - t) * 1e6 / N).toFixed(2), 'ns', ok);
  }
}
