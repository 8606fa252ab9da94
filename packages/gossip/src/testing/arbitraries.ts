/**
 * fast-check arbitraries for the gossip wire format (README, "Wire spec"): valid frames of every
 * kind, and hostile frame payloads. vitest-free: the conformance rules use them too.
 */
import fc from 'fast-check';
import type { GossipMessage } from '../message';
import {
  type Control,
  DEFAULT_WIRE_LIMITS,
  type Frame,
  type Rpc,
  WireCodec,
  type WireLimits,
} from '../wire';

/** Small limits so generated frames stay fast; pass them to `WireCodec` too. */
export const TEST_LIMITS: WireLimits = {
  ...DEFAULT_WIRE_LIMITS,
  maxRpcSize: 64 * 1024,
  maxMessageSize: 1024,
  maxTopicLength: 32,
  maxTopicsPerRpc: 8,
  maxMessagesPerRpc: 4,
  maxIHaveMessages: 3,
  maxIHaveLength: 8,
  maxIWantLength: 8,
  maxPrunePeers: 4,
  maxMessageIdLength: 48,
};

export const arbPeerId = (): fc.Arbitrary<Uint8Array> =>
  fc.uint8Array({ minLength: 32, maxLength: 32 });

export const arbTopic = (l: WireLimits = TEST_LIMITS): fc.Arbitrary<string> =>
  fc.string({ minLength: 1, maxLength: Math.min(l.maxTopicLength, 32) });

export const arbMessageId = (l: WireLimits = TEST_LIMITS): fc.Arbitrary<Uint8Array> =>
  fc.uint8Array({ minLength: 1, maxLength: Math.min(l.maxMessageIdLength, 48) });

/** A wire message (signature bytes arbitrary: the codec does not verify). */
export function arbMessage(l: WireLimits = TEST_LIMITS): fc.Arbitrary<GossipMessage> {
  return fc.record(
    {
      from: arbPeerId(),
      seqno: fc.maxSafeNat(),
      topic: arbTopic(l),
      data: fc.uint8Array({ maxLength: Math.min(l.maxMessageSize, 256) }),
      sig: fc.uint8Array({ minLength: 64, maxLength: 64 }),
    },
    { requiredKeys: ['topic', 'data'] },
  );
}

export function arbControl(l: WireLimits = TEST_LIMITS): fc.Arbitrary<Control> {
  const ids = (max: number) => fc.array(arbMessageId(l), { maxLength: Math.min(max, 8) });
  return fc.record(
    {
      ihave: fc.array(fc.record({ topic: arbTopic(l), ids: ids(l.maxIHaveLength) }), {
        maxLength: Math.min(l.maxIHaveMessages, 3),
      }),
      iwant: ids(l.maxIWantLength),
      graft: fc.array(arbTopic(l), { maxLength: Math.min(l.maxTopicsPerRpc, 4) }),
      prune: fc.array(
        fc.record(
          {
            topic: arbTopic(l),
            px: fc.array(
              fc.record(
                {
                  id: arbPeerId(),
                  host: fc.ipV4(),
                  port: fc.integer({ min: 1, max: 65535 }),
                },
                { requiredKeys: ['id'] },
              ),
              { maxLength: Math.min(l.maxPrunePeers, 4) },
            ),
            backoff: fc.integer({ min: 0, max: 86_400 }),
          },
          { requiredKeys: ['topic'] },
        ),
        { maxLength: Math.min(l.maxTopicsPerRpc, 4) },
      ),
    },
    { requiredKeys: [] },
  );
}

export function arbRpc(l: WireLimits = TEST_LIMITS): fc.Arbitrary<Rpc> {
  return fc
    .record(
      {
        subs: fc.array(fc.record({ topic: arbTopic(l), subscribe: fc.boolean() }), {
          maxLength: Math.min(l.maxTopicsPerRpc, 4),
        }),
        msgs: fc.array(arbMessage(l), { maxLength: Math.min(l.maxMessagesPerRpc, 4) }),
        control: arbControl(l),
      },
      { requiredKeys: [] },
    )
    .map((r) => ({ type: 'rpc' as const, ...r }));
}

/** Any valid frame: a hello or an RPC. */
export function arbFrame(l: WireLimits = TEST_LIMITS): fc.Arbitrary<Frame> {
  const hello = fc
    .record(
      {
        version: fc.integer({ min: 0, max: 255 }),
        id: arbPeerId(),
        port: fc.integer({ min: 1, max: 65535 }),
      },
      { requiredKeys: ['version', 'id'] },
    )
    .map((h) => ({ type: 'hello' as const, ...h }));
  return fc.oneof(hello, arbRpc(l));
}

/** Hostile frame payloads: random bytes, and valid frames with a byte changed or cut. */
export function arbHostileFrameBytes(l: WireLimits = TEST_LIMITS): fc.Arbitrary<Uint8Array> {
  const codec = new WireCodec(l);
  const valid = arbFrame(l).map((f) => codec.encode(f));
  return fc.oneof(
    fc.uint8Array({ maxLength: 512 }),
    fc
      .record({ bytes: valid, i: fc.nat(), v: fc.integer({ min: 0, max: 255 }) })
      .map(({ bytes, i, v }) => {
        const copy = bytes.slice();
        if (copy.length > 0) copy[i % copy.length] = v;
        return copy;
      }),
    fc
      .record({ bytes: valid, n: fc.nat() })
      .map(({ bytes, n }) => bytes.subarray(0, n % (bytes.length + 1))),
  );
}
