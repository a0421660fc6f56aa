// A piscina task that does nothing: the pool's own start-up, without weir (parts.ts). Plain JavaScript, as imports-worker.mjs.
export default function run(x) {
  return x;
}
