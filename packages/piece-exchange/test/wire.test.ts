import { describe, expect, it } from 'vitest';
import {
  Bitfield,
  CHOKE,
  decodeHandshake,
  decodeMessage,
  encodeBitfield,
  encodeExtended,
  encodeHandshake,
  encodeHave,
  encodePiece,
  encodePieceHeader,
  encodePort,
  encodeRequest,
  HAVE_ALL,
  HAVE_NONE,
  INTERESTED,
  KEEP_ALIVE,
  NOT_INTERESTED,
  readExtensions,
  reservedBytes,
  torrentGeometry,
  UNCHOKE,
  WireDecoder,
  WireError,
  type WireErrorCode,
} from '../src/index';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const infoHash = new Uint8Array(20).fill(0xaa);
const peerId = new TextEncoder().encode('-PK0001-123456789012');

function expectCode(fn: () => unknown, code: WireErrorCode): void {
  let thrown: unknown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(WireError);
  expect((thrown as WireError).code).toBe(code);
}

describe('BEP 3 handshake', () => {
  it('encodes pstrlen, pstr, reserved, info-hash and peer id (68 bytes)', () => {
    const bytes = encodeHandshake({
      infoHash,
      peerId,
      extensions: { extended: true, fast: true, dht: true },
    });
    expect(bytes.length).toBe(68);
    expect(bytes[0]).toBe(19);
    expect(new TextDecoder().decode(bytes.subarray(1, 20))).toBe('BitTorrent protocol');
    // BEP 10: reserved byte 5 bit 0x10; BEP 6: byte 7 bit 0x04; BEP 5: byte 7 bit 0x01.
    expect(hex(bytes.subarray(20, 28))).toBe('0000000000100005');
    expect(hex(bytes.subarray(28, 48))).toBe(hex(infoHash));
    expect(hex(bytes.subarray(48))).toBe(hex(peerId));
    const decoded = decodeHandshake(bytes);
    expect(readExtensions(decoded.reserved)).toEqual({ extended: true, fast: true, dht: true });
  });

  it('reads each reserved bit separately and keeps unknown bits', () => {
    expect(readExtensions(reservedBytes({ fast: true }))).toEqual({
      extended: false,
      fast: true,
      dht: false,
    });
    expect(readExtensions(reservedBytes({ dht: true }))).toEqual({
      extended: false,
      fast: false,
      dht: true,
    });
    const reserved = Uint8Array.of(0x80, 0, 0, 0, 0, 0x10, 0, 0);
    const decoded = decodeHandshake(encodeHandshake({ infoHash, peerId, reserved }));
    expect(hex(decoded.reserved)).toBe('8000000000100000');
  });

  it('refuses an MSE/PE encrypted first byte immediately, before 68 bytes arrive', () => {
    const decoder = new WireDecoder();
    expectCode(() => decoder.decode(Uint8Array.of(0x9e, 0x21, 0x07)), 'INVALID_HANDSHAKE');
    expectCode(() => decoder.decode(Uint8Array.of(19)), 'DECODER_CLOSED');
    const other = new WireDecoder();
    const wrong = new TextEncoder().encode('\x13BitTorrent protocoX');
    expectCode(() => other.decode(wrong), 'INVALID_HANDSHAKE');
  });

  it('waits for the whole handshake', () => {
    const decoder = new WireDecoder();
    const bytes = encodeHandshake({ infoHash, peerId });
    expect(decoder.decode(bytes.subarray(0, 30))).toEqual([]);
    expect(decoder.awaitingHandshake).toBe(true);
    const [frame] = decoder.decode(bytes.subarray(30));
    expect(frame?.type).toBe('handshake');
    expect(decoder.awaitingHandshake).toBe(false);
  });
});

