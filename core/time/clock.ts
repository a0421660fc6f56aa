// Processing time as an injected clock, so timers and TTL run on virtual time in tests.

export interface Clock {
  /** Milliseconds. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock that moves only when told to. */
export class ManualClock implements Clock {
  private t: number;
  constructor(start = 0) { this.t = start; }
  now(): number { return this.t; }
  set(t: number): void {
    if (t < this.t) throw new RangeError(`a clock does not go back (from ${this.t} to ${t})`);
    this.t = t;
  }
  advance(ms: number): void { this.set(this.t + ms); }
}
