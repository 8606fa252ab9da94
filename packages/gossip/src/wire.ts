/**
 * The wire spec (README, "Wire spec"): every frame on a gossip stream is one msgpack map,
 * framed by @peerkit/framing with a 4-byte big-endian length prefix. The first frame each side
 * sends is a `hello`; every later frame is an `rpc` (pubsub/README.md, "The RPC"), carrying
 * subscriptions, messages and the GossipSub control messages (gossipsub-v1.0.md, "Control
 * messages"; gossipsub-v1.1.md, "PRUNE backoff and peer exchange").
 *
 * The codec is built from the node's limits, so a peer's oversized list is rejected by the
 * decoder before any object is built.
 */
import { type Codec, defineCodec, type Infer, isMessageError, t } from '@peerkit/framing';
import { GossipError } from './errors';

/** Version carried in `hello`; a peer with another version is disconnected. */
export const PROTOCOL_VERSION = 1;

/** Limits of the wire format; every one is an option of the node (README, "Limits"). */
export interface WireLimits {
  /** Largest frame (a whole RPC) accepted or sent, in bytes. Default 4 MiB + 64 KiB. */
  maxRpcSize: number;
  /** Largest message `data`, in bytes. Default 1 MiB. */
  maxMessageSize: number;
  /** Longest topic name (UTF-16 code units). Default 256. */
  maxTopicLength: number;
  /** Most subscription changes, GRAFTs or PRUNEs in one RPC. Default 128 (= maxTopicsPerPeer). */
  maxTopicsPerRpc: number;
  /** Most messages in one RPC. Default 256. */
  maxMessagesPerRpc: number;
  /** Most IHAVE entries in one RPC (gossipsub-v1.1 MaxIHaveMessages). Default 10. */
  maxIHaveMessages: number;
  /** Most message ids in one IHAVE entry (MaxIHaveLength). Default 5000. */
  maxIHaveLength: number;
  /** Most message ids in one IWANT entry. Default 5000. */
  maxIWantLength: number;
  /** Most peer exchange records in one PRUNE. Default 16. */
  maxPrunePeers: number;
  /** Longest message id in bytes. Default 64. */
  maxMessageIdLength: number;
}

export const DEFAULT_WIRE_LIMITS: WireLimits = {
  maxRpcSize: 4 * 1024 * 1024 + 64 * 1024,
  maxMessageSize: 1024 * 1024,
  maxTopicLength: 256,
  maxTopicsPerRpc: 128,
  maxMessagesPerRpc: 256,
  maxIHaveMessages: 10,
  maxIHaveLength: 5000,
  maxIWantLength: 5000,
  maxPrunePeers: 16,
  maxMessageIdLength: 64,
};

function schemas(l: WireLimits) {
  const topic = t.string({ minLength: 1, maxLength: l.maxTopicLength });
  const msgId = t.bytes({ minLength: 1, maxLength: l.maxMessageIdLength });
  const peerId = t.bytes({ length: 32 });
  const message = t.object({
    /** Author's Ed25519 public key (absent under the `strict-no-sign` policy). */
    from: t.optional(peerId),
    /** Author's sequence number: with `from`, the default message id. */
    seqno: t.optional(t.uint()),
    topic,
    data: t.bytes({ maxLength: l.maxMessageSize }),
    /** Ed25519 signature over the signed bytes (README, "Signing"). */
    sig: t.optional(t.bytes({ length: 64 })),
  });
  const topicList = { maxLength: l.maxTopicsPerRpc };
  const control = t.object({
    ihave: t.optional(
      t.array(t.object({ topic, ids: t.array(msgId, { maxLength: l.maxIHaveLength }) }), {
        maxLength: l.maxIHaveMessages,
      }),
    ),
    iwant: t.optional(t.array(msgId, { maxLength: l.maxIWantLength })),
    graft: t.optional(t.array(topic, topicList)),
    prune: t.optional(
      t.array(
        t.object({
          topic,
          /** Peer exchange (v1.1): peers the receiver may connect to instead. */
          px: t.optional(
            t.array(
              t.object({
                id: peerId,
                host: t.optional(t.string({ minLength: 1, maxLength: 45 })),
                port: t.optional(t.uint({ min: 1, max: 65535 })),
              }),
              { maxLength: l.maxPrunePeers },
            ),
          ),
          /** Backoff in seconds (v1.1): do not GRAFT this topic again before it expires. */
          backoff: t.optional(t.uint({ max: 86_400 })),
        }),
        topicList,
      ),
    ),
  });
  const frame = t.union('type', {
    hello: t.object({
      version: t.uint({ max: 255 }),
      /** The sender's peer id (Ed25519 public key). */
      id: peerId,
      /** The TCP port the sender listens on, for peer exchange; absent if it does not listen. */
      port: t.optional(t.uint({ min: 1, max: 65535 })),
    }),
    rpc: t.object({
      subs: t.optional(t.array(t.object({ topic, subscribe: t.bool() }), topicList)),
      msgs: t.optional(t.array(message, { maxLength: l.maxMessagesPerRpc })),
      control: t.optional(control),
    }),
  });
  return { frame, message, control };
}

type Schemas = ReturnType<typeof schemas>;
export type Frame = Infer<Schemas['frame']>;
export type Hello = Extract<Frame, { type: 'hello' }>;
export type Rpc = Extract<Frame, { type: 'rpc' }>;
export type WireMessage = Infer<Schemas['message']>;
export type Control = Infer<Schemas['control']>;
export type PruneEntry = NonNullable<Control['prune']>[number];
export type PeerRecord = NonNullable<PruneEntry['px']>[number];
export type IHaveEntry = NonNullable<Control['ihave']>[number];

/** Encodes and decodes frames under a set of limits; every failure is a `GossipError`. */
export class WireCodec {
  readonly limits: WireLimits;
  private readonly codec: Codec<Frame>;

  constructor(limits: Partial<WireLimits> = {}) {
    this.limits = { ...DEFAULT_WIRE_LIMITS, ...limits };
    for (const [name, value] of Object.entries(this.limits)) {
      if (!Number.isSafeInteger(value) || value < 1) {
        throw new GossipError('INVALID_OPTION', `${name} must be a positive integer`);
      }
    }
    this.codec = defineCodec(schemas(this.limits).frame, {
      maxMessageSize: this.limits.maxRpcSize,
    });
  }

  /** Decodes one frame; throws `GossipError` `BAD_RPC` or `MESSAGE_TOO_LARGE`. */
  decode(bytes: Uint8Array): Frame {
    try {
      return this.codec.decode(bytes);
    } catch (error) {
      throw toGossipError(error);
    }
  }

  /** Encodes one frame; throws `GossipError` (the frame violates the limits). */
  encode(frame: Frame): Uint8Array {
    try {
      return this.codec.encode(frame);
    } catch (error) {
      throw toGossipError(error);
    }
  }

  /** Whether a frame is valid under the limits. */
  is(value: unknown): value is Frame {
    return this.codec.is(value);
  }
}

function toGossipError(error: unknown): GossipError {
  if (isMessageError(error)) {
    const tooLarge =
      error.code === 'TOO_LARGE' || (error.code === 'TOO_LONG' && error.path.endsWith('.data'));
    return new GossipError(tooLarge ? 'MESSAGE_TOO_LARGE' : 'BAD_RPC', error.message, {
      cause: error,
    });
  }
  if (error instanceof GossipError) return error;
  return new GossipError('BAD_RPC', 'unexpected codec failure', { cause: error });
}

/** The number of bytes an RPC adds around its message payloads, conservatively. */
export const RPC_OVERHEAD = 64 * 1024;