describe('BEP 3 / BEP 6 message bytes', () => {
  it('prebuilt constant messages', () => {
    expect(hex(KEEP_ALIVE)).toBe('00000000');
    expect(hex(CHOKE)).toBe('0000000100');
    expect(hex(UNCHOKE)).toBe('0000000101');
    expect(hex(INTERESTED)).toBe('0000000102');
    expect(hex(NOT_INTERESTED)).toBe('0000000103');
    expect(hex(HAVE_ALL)).toBe('000000010e');
    expect(hex(HAVE_NONE)).toBe('000000010f');
  });

  it('have, request, piece, port, bitfield, extended', () => {
    expect(hex(encodeHave(0x01020304))).toBe('000000050401020304');
    expect(hex(encodeRequest(1, 16384, 16384))).toBe('0000000d06000000010000400000004000');
    expect(hex(encodePiece(2, 0, Uint8Array.of(0xde, 0xad)))).toBe(
      '0000000b070000000200000000dead',
    );
    expect(hex(encodePieceHeader(2, 0, 2))).toBe('0000000b070000000200000000');
    expect(hex(encodePort(6881))).toBe('00000003091ae1');
    expect(hex(encodeBitfield(Uint8Array.of(0xf0)))).toBe('0000000205f0');
    expect(hex(encodeExtended(0, Uint8Array.of(0x64, 0x65)))).toBe('0000000414006465');
  });

  it('refuses messages whose length does not fit their id', () => {
    expectCode(() => decodeMessage(Uint8Array.of(0, 0)), 'INVALID_MESSAGE_LENGTH');
    expectCode(() => decodeMessage(Uint8Array.of(4, 0, 0, 0)), 'INVALID_MESSAGE_LENGTH');
    expectCode(() => decodeMessage(Uint8Array.of(6, 0, 0, 0, 0)), 'INVALID_MESSAGE_LENGTH');
    expectCode(() => decodeMessage(Uint8Array.of(7, 0, 0)), 'INVALID_MESSAGE_LENGTH');
    expectCode(() => decodeMessage(Uint8Array.of(9, 0)), 'INVALID_MESSAGE_LENGTH');
    expectCode(() => decodeMessage(Uint8Array.of(20)), 'INVALID_MESSAGE_LENGTH');
  });

  it('passes unknown ids on, or refuses them when asked', () => {
    expect(decodeMessage(Uint8Array.of(21, 1, 2))).toEqual({
      type: 'unknown',
      id: 21,
      payload: Uint8Array.of(1, 2),
    });
    expectCode(
      () => decodeMessage(Uint8Array.of(21), { unknownMessages: 'error' }),
      'UNKNOWN_MESSAGE',
    );
  });
});

describe('strict validation', () => {
  const torrent = torrentGeometry(10 * 32768 + 100, 32768); // 11 pieces, last one 100 bytes

  it('request length must be 1..16384 by default', () => {
    expectCode(
      () => decodeMessage(encodeRequest(0, 0, 16385).subarray(4)),
      'INVALID_REQUEST_LENGTH',
    );
    expectCode(() => decodeMessage(encodeRequest(0, 0, 0).subarray(4)), 'INVALID_REQUEST_LENGTH');
    expect(decodeMessage(encodeRequest(0, 0, 16384).subarray(4)).type).toBe('request');
    expect(
      decodeMessage(encodeRequest(0, 0, 32768).subarray(4), { maxRequestLength: 32768 }).type,
    ).toBe('request');
  });

  it('index and block must lie inside the torrent', () => {
    expectCode(() => decodeMessage(encodeHave(11).subarray(4), { torrent }), 'INDEX_OUT_OF_RANGE');
    expect(decodeMessage(encodeHave(10).subarray(4), { torrent })).toEqual({
      type: 'have',
      index: 10,
    });
    expectCode(
      () => decodeMessage(encodeRequest(0, 16385, 16384).subarray(4), { torrent }),
      'OFFSET_OUT_OF_RANGE',
    );
    expectCode(
      () => decodeMessage(encodeRequest(10, 0, 101).subarray(4), { torrent }),
      'OFFSET_OUT_OF_RANGE',
    );
    expect(decodeMessage(encodeRequest(10, 0, 100).subarray(4), { torrent }).type).toBe('request');
    expectCode(
      () => decodeMessage(encodePiece(10, 50, new Uint8Array(51)).subarray(4), { torrent }),
      'OFFSET_OUT_OF_RANGE',
    );
    expectCode(
      () => decodeMessage(encodePiece(0, 0, new Uint8Array(16385)).subarray(4)),
      'INVALID_REQUEST_LENGTH',
    );
  });

  it('bitfield length must be ceil(pieces/8) and spare bits zero', () => {
    const good = new Bitfield(11);
    good.set(0);
    good.set(10);
    expect(hex(good.bytes)).toBe('8020');
    expect(decodeMessage(encodeBitfield(good.bytes).subarray(4), { torrent })).toEqual({
      type: 'bitfield',
      bitfield: good.bytes,
    });
    expectCode(
      () => decodeMessage(encodeBitfield(Uint8Array.of(0xff)).subarray(4), { torrent }),
      'INVALID_BITFIELD_LENGTH',
    );
    expectCode(
      () => decodeMessage(encodeBitfield(Uint8Array.of(0xff, 0x30)).subarray(4), { torrent }),
      'BITFIELD_SPARE_BITS',
    );
    expect(
      decodeMessage(encodeBitfield(Uint8Array.of(0xff, 0x30)).subarray(4), {
        torrent,
        allowSpareBits: true,
      }).type,
    ).toBe('bitfield');
  });

  it('refuses a length prefix above maxMessageLength before buffering the body', () => {
    const decoder = new WireDecoder({ handshake: false, maxMessageLength: 1000 });
    expectCode(() => decoder.decode(Uint8Array.of(0, 0, 0x03, 0xe9)), 'MESSAGE_TOO_LARGE');
  });

  it('tolerates bitfield and have all in the middle of a connection (aria2)', () => {
    const decoder = new WireDecoder({ handshake: false, torrent });
    const stream = Buffer.concat([
      HAVE_NONE,
      encodeHave(3),
      encodeBitfield(Uint8Array.of(0xff, 0xe0)),
      HAVE_ALL,
      encodeBitfield(Uint8Array.of(0xff, 0xe0)),
    ]);
    expect(decoder.decode(stream).map((m) => m.type)).toEqual([
      'haveNone',
      'have',
      'bitfield',
      'haveAll',
      'bitfield',
    ]);
  });

  it('validates against a torrent set later (magnet: geometry known after metadata)', () => {
    const decoder = new WireDecoder({ handshake: false });
    expect(decoder.decode(encodeHave(500))).toHaveLength(1);
    decoder.setTorrent(torrent);
    expectCode(() => decoder.decode(encodeHave(500)), 'INDEX_OUT_OF_RANGE');
  });
});

