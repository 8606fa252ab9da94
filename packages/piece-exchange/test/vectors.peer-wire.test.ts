import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  allowedFastSet,
  decodeExtensionHandshake,
  decodeMetadataMessage,
  encodeExtensionHandshake,
  encodeMetadataMessage,
  WireError,
} from '../src/index';

const shared = process.env.PEERKIT_SHARED
  ? new URL(`file://${process.env.PEERKIT_SHARED.replace(/\/?$/, '/')}`)
  : new URL('../../../../shared/', import.meta.url);
const vectorDir = new URL('vectors/peer-wire/', shared);

interface AllowedFastVector {
  k: number;
  num_pieces: number;
  infohash: string;
  ip: string;
  allowed_fast: number[];
}
interface Bep9Example {
  name: string;
  python_form: string;
  bencoded?: string;
  note?: string;
  erratum?: string;
}

const allowedFast = JSON.parse(
  readFileSync(new URL('bep6_allowed_fast.json', vectorDir), 'utf8'),
) as {
  vectors: AllowedFastVector[];
};
const bep9 = JSON.parse(readFileSync(new URL('bep9_examples.json', vectorDir), 'utf8')) as {
  examples: Bep9Example[];
};
const latin1 = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));
const text = (bytes: Uint8Array) => Buffer.from(bytes).toString('latin1');

describe('BEP 6 allowed fast set vectors', () => {
  it('has vectors', () => expect(allowedFast.vectors.length).toBeGreaterThan(0));
  for (const vector of allowedFast.vectors) {
    it(`k=${vector.k}, ${vector.num_pieces} pieces, ${vector.ip}`, () => {
      const infoHash = Buffer.from(vector.infohash, 'hex');
      expect(allowedFastSet(infoHash, vector.ip, vector.num_pieces, vector.k)).toEqual(
        vector.allowed_fast,
      );
      // Also from raw address bytes.
      const ip = Uint8Array.from(vector.ip.split('.').map(Number));
      expect(allowedFastSet(infoHash, ip, vector.num_pieces, vector.k)).toEqual(
        vector.allowed_fast,
      );
    });
  }

  it('the k-set is a prefix of the (k+1)-set, and the last octet of the IP does not matter', () => {
    const infoHash = new Uint8Array(20).fill(0x11);
    const ten = allowedFastSet(infoHash, '10.1.2.3', 500, 10);
    expect(allowedFastSet(infoHash, '10.1.2.3', 500, 11).slice(0, 10)).toEqual(ten);
    expect(allowedFastSet(infoHash, '10.1.2.250', 500, 10)).toEqual(ten);
    expect(new Set(ten).size).toBe(10);
  });

  it('terminates when k exceeds the piece count, and gives nothing for IPv6', () => {
    const infoHash = new Uint8Array(20);
    expect(allowedFastSet(infoHash, '1.2.3.4', 3, 10).sort()).toEqual([0, 1, 2]);
    expect(allowedFastSet(infoHash, '::1', 100, 10)).toEqual([]);
  });
});

describe('BEP 9 ut_metadata examples', () => {
  const byName = new Map(bep9.examples.map((e) => [e.name, e]));

  it('extension handshake: m maps ut_metadata to 3, metadata_size 31235', () => {
    const example = byName.get('extension handshake')!;
    // The BEP's Python form is informal; the vector note gives the intended bencoding.
    const bytes = latin1('d1:md11:ut_metadatai3ee13:metadata_sizei31235ee');
    expect(example.note ?? example.python_form).toContain('ut_metadata');
    const handshake = decodeExtensionHandshake(bytes);
    expect(handshake.m.ut_metadata).toBe(3);
    expect(handshake.metadataSize).toBe(31235);
    expect(text(encodeExtensionHandshake(handshake))).toBe(
      'd1:md11:ut_metadatai3ee13:metadata_sizei31235ee',
    );
  });

  it('request', () => {
    const example = byName.get('request')!;
    expect(decodeMetadataMessage(latin1(example.bencoded!))).toEqual({ type: 'request', piece: 0 });
    expect(text(encodeMetadataMessage({ type: 'request', piece: 0 }))).toBe(example.bencoded);
  });

  it('data (erratum: the dictionary says total_size 34256, the Python form 3425)', () => {
    const example = byName.get('data')!;
    expect(example.erratum).toBeDefined();
    // The bencoded form is authoritative: total_size 34256, so piece 0 is a full 16 KiB.
    const dict = example.bencoded!.replace(/x+\.\.\.$/, '');
    expect(dict).toBe('d8:msg_typei1e5:piecei0e10:total_sizei34256ee');
    const piece = new Uint8Array(16384).fill(0x78); // 'x'
    const payload = new Uint8Array([...latin1(dict), ...piece]);
    const decoded = decodeMetadataMessage(payload);
    expect(decoded).toEqual({ type: 'data', piece: 0, totalSize: 34256, data: piece });
    expect(encodeMetadataMessage(decoded)).toEqual(payload);
    // With the Python form's 3425, piece 0 would be 3425 bytes: a 16 KiB piece is refused.
    const python = new Uint8Array([
      ...latin1('d8:msg_typei1e5:piecei0e10:total_sizei3425ee'),
      ...piece,
    ]);
    expect(() => decodeMetadataMessage(python)).toThrow(WireError);
  });

  it('reject (erratum: the BEP prints msg_type 1; a reject is msg_type 2)', () => {
    const example = byName.get('reject')!;
    expect(example.erratum).toBeDefined();
    expect(text(encodeMetadataMessage({ type: 'reject', piece: 0 }))).toBe(
      'd8:msg_typei2e5:piecei0ee',
    );
    expect(decodeMetadataMessage(latin1('d8:msg_typei2e5:piecei0ee'))).toEqual({
      type: 'reject',
      piece: 0,
    });
    // The misprinted bytes are a `data` message without total_size: refused, typed.
    expect(() => decodeMetadataMessage(latin1(example.bencoded!))).toThrow(WireError);
  });
});
