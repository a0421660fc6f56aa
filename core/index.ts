// The public API of weir: everything a user or an actor author imports comes from here.
export { allocateRing, RingConsumer, RingProducer, before, RING_HEADER_BYTES } from './channel/ring.ts';
export type { Announcement } from './channel/ring.ts';
export { ChannelWriter } from './channel/channel-writer.ts';
export { Doorbell, DOORBELL_BYTES } from './channel/doorbell.ts';
export {
  FrameKind, frameKindName, frameSpan, encodeBarrier, decodeBarrier, encodeWatermark, decodeWatermark,
  FRAME_HEADER_BYTES,
} from './channel/frames.ts';
export type { Barrier } from './channel/frames.ts';
