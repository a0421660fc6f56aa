// The transports ring.bench.ts compares, by name, and the messages between the bench and its two worker threads.

import type { MessagePort } from 'node:worker_threads';
import { bareRing } from './bare.ts';
import { postPerRecord, postTransferredFresh, postTransferredPooled } from './post.ts';
import { ringbufjsBytes, ringbufjsFloat64 } from './ringbufjs.ts';
import type { Job, SharedEnd, Variant } from './variant.ts';
import { weirCopy, weirZeroCopy } from './weir.ts';

export const variants = {
  weirZeroCopy,
  weirCopy,
  bareRing,
  ringbufjsBytes,
  ringbufjsFloat64,
  postPerRecord,
  postTransferredPooled,
  postTransferredFresh,
} satisfies Record<string, Variant<SharedEnd> | Variant<MessagePort>>;

export type VariantName = keyof typeof variants;

export interface RunRequest {
  readonly variant: VariantName;
  readonly end: unknown;
  readonly job: Job;
}

export type RunReply =
  | { readonly kind: 'ready' }
  | { readonly kind: 'produced'; readonly at: number }
  | { readonly kind: 'consumed'; readonly at: number; readonly sum: number };
