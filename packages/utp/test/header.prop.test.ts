/** The packet codec: byte layout from BEP 29, round trips, and total decoding of any bytes. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodePacket,
  encodePacket,
  isUtpError,
  looksLikeUtp,
  ST_DATA,
  ST_STATE,
  ST_SYN,
  seqAdd,
  seqDistance,
  seqLess,
} from '../src/index';
import { arbitraryPacketFields } from '../src/testing';

describe('header (BEP 29 "header format")', () => {
  it('lays out the 20-byte header big-endian, type in the high nibble, version 1', () => {
    const bytes = encodePacket({
      type: ST_SYN,
      connectionId: 0x1234,
      timestampMicroseconds: 0x01020304,
      timestampDifferenceMicroseconds: 0x05060708,
      wndSize: 0x0a0b0c0d,
      seqNr: 0xfffe,
      ackNr: 0x0102,
    });
    expect([...bytes]).toEqual([
      0x41, 0x00, 0x12, 0x34, 1, 2, 3, 4, 5, 6, 7, 8, 0x0a, 0x0b, 0x0c, 0x0d, 0xff, 0xfe, 0x01,
      0x02,
    ]);
  });

  it('chains the selective ACK extension: type 1, len, bitmask; then the payload', () => {
    const bytes = encodePacket({
      type: ST_STATE,
      connectionId: 1,
      timestampMicroseconds: 0,
      timestampDifferenceMicroseconds: 0,
      wndSize: 0,
      seqNr: 0,
      ackNr: 0,
      selectiveAck: new Uint8Array([0b101, 0, 0, 0x80]),
    });
    expect(bytes[1]).toBe(1);
    expect([...bytes.subarray(20)]).toEqual([0, 4, 0b101, 0, 0, 0x80]);
    const decoded = decodePacket(bytes);
    expect([...(decoded.selectiveAck ?? [])]).toEqual([0b101, 0, 0, 0x80]);
  });

  it('skips unknown extensions by their len', () => {
    const bytes = Uint8Array.from([
      0x01, 7, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 3, 9, 9, 9, 0xaa, 0xbb,
    ]);
    const p = decodePacket(bytes);
    expect(p.type).toBe(ST_DATA);
    expect(p.extensions).toEqual([{ type: 7, data: Uint8Array.from([9, 9, 9]) }]);
    expect([...p.payload]).toEqual([0xaa, 0xbb]);
  });

  it("accepts libtorrent's masks of any length (not only multiples of 4), rejects an empty one", () => {
    const head = [0x21, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0];
    const short = decodePacket(Uint8Array.from([...head, 0, 1, 0b11]));
    expect([...(short.selectiveAck ?? [])]).toEqual([0b11]);
    expect(() => decodePacket(Uint8Array.from([...head, 0, 0]))).toThrow(
      expect.objectContaining({ code: 'MALFORMED_PACKET' }),
    );
  });

  it('round trip: decode(encode(p)) gives p back', () => {
    fc.assert(
      fc.property(arbitraryPacketFields(), (fields) => {
        const bytes = encodePacket(fields);
        expect(looksLikeUtp(bytes)).toBe(true);
        const p = decodePacket(bytes);
        expect(p.type).toBe(fields.type);
        expect(p.connectionId).toBe(fields.connectionId);
        expect(p.timestampMicroseconds).toBe(fields.timestampMicroseconds);
        expect(p.timestampDifferenceMicroseconds).toBe(fields.timestampDifferenceMicroseconds);
        expect(p.wndSize).toBe(fields.wndSize);
        expect(p.seqNr).toBe(fields.seqNr);
        expect(p.ackNr).toBe(fields.ackNr);
        expect(p.selectiveAck).toEqual(fields.selectiveAck);
        expect(p.extensions).toEqual(fields.extensions);
        expect(p.payload).toEqual(fields.payload);
        // And the encoding of the decoded packet is the same bytes.
        expect(encodePacket(p)).toEqual(bytes);
      }),
    );
  });

  it('decoding is total: any bytes give a packet or UtpError MALFORMED_PACKET', () => {
    const utpish = fc
      .tuple(
        fc.integer({ min: 0, max: 6 }),
        fc.integer({ min: 0, max: 3 }),
        fc.uint8Array({ maxLength: 80 }),
      )
      .map(([type, ext, rest]) => Uint8Array.from([(type << 4) | 1, ext, ...rest]));
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 100 }), utpish), (bytes) => {
        try {
          const p = decodePacket(bytes);
          expect(p.payload.length).toBeLessThanOrEqual(bytes.length - 20);
        } catch (error) {
          expect(isUtpError(error, 'MALFORMED_PACKET')).toBe(true);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('a KRPC message (a bencoded dict) never looks like uTP', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 19, maxLength: 200 }), (tail) => {
        expect(looksLikeUtp(Uint8Array.from([0x64, ...tail]))).toBe(false);
      }),
    );
  });
});

describe('16-bit sequence numbers wrap', () => {
  it('seqLess is the order of a - b modulo 2^16 within half the space', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffff }),
        fc.integer({ min: 1, max: 0x7fff }),
        (a, n) => {
          const b = seqAdd(a, n);
          expect(seqLess(a, b)).toBe(true);
          expect(seqLess(b, a)).toBe(false);
          expect(seqDistance(b, a)).toBe(n);
        },
      ),
    );
    expect(seqLess(0xffff, 0)).toBe(true);
  });
});
