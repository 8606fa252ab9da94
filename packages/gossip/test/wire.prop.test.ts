import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { GossipError, WireCodec } from '../src/index';
import { arbFrame, arbHostileFrameBytes, TEST_LIMITS } from '../src/testing';

const codec = new WireCodec(TEST_LIMITS);

describe('wire codec properties', () => {
  test('round trip: decode(encode(frame)) equals frame', () => {
    fc.assert(
      fc.property(arbFrame(), (frame) => {
        expect(codec.decode(codec.encode(frame))).toEqual(frame);
      }),
      { numRuns: 1000 },
    );
  });

  test('arbitrary bytes give a frame or a GossipError, never another exception', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        try {
          const frame = codec.decode(bytes);
          expect(codec.is(frame)).toBe(true);
        } catch (error) {
          expect(error).toBeInstanceOf(GossipError);
          expect(['BAD_RPC', 'MESSAGE_TOO_LARGE']).toContain((error as GossipError).code);
        }
      }),
      { numRuns: 1000 },
    );
  });

  test('mutated and truncated frames give a frame or a GossipError', () => {
    fc.assert(
      fc.property(arbHostileFrameBytes(), (bytes) => {
        try {
          const frame = codec.decode(bytes);
          // Anything accepted re-encodes and decodes to itself.
          expect(codec.decode(codec.encode(frame))).toEqual(frame);
        } catch (error) {
          expect(error).toBeInstanceOf(GossipError);
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe('wire limits', () => {
  const from = new Uint8Array(32);
  const sig = new Uint8Array(64);
  test('message data above maxMessageSize is MESSAGE_TOO_LARGE', () => {
    const big = new Uint8Array(TEST_LIMITS.maxMessageSize + 1);
    const frame = { type: 'rpc' as const, msgs: [{ from, seqno: 1, topic: 't', data: big, sig }] };
    expect(() => codec.encode(frame)).toThrow(
      expect.objectContaining({ code: 'MESSAGE_TOO_LARGE' }),
    );
    const loose = new WireCodec({ ...TEST_LIMITS, maxMessageSize: 4096 });
    expect(() => codec.decode(loose.encode(frame))).toThrow(
      expect.objectContaining({ code: 'MESSAGE_TOO_LARGE' }),
    );
  });

  test('frames above maxRpcSize are MESSAGE_TOO_LARGE', () => {
    expect(() => codec.decode(new Uint8Array(TEST_LIMITS.maxRpcSize + 1))).toThrow(
      expect.objectContaining({ code: 'MESSAGE_TOO_LARGE' }),
    );
  });

  test('IHAVE and IWANT lengths, topics per RPC and PX records are bounded', () => {
    const loose = new WireCodec({
      maxIHaveLength: 100,
      maxIWantLength: 100,
      maxTopicsPerRpc: 100,
      maxPrunePeers: 100,
    });
    const id = new Uint8Array([1]);
    const cases = [
      {
        type: 'rpc' as const,
        control: { ihave: [{ topic: 't', ids: Array(TEST_LIMITS.maxIHaveLength + 1).fill(id) }] },
      },
      { type: 'rpc' as const, control: { iwant: Array(TEST_LIMITS.maxIWantLength + 1).fill(id) } },
      {
        type: 'rpc' as const,
        control: { graft: Array(TEST_LIMITS.maxTopicsPerRpc + 1).fill('t') },
      },
      {
        type: 'rpc' as const,
        subs: Array(TEST_LIMITS.maxTopicsPerRpc + 1).fill({ topic: 't', subscribe: true }),
      },
      {
        type: 'rpc' as const,
        control: {
          prune: [{ topic: 't', px: Array(TEST_LIMITS.maxPrunePeers + 1).fill({ id: from }) }],
        },
      },
    ];
    for (const frame of cases) {
      expect(() => codec.decode(loose.encode(frame))).toThrow(
        expect.objectContaining({ code: 'BAD_RPC' }),
      );
    }
  });

  test('a topic longer than maxTopicLength and a wrong-size signature are BAD_RPC', () => {
    const loose = new WireCodec({ maxTopicLength: 1000 });
    const long = {
      type: 'rpc' as const,
      subs: [{ topic: 'x'.repeat(TEST_LIMITS.maxTopicLength + 1), subscribe: true }],
    };
    expect(() => codec.decode(loose.encode(long))).toThrow(
      expect.objectContaining({ code: 'BAD_RPC' }),
    );
    expect(() =>
      codec.encode({ type: 'rpc', msgs: [{ from, seqno: 1, topic: 't', data: from, sig: from }] }),
    ).toThrow(expect.objectContaining({ code: 'BAD_RPC' }));
  });

  test('invalid limits are INVALID_OPTION', () => {
    expect(() => new WireCodec({ maxIHaveLength: 0 })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTION' }),
    );
  });
});
