import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  checkItem,
  createMutableItem,
  fromHex,
  generateKeyPair,
  immutableTarget,
  mutableTarget,
  publicKeyFromSecret,
  signatureBuffer,
  signMutable,
  toHex,
  verifyMutable,
} from '../src/index';

const shared =
  process.env.PEERKIT_SHARED ?? new URL('../../../../shared/', import.meta.url).pathname;
const { vectors } = JSON.parse(
  readFileSync(`${shared}/vectors/dht/bep44_vectors.json`, 'utf8'),
) as {
  vectors: {
    name: string;
    value: string;
    seq?: number;
    salt?: string | null;
    signed_buffer?: string;
    public_key?: string;
    target: string;
    signature?: string;
  }[];
};
const bytes = (s: string) => new TextEncoder().encode(s);

describe('BEP 44 items', () => {
  it.each(vectors.map((v) => [v.name, v] as const))(
    'vector "%s": target, buffer and signature',
    (_n, v) => {
      const value = bytes(v.value);
      const salt = v.salt ? bytes(v.salt) : undefined;
      if (!v.public_key) {
        expect(toHex(immutableTarget(value))).toBe(v.target);
        expect(checkItem({ v: value })).toBeUndefined();
        return;
      }
      const k = fromHex(v.public_key);
      expect(toHex(mutableTarget(k, salt))).toBe(v.target);
      expect(new TextDecoder().decode(signatureBuffer(v.seq!, value, salt))).toBe(v.signed_buffer);
      const sig = fromHex(v.signature!);
      expect(verifyMutable(k, sig, v.seq!, value, salt)).toBe(true);
      expect(
        checkItem({ v: value, k, sig, seq: v.seq!, ...(salt ? { salt } : {}) }),
      ).toBeUndefined();
      // Any change breaks it.
      expect(verifyMutable(k, sig, v.seq! + 1, value, salt)).toBe(false);
      expect(checkItem({ v: value, k, sig, seq: v.seq! + 1 })).toMatchObject({ code: 206 });
    },
  );

  it('signs with seed keys and verifies (property)', () => {
    const keyPair = generateKeyPair();
    expect(publicKeyFromSecret(keyPair.secretKey)).toEqual(keyPair.publicKey);
    fc.assert(
      fc.property(
        fc.string({ maxLength: 50 }),
        fc.integer({ min: 0, max: 2 ** 40 }),
        fc.uint8Array({ maxLength: 64 }),
        (value, seq, salt) => {
          const item = createMutableItem({ keyPair, value, seq, salt });
          expect(checkItem(item)).toBeUndefined();
          expect(verifyMutable(item.k, item.sig, seq, item.v, salt)).toBe(true);
          const other = signMutable(generateKeyPair().secretKey, seq, item.v, salt);
          expect(verifyMutable(item.k, other, seq, item.v, salt)).toBe(false);
        },
      ),
      { numRuns: 50 },
    );
  });

  it('enforces the size limits and canonical bencoding', () => {
    const keyPair = generateKeyPair();
    expect(() => createMutableItem({ keyPair, value: 'x'.repeat(1000), seq: 1 })).toThrow(
      expect.objectContaining({ code: 'INVALID_ITEM' }),
    );
    expect(checkItem({ v: bytes(`1001:${'x'.repeat(1001)}`) })).toMatchObject({ code: 205 });
    expect(checkItem({ v: bytes('d1:bi1e1:ai2ee') })).toMatchObject({ code: 203 }); // unsorted keys
    const item = createMutableItem({ keyPair, value: 1, seq: 1 });
    expect(checkItem({ ...item, salt: new Uint8Array(65) })).toMatchObject({ code: 207 });
    expect(verifyMutable(new Uint8Array(32), new Uint8Array(64), 1, item.v)).toBe(false);
  });
});
