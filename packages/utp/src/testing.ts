/**
 * `@peerkit/utp/testing`: fast-check arbitraries for uTP packets, so that other implementations
 * can be tested with the properties this package's own tests use.
 */
import fc from 'fast-check';
import type { PacketFields, PacketType } from './header';

const u16 = (): fc.Arbitrary<number> => fc.integer({ min: 0, max: 0xffff });
const u32 = (): fc.Arbitrary<number> => fc.integer({ min: 0, max: 0xffffffff });

/** A selective ACK bitmask: 4 to 32 bytes, a multiple of 4. */
export function arbitrarySelectiveAck(): fc.Arbitrary<Uint8Array> {
  return fc
    .integer({ min: 1, max: 8 })
    .chain((words) => fc.uint8Array({ minLength: words * 4, maxLength: words * 4 }));
}

/** Any valid packet's fields (payload up to 1,500 bytes, optional SACK and other extensions). */
export function arbitraryPacketFields(): fc.Arbitrary<PacketFields> {
  return fc.record({
    type: fc.constantFrom<PacketType>(0, 1, 2, 3, 4),
    connectionId: u16(),
    timestampMicroseconds: u32(),
    timestampDifferenceMicroseconds: u32(),
    wndSize: u32(),
    seqNr: u16(),
    ackNr: u16(),
    selectiveAck: fc.option(arbitrarySelectiveAck(), { nil: undefined }),
    extensions: fc.array(
      fc.record({
        type: fc.integer({ min: 2, max: 255 }),
        data: fc.uint8Array({ maxLength: 40 }),
      }),
      { maxLength: 3 },
    ),
    payload: fc.uint8Array({ maxLength: 1500 }),
  });
}
