// The one error type of weir: what went wrong, where (operator uid, subtask, position) and whether a restart can help.

export interface WeirErrorOptions {
  uid?: string;
  subtask?: number;
  /** Where in the input: a record index, a file and line, an SQL line and column. */
  position?: string;
  /** A restart cannot help (bad options, a graph that differs between threads, a module that does not load). */
  unrecoverable?: boolean;
  cause?: unknown;
}

export class WeirError extends Error {
  readonly uid: string | undefined;
  readonly subtask: number | undefined;
  readonly position: string | undefined;
  /** As in Flink, every failure is restarted (if a restart strategy allows) unless marked so. */
  readonly unrecoverable: boolean;

  constructor(message: string, options: WeirErrorOptions = {}) {
    const where = [
      options.uid !== undefined ? `operator '${options.uid}'` : '',
      options.subtask !== undefined ? `subtask ${options.subtask}` : '',
      options.position ?? '',
    ].filter(Boolean).join(', ');
    super(where ? `${message} (${where})` : message, options.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = 'WeirError';
    this.uid = options.uid;
    this.subtask = options.subtask;
    this.position = options.position;
    this.unrecoverable = options.unrecoverable ?? false;
  }
}

/** Plain data that crosses the control port (an Error loses its custom properties there). */
export interface ErrorReport {
  message: string;
  stack?: string;
  uid?: string;
  subtask?: number;
  position?: string;
  unrecoverable?: boolean;
  causeMessage?: string;
  /** The user's own stack, where the failure began: a WeirError's stack starts in weir. */
  causeStack?: string;
}

export function reportOf(err: unknown, where: { uid?: string; subtask?: number } = {}): ErrorReport {
  if (err instanceof WeirError) {
    const cause = err.cause instanceof Error ? err.cause : undefined;
    return {
      message: err.message, stack: err.stack, uid: err.uid ?? where.uid, subtask: err.subtask ?? where.subtask,
      position: err.position, unrecoverable: err.unrecoverable,
      ...(cause !== undefined ? { causeStack: cause.stack ?? `${cause.name}: ${cause.message}` } : {}),
    };
  }
  const e = err instanceof Error ? err : new Error(String(err));
  return { message: e.message, stack: e.stack, ...where, causeMessage: `${e.name}: ${e.message}`, causeStack: e.stack };
}

export function errorFromReport(r: ErrorReport): WeirError {
  const message = r.causeMessage !== undefined ? `user code failed: ${r.causeMessage}` : r.message;
  let cause: Error | undefined;
  if (r.causeStack !== undefined) {
    cause = new Error(r.causeStack.split('\n')[0]);
    cause.stack = r.causeStack;
  }
  const err = new WeirError(r.causeMessage !== undefined ? message : stripWhere(message), {
    uid: r.uid, subtask: r.subtask, position: r.position, unrecoverable: r.unrecoverable, ...(cause !== undefined ? { cause } : {}),
  });
  if (r.stack !== undefined) err.stack = `${err.name}: ${err.message}\n    [worker] ${r.stack}`;
  return err;
}

/** A WeirError's message already names where; keep it from being said twice. */
function stripWhere(message: string): string {
  return message.replace(/ \((operator '[^']*'|subtask \d+)[^)]*\)$/, '');
}
