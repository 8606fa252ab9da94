/**
 * The control protocol (README, "Control connections"): short request/response exchanges on a
 * secure connection whose selector byte is `SELECTOR_CONTROL`. Frames are varint-length-prefixed
 * msgpack maps (@peerkit/framing). The dialer sends requests, the listener answers each in order;
 * either side may end the connection.
 */
import { type Codec, defineCodec, type Infer, t } from '@peerkit/framing';
import { type ChatLimits, maxEnvelopeSize } from './limits';

/** First byte the dialer sends on a secure connection: what the connection is for. */
export const SELECTOR_GOSSIP = 0x01;
export const SELECTOR_CONTROL = 0x02;
/** Requests one control connection may carry before the listener closes it. */
export const MAX_REQUESTS_PER_CONNECTION = 16;

function schemas(l: ChatLimits) {
  const envelope = t.bytes({ minLength: 1, maxLength: maxEnvelopeSize(l) });
  const room = t.string({ minLength: 1, maxLength: l.maxRoomLength });
  const request = t.union('type', {
    /**
     * The last `limit` messages of `room` (older than `before`, a timestamp in ms, when given),
     * as many as fit in one page of `maxHistoryResponseBytes`.
     */
    history: t.object({
      room,
      limit: t.uint({ min: 1, max: l.maxHistory }),
      before: t.optional(t.uint()),
    }),
    /** A direct message for the listener (an encoded `DirectMessage`). */
    dm: t.object({ envelope }),
  });
  const response = t.union('type', {
    /** One page, oldest first; `more`: older messages were left out (ask `before` the first). */
    history: t.object({
      room,
      messages: t.array(envelope, { maxLength: l.maxHistory }),
      more: t.optional(t.bool()),
    }),
    /** The DM with this id was verified and shown to the recipient. */
    ack: t.object({ id: t.bytes({ length: 16 }) }),
    error: t.object({
      code: t.string({ minLength: 1, maxLength: 32 }),
      message: t.string({ maxLength: 256 }),
    }),
  });
  return { request, response };
}

type Schemas = ReturnType<typeof schemas>;
export type ControlRequest = Infer<Schemas['request']>;
export type ControlResponse = Infer<Schemas['response']>;

export interface ControlCodecs {
  request: Codec<ControlRequest>;
  response: Codec<ControlResponse>;
  /** Largest request frame: one envelope (a DM) and a little. What a listener buffers. */
  maxRequestFrame: number;
  /** Largest response frame: one history page and its framing. What a dialer buffers. */
  maxResponseFrame: number;
}

export function controlCodecs(limits: ChatLimits): ControlCodecs {
  const s = schemas(limits);
  const maxRequestFrame = maxEnvelopeSize(limits) + 1024;
  const maxResponseFrame =
    Math.max(limits.maxHistoryResponseBytes, maxEnvelopeSize(limits)) +
    8 * (limits.maxHistory + 1) +
    1024;
  return {
    request: defineCodec(s.request, { maxMessageSize: maxRequestFrame }),
    response: defineCodec(s.response, { maxMessageSize: maxResponseFrame }),
    maxRequestFrame,
    maxResponseFrame,
  };
}
