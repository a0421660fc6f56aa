// One doorbell per worker thread: the word producers and consumers ring to wake a sleeping scheduler.

/**
 * Layout (Int32Array over a SharedArrayBuffer of DOORBELL_BYTES):
 *
 *   byte 0        4          8
 *        +--------+----------+
 *        | epoch  | sleeping |
 *        +--------+----------+
 *
 * Lost-wakeup protocol. The sleeper (the worker's scheduler):
 *   1. stores sleeping = 1
 *   2. loads e = epoch
 *   3. re-checks every input ring and every output it waits on; if any has work, stores
 *      sleeping = 0 and runs
 *   4. otherwise Atomics.waitAsync(epoch, e)
 * The ringer (a producer after publishing, a consumer after freeing space a producer waits
 * for) first makes its change visible, then adds 1 to epoch, then notifies if sleeping is 1.
 *
 * Why this order: all operations are sequentially consistent. If the ringer read
 * sleeping == 0, its epoch increment came before step 1, so its data change came before
 * the re-check in step 3, which sees it. If the ringer published after step 3, its epoch
 * increment comes after step 2, so waitAsync either finds epoch != e and returns at once,
 * or is already waiting when the ringer, seeing sleeping == 1, notifies.
 */
export const DOORBELL_BYTES = 8;
const EPOCH = 0;
const SLEEPING = 1;

export class Doorbell {
  readonly buffer: SharedArrayBuffer;
  private readonly words: Int32Array;

  constructor(buffer: SharedArrayBuffer = new SharedArrayBuffer(DOORBELL_BYTES)) {
    this.buffer = buffer;
    this.words = new Int32Array(buffer, 0, 2);
  }

  ring(): void {
    Atomics.add(this.words, EPOCH, 1);
    if (Atomics.load(this.words, SLEEPING) !== 0) Atomics.notify(this.words, EPOCH);
  }

  /** Step 1 and 2 of the protocol: announce the intent to sleep and return the epoch to wait on. */
  prepareToSleep(): number {
    Atomics.store(this.words, SLEEPING, 1);
    return Atomics.load(this.words, EPOCH);
  }

  /** Called when the re-check found work, or after waking. */
  awake(): void {
    Atomics.store(this.words, SLEEPING, 0);
  }

  /** Step 4: resolves when the epoch moved past `epoch`, or after timeoutMs. */
  async sleep(epoch: number, timeoutMs: number): Promise<void> {
    const r = Atomics.waitAsync(this.words, EPOCH, epoch, timeoutMs);
    if (r.async) await r.value;
    this.awake();
  }

  /** Blocking variant for threads that may block (benchmarks, test helpers), never for actors. */
  sleepSync(epoch: number, timeoutMs: number): 'ok' | 'not-equal' | 'timed-out' {
    const r = Atomics.wait(this.words, EPOCH, epoch, timeoutMs);
    this.awake();
    return r;
  }

  get epoch(): number {
    return Atomics.load(this.words, EPOCH);
  }
}
