/**
 * Ed25519 identities and the identity payload (README "Identity payload"): round trips,
 * total decoders (arbitrary bytes give a typed error), and each verification failure's code.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeIdentity,
  encodeIdentity,
  encodeIdentityPayload,
  equalKeys,
  generateIdentity,
  generateKeyPair,
  identityFromSecretKey,
  NoiseError,
  PAYLOAD_LENGTH,
  publicKeyFromHex,
  publicKeyToHex,
  SIGNATURE_DOMAIN,
  signWithIdentity,
  verifyIdentityPayload,
  verifyIdentitySignature,
} from '../src/index';
import { arbKey32 } from '../src/testing';

const alice = generateIdentity();
const staticKey = generateKeyPair().publicKey;

function codeOf(call: () => unknown): string | undefined {
  try {
    call();
    return undefined;
  } catch (e) {
    expect(e).toBeInstanceOf(NoiseError);
    return (e as NoiseError).code;
  }
}

describe('identity', () => {
  it('encodeIdentity/decodeIdentity and identityFromSecretKey round-trip (property)', () => {
    fc.assert(
      fc.property(arbKey32(), (seed) => {
        const id = identityFromSecretKey(seed);
        const back = decodeIdentity(encodeIdentity(id));
        expect(back.publicKey).toEqual(id.publicKey);
        expect(back.secretKey).toEqual(seed);
        expect(publicKeyFromHex(publicKeyToHex(id.publicKey))).toEqual(id.publicKey);
      }),
      { numRuns: 300 },
    );
  });

  it('decodeIdentity and publicKeyFromHex are total: arbitrary input gives INVALID_KEY', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), fc.string({ maxLength: 70 }), (bytes, text) => {
        const c1 = codeOf(() => decodeIdentity(bytes));
        if (c1 !== undefined) expect(c1).toBe('INVALID_KEY');
        const c2 = codeOf(() => publicKeyFromHex(text));
        if (c2 !== undefined) expect(c2).toBe('INVALID_KEY');
      }),
      { numRuns: 1000 },
    );
    const tampered = encodeIdentity(alice);
    tampered[40] = (tampered[40] as number) ^ 1;
    expect(codeOf(() => decodeIdentity(tampered))).toBe('INVALID_KEY');
  });

  it('signatures verify only for their message and key; bad keys return false, never throw', () => {
    const m = new TextEncoder().encode('hello');
    const sig = signWithIdentity(alice, m);
    expect(verifyIdentitySignature(alice.publicKey, m, sig)).toBe(true);
    expect(verifyIdentitySignature(generateIdentity().publicKey, m, sig)).toBe(false);
    expect(verifyIdentitySignature(alice.publicKey, Uint8Array.of(1), sig)).toBe(false);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ maxLength: 70 }), (k, s) => {
        expect(typeof verifyIdentitySignature(k, m, s)).toBe('boolean');
      }),
      { numRuns: 1000 },
    );
  });

  it('equalKeys compares lengths and bytes', () => {
    expect(equalKeys(Uint8Array.of(1, 2), Uint8Array.of(1, 2))).toBe(true);
    expect(equalKeys(Uint8Array.of(1, 2), Uint8Array.of(1, 3))).toBe(false);
    expect(equalKeys(Uint8Array.of(1), Uint8Array.of(1, 2))).toBe(false);
  });
});

describe('identity payload', () => {
  it('has the documented 97-byte layout and verifies against the static key', () => {
    const payload = encodeIdentityPayload(alice, staticKey);
    expect(payload.length).toBe(PAYLOAD_LENGTH);
    expect(payload[0]).toBe(1);
    expect(payload.subarray(1, 33)).toEqual(alice.publicKey);
    const signed = Buffer.concat([Buffer.from(SIGNATURE_DOMAIN), staticKey]);
    expect(verifyIdentitySignature(alice.publicKey, signed, payload.subarray(33))).toBe(true);
    expect(verifyIdentityPayload(payload, staticKey)).toEqual(alice.publicKey);
    expect(verifyIdentityPayload(payload, staticKey, alice.publicKey)).toEqual(alice.publicKey);
  });

  it('another static key gives BAD_SIGNATURE; another expected identity IDENTITY_MISMATCH', () => {
    const payload = encodeIdentityPayload(alice, staticKey);
    expect(codeOf(() => verifyIdentityPayload(payload, generateKeyPair().publicKey))).toBe(
      'BAD_SIGNATURE',
    );
    expect(
      codeOf(() => verifyIdentityPayload(payload, staticKey, generateIdentity().publicKey)),
    ).toBe('IDENTITY_MISMATCH');
  });

  it('arbitrary or mutated payloads give BAD_MESSAGE or BAD_SIGNATURE, never another exception', () => {
    const good = encodeIdentityPayload(alice, staticKey);
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 120 }),
          fc.tuple(fc.nat({ max: good.length * 8 - 1 })).map(([bit]) => {
            const p = good.slice();
            p[bit >>> 3] = (p[bit >>> 3] as number) ^ (1 << (bit & 7));
            return p;
          }),
        ),
        (payload) => {
          expect(['BAD_MESSAGE', 'BAD_SIGNATURE']).toContain(
            codeOf(() => verifyIdentityPayload(payload, staticKey)),
          );
        },
      ),
      { numRuns: 1000 },
    );
  });
});
