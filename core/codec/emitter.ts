// Source builder shared by the encoder and decoder generators: temp names, error paths, and bounds-checked runs of fixed-size fields.

import type { TypeInfo } from './types.ts';

/** Bytes a value of this type always takes, or undefined when that depends on the value. */
export function fixedSize(t: TypeInfo): number | undefined {
  switch (t.kind) {
    case 'int8': case 'uint8': case 'boolean': return 1;
    case 'int16': case 'uint16': return 2;
    case 'int32': case 'uint32': case 'float32': return 4;
    case 'float64': case 'bigint64': return 8;
    case 'string': case 'nullable': case 'array': return undefined;
    case 'tuple': return sumOf(t.elements);
    case 'row': return sumOf(t.fields.map((f) => f.type));
  }
}

function sumOf(types: readonly TypeInfo[]): number | undefined {
  let sum = 0;
  for (const t of types) {
    const size = fixedSize(t);
    if (size === undefined) return undefined;
    sum += size;
  }
  return sum;
}

/** A path inside a record: literal steps, and loop variables that become `[j]` at run time. */
export type Path = readonly (string | { readonly index: string })[];

/** A JS expression for the path's text; loop variables are only read when an error is thrown. */
export function pathExpr(path: Path): string {
  const parts: string[] = [];
  let text = '';
  for (const step of path) {
    if (typeof step === 'string') {
      text += step;
    } else {
      parts.push(JSON.stringify(text + '['), step.index);
      text = ']';
    }
  }
  parts.push(JSON.stringify(text));
  return parts.join(' + ');
}

/**
 * Collects generated lines. Fixed-size fields are addressed as `p + k` with k known while
 * generating, so a run of them costs one bounds check (`guard`) and one `p +=`; the run
 * closes at anything whose size depends on the value, and at every block boundary.
 */
export class Emitter {
  readonly lines: string[] = [];
  /** Set while generating code whose bounds the caller has already checked for every record or element. */
  unguarded = false;
  /** False for an encoder of records the emit-time check has already tested: no type tests are generated. */
  checked = true;
  private readonly guard: (bytes: number) => string;
  private k = 0;
  private runLine = -1;
  private runBytes = 0;
  private temps = 0;

  constructor(guard: (bytes: number) => string) {
    this.guard = guard;
  }

  temp(prefix: string): string {
    return `${prefix}${this.temps++}`;
  }

  push(line: string): void {
    this.lines.push(line);
  }

  /** Reserves `bytes` in the open run and returns the expression for their offset. */
  fixed(bytes: number): string {
    if (!this.unguarded && this.runLine < 0) {
      this.runLine = this.lines.length;
      this.lines.push('');
    }
    this.runBytes += bytes;
    const at = this.k === 0 ? 'p' : `p + ${this.k}`;
    this.k += bytes;
    return at;
  }

  /** Closes the open run: its guard goes before its first field, and p moves past it. */
  flush(): void {
    if (this.runLine >= 0) this.lines[this.runLine] = this.guard(this.runBytes);
    if (this.k > 0) this.lines.push(`p += ${this.k};`);
    this.runLine = -1;
    this.runBytes = 0;
    this.k = 0;
  }

  /** Generates a block (a branch or a loop body) with its own runs, leaving the state as it found it. */
  block(open: string, body: () => void, close = '}'): void {
    this.flush();
    this.push(open);
    body();
    this.flush();
    this.push(close);
  }

  source(): string {
    return this.lines.filter((l) => l !== '').join('\n');
  }
}
