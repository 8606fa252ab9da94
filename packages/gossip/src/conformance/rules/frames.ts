/**
 * Rules of framing and decoding (README, "Wire spec" and its "Errors"): a frame that is not a
 * valid hello/rpc, or one announced above `maxRpcSize`, ends the connection.
 */
import { defineRule, ensure } from '@peerkit/conformance';
import * as fc from 'fast-check';
import { arbHostileFrameBytes } from '../../testing/arbitraries';
import { DEFAULT_WIRE_LIMITS } from '../../wire';
import type { GossipContext } from '../context';
import { hex, SPEC } from './shared';

export const badFrame = defineRule<GossipContext, Uint8Array>({
  id: 'gossip.bad-frame',
  title:
    'a frame that is not a valid hello or rpc closes the connection, and the node keeps serving others',
  cite: {
    spec: SPEC,
    section: 'Wire spec, Errors',
    text: '`BAD_RPC` [...] a frame is not a valid `hello`/`rpc` (closes the connection, +1 behaviour penalty)',
  },
  cases: () =>
    fc.oneof(
      arbHostileFrameBytes(),
      fc.constantFrom(
        new Uint8Array([0xc1]), // a byte msgpack never uses
        new Uint8Array([0x80]), // an empty map: no type
        new Uint8Array([0xc1, 0xff, 0x00]),
        new Uint8Array([0x81, 0xa4, 0x74, 0x79, 0x70, 0x65, 0xa3, 0x72, 0x70, 0x64]), // type "rpd"
      ),
    ),
  async check(ctx, payload) {
    const p = await ctx.connect();
    try {
      let valid = true;
      try {
        p.codec.decode(payload);
      } catch {
        valid = false;
      }
      fc.pre(!valid);
      await p.sendRaw(payload);
      ensure(
        await p.closedWithin(ctx.timeoutMs),
        `connection still open after an invalid frame (${hex(payload.subarray(0, 32))})`,
      );
    } finally {
      p.close();
    }
  },
});

export const oversizeFrame = defineRule<GossipContext, { length: number }>({
  id: 'gossip.frame-size',
  title: 'a frame header above maxRpcSize closes the connection before the frame is read',
  cite: {
    spec: SPEC,
    section: 'Wire spec',
    text: 'Frames larger than `maxRpcSize` are refused before they are read, and the connection is closed.',
  },
  cases: () =>
    fc.record({
      length: fc.integer({ min: DEFAULT_WIRE_LIMITS.maxRpcSize + 1, max: 2 ** 32 - 1 }),
    }),
  async check(ctx, { length }) {
    const p = await ctx.connect();
    try {
      const header = new Uint8Array(4);
      new DataView(header.buffer).setUint32(0, length);
      await p.write(header);
      ensure(
        await p.closedWithin(ctx.timeoutMs),
        `connection still open after a frame header of ${length} bytes`,
      );
    } finally {
      p.close();
    }
  },
});
