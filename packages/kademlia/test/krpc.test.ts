import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isDHTError } from '../src/errors';
import { decodeMessage, encodeMessage, peekQueryTransaction } from '../src/krpc';
import { arbKrpcMessage } from '../src/testing';

const shared =
  process.env.PEERKIT_SHARED ?? new URL('../../../../shared/', import.meta.url).pathname;
const bep5 = JSON.parse(readFileSync(`${shared}/vectors/dht/bep5_krpc_examples.json`, 'utf8')) as {
  examples: { name: string; bencoded: string }[];
};
const latin1 = (s: string) => Uint8Array.from(Buffer.from(s, 'latin1'));
const ascii = (b: Uint8Array) => Buffer.from(b).toString('latin1');

describe('KRPC codec (BEP 5)', () => {
  it.each(bep5.examples.map((e) => [e.name, e.bencoded] as const))(
    'BEP 5 example "%s" decodes and re-encodes byte for byte',
    (_name, bencoded) => {
      const bytes = latin1(bencoded);
      const msg = decodeMessage(bytes);
      expect(ascii(encodeMessage(msg))).toBe(bencoded);
    },
  );

  it('decodes the BEP 5 examples into the fields the BEP names', () => {
    const byName = new Map(bep5.examples.map((e) => [e.name, decodeMessage(latin1(e.bencoded))]));
    const error = byName.get('generic error')!;
    expect(error).toMatchObject({ y: 'e', e: { code: 201, message: 'A Generic Error Ocurred' } });
    const announce = byName.get('announce_peers Query')!;
    expect(announce.y).toBe('q');
    if (announce.y !== 'q') return;
    expect(announce.q).toBe('announce_peer');
    expect(announce.a.port).toBe(6881);
    expect(announce.a.impliedPort).toBe(true);
    expect(ascii(announce.a.token!)).toBe('aoeusnth');
    expect(ascii(announce.a.infoHash!)).toBe('mnopqrstuvwxyz123456');
    const peers = byName.get('get_peers Response with peers')!;
    expect(peers.y === 'r' && peers.r.values?.map(ascii)).toEqual(['axje.u', 'idhtnm']);
  });

  it('round-trips every message shape (property, 1000 runs)', () => {
    fc.assert(
      fc.property(arbKrpcMessage(), (msg) => {
        expect(decodeMessage(encodeMessage(msg))).toEqual(msg);
      }),
      { numRuns: 1000 },
    );
  });

  it('never throws anything but DHTError on arbitrary bytes (property, 1000 runs)', () => {
    const mutated = arbKrpcMessage().chain((m) => {
      const bytes = encodeMessage(m);
      return fc
        .array(fc.tuple(fc.nat(bytes.length), fc.nat(255)), { maxLength: 4 })
        .map((edits) => {
          const b = Uint8Array.from(bytes);
          for (const [i, v] of edits) if (i < b.length) b[i] = v;
          return b.subarray(0, Math.max(0, b.length - ((edits[0]?.[0] ?? 0) % 3)));
        });
    });
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 300 }), mutated), (bytes) => {
        try {
          decodeMessage(bytes);
        } catch (e) {
          if (!isDHTError(e)) throw e;
          expect(['MALFORMED_MESSAGE', 'MESSAGE_TOO_LARGE']).toContain(e.code);
        }
        peekQueryTransaction(bytes);
      }),
      { numRuns: 1000 },
    );
  });

  it('rejects oversize datagrams, wrong id lengths and missing keys with typed errors', () => {
    const big = new Uint8Array(9000).fill(0x30);
    expect(() => decodeMessage(big)).toThrow(
      expect.objectContaining({ code: 'MESSAGE_TOO_LARGE' }),
    );
    for (const bad of [
      'd1:ad2:id3:abce1:q4:ping1:t2:aa1:y1:qe', // short id
      'd1:q4:ping1:t2:aa1:y1:qe', // no a
      'd1:ad2:id20:abcdefghij0123456789e1:q4:ping1:y1:qe', // no t
      'd1:t2:aa1:y1:xe', // bad y
      'd1:eli201ee1:t2:aa1:y1:ee', // short e
      'le',
    ]) {
      expect(() => decodeMessage(latin1(bad))).toThrow(
        expect.objectContaining({ code: 'MALFORMED_MESSAGE' }),
      );
    }
    expect(ascii(peekQueryTransaction(latin1('d1:q4:ping1:t2:aa1:y1:qe'))!)).toBe('aa');
  });
});
