import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bytesToIPv6,
  decodeCompactPeers,
  decodeExtensionHandshake,
  decodeMetadataMessage,
  decodePexMessage,
  encodeCompactPeers,
  encodeExtensionHandshake,
  encodeMetadataMessage,
  encodePexMessage,
  ipv6ToBytes,
  MetadataAssembler,
  WireError,
} from '../src/index';
import { arbExtensionHandshake, arbMetadataMessage, arbPexMessage } from '../src/testing';

const RUNS = { numRuns: 1000 };

/** Bencode-ish junk: random bytes, or random bytes after a valid dictionary prefix. */
const arbJunk = fc.oneof(
  fc.uint8Array({ maxLength: 80 }),
  fc
    .uint8Array({ maxLength: 40 })
    .map((tail) => Uint8Array.from([...Buffer.from('d8:msg_typei1e5:piecei0e'), ...tail])),
  fc
    .array(
      fc.constantFrom(
        ...'d1:ei0e3:abc5:piece8:msg_type10:total_size5:added4:m11:ut_metadatal'.split(''),
      ),
      {
        maxLength: 30,
      },
    )
    .map((parts) => new TextEncoder().encode(parts.join(''))),
);

function typedOrValue(run: () => unknown): void {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(WireError);
  }
}

describe('BEP 10 extension handshake', () => {
  it('round-trips', () => {
    fc.assert(
      fc.property(arbExtensionHandshake(), (handshake) => {
        expect(decodeExtensionHandshake(encodeExtensionHandshake(handshake))).toEqual(handshake);
      }),
      RUNS,
    );
  });
  it('arbitrary bytes give a handshake or a WireError', () => {
    fc.assert(
      fc.property(arbJunk, (bytes) => typedOrValue(() => decodeExtensionHandshake(bytes))),
      RUNS,
    );
  });
  it('decodes the BEP 10 example (unknown keys kept out, µTorrent name as UTF-8)', () => {
    const bytes = Buffer.concat([
      Buffer.from('d1:md11:LT_metadatai1e6:\xb5T_PEXi2ee1:pi6881e1:v13:', 'latin1'),
      Buffer.from('µTorrent 1.2', 'utf8'),
      Buffer.from('e'),
    ]);
    const handshake = decodeExtensionHandshake(bytes);
    expect(handshake.m.LT_metadata).toBe(1);
    // The BEP's `6:µT_PEX` only fits if µ is one byte (latin1 0xb5).
    expect(handshake.m['\xb5T_PEX']).toBe(2);
    expect(handshake.p).toBe(6881);
    expect(handshake.v).toBe('µTorrent 1.2');
  });
  it('refuses a metadata_size above the limit and a non-dictionary m', () => {
    expect(() => decodeExtensionHandshake(Buffer.from('d13:metadata_sizei999999999ee'))).toThrow(
      WireError,
    );
    expect(() => decodeExtensionHandshake(Buffer.from('d1:mi1ee'))).toThrow(WireError);
    expect(decodeExtensionHandshake(Buffer.from('d4:reqqi-5e1:pi0ee'))).toEqual({ m: {} });
  });
});

describe('BEP 9 ut_metadata', () => {
  it('round-trips', () => {
    fc.assert(
      fc.property(arbMetadataMessage(), (message) => {
        const decoded = decodeMetadataMessage(encodeMetadataMessage(message));
        // Byte fields compared with Buffer.equals: deep equality over 16 KiB arrays is slow.
        if (message.type === 'data' && decoded.type === 'data') {
          expect(Buffer.from(decoded.data).equals(message.data)).toBe(true);
          expect({ ...decoded, data: null }).toEqual({ ...message, data: null });
        } else {
          expect(decoded).toEqual(message);
        }
      }),
      RUNS,
    );
  });
  it('arbitrary bytes give a message or a WireError', () => {
    fc.assert(
      fc.property(arbJunk, (bytes) => typedOrValue(() => decodeMetadataMessage(bytes))),
      RUNS,
    );
  });
  it('MetadataAssembler verifies the assembled info dictionary against the info-hash', async () => {
    const { createHash } = await import('node:crypto');
    const info = new Uint8Array(40000).map((_, i) => i * 7);
    const infoHash = createHash('sha1').update(info).digest();
    const assembler = new MetadataAssembler(info.length);
    expect(assembler.pieceCount).toBe(3);
    expect(assembler.add(2, info.subarray(32768))).toBe(true);
    expect(assembler.add(2, info.subarray(32768))).toBe(false);
    expect(() => assembler.add(1, info.subarray(0, 100))).toThrow(WireError);
    assembler.add(0, info.subarray(0, 16384));
    expect(assembler.verify(infoHash)).toBeUndefined();
    const corrupt = info.slice(16384, 32768);
    corrupt[0]! ^= 1;
    assembler.add(1, corrupt);
    expect(assembler.verify(infoHash)).toBeUndefined();
    expect(assembler.missing()).toEqual([0, 1, 2]);
    for (let piece = 0; piece < 3; piece++)
      assembler.add(piece, info.subarray(piece * 16384, (piece + 1) * 16384));
    expect(assembler.verify(infoHash)).toEqual(info);
  });
});

describe('BEP 11 ut_pex', () => {
  it('round-trips', () => {
    fc.assert(
      fc.property(arbPexMessage(), (message) => {
        expect(decodePexMessage(encodePexMessage(message))).toEqual(message);
      }),
      RUNS,
    );
  });
  it('arbitrary bytes give a message or a WireError', () => {
    fc.assert(
      fc.property(arbJunk, (bytes) => typedOrValue(() => decodePexMessage(bytes))),
      RUNS,
    );
  });
  it('compact IPv4 and IPv6 bytes', () => {
    const v4 = encodeCompactPeers([{ host: '10.0.0.1', port: 6881 }], 'IPv4');
    expect(Buffer.from(v4).toString('hex')).toBe('0a0000011ae1');
    const v6 = encodeCompactPeers([{ host: '2001:db8::1', port: 1 }], 'IPv6');
    expect(Buffer.from(v6).toString('hex')).toBe('20010db80000000000000000000000010001');
    expect(decodeCompactPeers(v6, 'IPv6')).toEqual([{ host: '2001:db8::1', port: 1 }]);
    expect(decodeCompactPeers(v4.subarray(1), 'IPv4')).toBeUndefined();
    expect(() => decodePexMessage(Buffer.from('d5:added5:abcdee'))).toThrow(WireError);
    // A flags string of the wrong length is ignored.
    const message = decodePexMessage(
      Buffer.from('d5:added6:\x0a\x00\x00\x01\x1a\xe17:added.f2:\x01\x02e', 'latin1'),
    );
    expect(message.added).toEqual([{ host: '10.0.0.1', port: 6881, flags: 0 }]);
  });
  it('IPv6 text round-trips through bytes in RFC 5952 form', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (bytes) => {
        expect(ipv6ToBytes(bytesToIPv6(bytes))).toEqual(bytes);
      }),
      RUNS,
    );
    expect(bytesToIPv6(ipv6ToBytes('::ffff:1.2.3.4')!)).toBe('::ffff:102:304');
    expect(bytesToIPv6(ipv6ToBytes('1:0:0:2:0:0:0:3')!)).toBe('1:0:0:2::3');
  });
});