describe('streaming decoder', () => {
  it('returns piece blocks as zero-copy views when a message arrives in one chunk', () => {
    const chunk = Buffer.concat([UNCHOKE, encodePiece(1, 16384, new Uint8Array(16384).fill(7))]);
    const decoder = new WireDecoder({ handshake: false });
    const [, piece] = decoder.decode(chunk);
    expect(piece?.type).toBe('piece');
    if (piece?.type !== 'piece') return;
    expect(piece.block.buffer).toBe(chunk.buffer);
    expect(piece.block.length).toBe(16384);
    expect(piece.index).toBe(1);
    expect(piece.begin).toBe(16384);
  });

  it('reassembles a message split across chunks, byte by byte', () => {
    const bytes = Buffer.concat([encodeRequest(7, 0, 16384), KEEP_ALIVE, encodePort(1)]);
    const decoder = new WireDecoder({ handshake: false });
    const types: string[] = [];
    for (const byte of bytes) types.push(...decoder.decode(Uint8Array.of(byte)).map((m) => m.type));
    expect(types).toEqual(['request', 'keepAlive', 'port']);
    expect(decoder.buffered).toBe(0);
  });

  it('next() returns undefined until a message is complete', () => {
    const decoder = new WireDecoder({ handshake: false });
    decoder.push(encodeHave(1).subarray(0, 6));
    expect(decoder.next()).toBeUndefined();
    decoder.push(encodeHave(1).subarray(6));
    expect(decoder.next()).toEqual({ type: 'have', index: 1 });
    expect(decoder.next()).toBeUndefined();
  });
});

describe('Bitfield', () => {
  it('uses the high bit of the first byte for piece 0 and counts bits', () => {
    const field = new Bitfield(10);
    expect(field.set(0)).toBe(true);
    expect(field.set(0)).toBe(false);
    field.set(9);
    expect(hex(field.bytes)).toBe('8040');
    expect(field.count).toBe(2);
    expect([...field.indices()]).toEqual([0, 9]);
    field.clear(0);
    expect(field.has(0)).toBe(false);
    expect(field.count).toBe(1);
    field.setAll();
    expect(hex(field.bytes)).toBe('ffc0');
    expect(field.complete).toBe(true);
    expect(Bitfield.full(3).toBytes()).toEqual(Uint8Array.of(0xe0));
  });

  it('fromBytes checks length and spare bits', () => {
    expect(Bitfield.fromBytes(Uint8Array.of(0xff, 0xc0), 10).count).toBe(10);
    expectCode(() => Bitfield.fromBytes(Uint8Array.of(0xff), 10), 'INVALID_BITFIELD_LENGTH');
    expectCode(() => Bitfield.fromBytes(Uint8Array.of(0xff, 0xe0), 10), 'BITFIELD_SPARE_BITS');
    const lenient = Bitfield.fromBytes(Uint8Array.of(0xff, 0xff), 10, { allowSpareBits: true });
    expect(hex(lenient.bytes)).toBe('ffc0');
    expect(lenient.count).toBe(10);
  });
});
