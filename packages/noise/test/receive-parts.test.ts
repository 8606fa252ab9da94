/**
 * The zero-copy receive path: a Noise message that spans transport reads is decrypted from its
 * pieces (`CipherState.decryptPartsWithAd`, a streaming decipher) and never joined. Its
 * plaintext reaches the reader only after the tag verified, also when the tag itself is split
 * across two chunks.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CipherState } from '../src/cipher-state';
import { TAGLEN } from '../src/crypto';
import {
  generateIdentity,
  isNoiseError,
  MAX_PLAINTEXT,
  secureInbound,
  secureOutbound,
} from '../src/index';
import {
  arbChunkSizes,
  arbPayloadSequence,
  bitFlipInterceptor,
  type Interceptor,
  patternBytes,
  runSession,
} from '../src/testing';

const impl = { generateIdentity, secureOutbound, secureInbound };

function pair(): [CipherState, CipherState] {
  const key = new Uint8Array(32).fill(7);
  const send = new CipherState();
  const receive = new CipherState();
  send.initializeKey(key);
  receive.initializeKey(key);
  return [send, receive];
}

/** `bytes` cut at the given positions (sorted, deduplicated, within 1..length-1). */
function cutAt(bytes: Uint8Array, positions: readonly number[]): Uint8Array[] {
  const cuts = [...new Set(positions.filter((p) => p > 0 && p < bytes.length))].sort(
    (x, y) => x - y,
  );
  const parts: Uint8Array[] = [];
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    parts.push(bytes.subarray(from, cut));
    from = cut;
  }
  return parts;
}

/** Whole-stream cuts: every chunk `first` delivers is re-cut by `second`. */
function chain(first: Interceptor, second: Interceptor): Interceptor {
  return {
    onChunk: (chunk) => first.onChunk(chunk).flatMap((c) => second.onChunk(c)),
    onEnd: () => (first.onEnd?.() ?? []).flatMap((c) => second.onChunk(c)),
  };
}

/** Delivers the byte stream cut at the given absolute offsets (counted over the whole stream). */
function cutStreamAt(offsets: readonly number[]): Interceptor {
  let seen = 0;
  return {
    onChunk(chunk) {
      const local = offsets.map((o) => o - seen);
      seen += chunk.length;
      return cutAt(chunk, local);
    },
  };
}

const arbMessage = fc.oneof(
  { weight: 4, arbitrary: fc.uint8Array({ maxLength: 300 }) },
  { weight: 1, arbitrary: fc.nat().map((seed) => patternBytes(MAX_PLAINTEXT, seed)) },
);

describe('decryptPartsWithAd (streaming decipher over pieces)', () => {
  it('gives the plaintext, in pieces, however the ciphertext and tag are cut (property)', () => {
    fc.assert(
      fc.property(arbMessage, fc.array(fc.nat(), { maxLength: 6 }), (plaintext, cuts) => {
        const [send, receive] = pair();
        const message = send.encryptWithAd(new Uint8Array(0), plaintext);
        const parts = cutAt(
          message,
          cuts.map((c) => c % (message.length + 1)),
        );
        const pieces = receive.decryptPartsWithAd(new Uint8Array(0), parts);
        expect(Buffer.compare(Buffer.concat(pieces), plaintext)).toBe(0);
        expect(pieces.every((p) => p.length > 0)).toBe(true);
        expect(receive.nonce).toBe(1n);
      }),
      { numRuns: 1000 },
    );
  });

  it('any flipped bit in any piece fails with DECRYPT_FAILED and leaves n unchanged (property)', () => {
    fc.assert(
      fc.property(
        arbMessage,
        fc.array(fc.nat(), { maxLength: 6 }),
        fc.nat(),
        (plaintext, cuts, bitSeed) => {
          const [send, receive] = pair();
          const message = new Uint8Array(send.encryptWithAd(new Uint8Array(0), plaintext));
          const bit = bitSeed % (message.length * 8);
          message[bit >>> 3] = (message[bit >>> 3] as number) ^ (1 << (bit & 7));
          const parts = cutAt(
            message,
            cuts.map((c) => c % (message.length + 1)),
          );
          let error: unknown;
          try {
            receive.decryptPartsWithAd(new Uint8Array(0), parts);
          } catch (e) {
            error = e;
          }
          expect(isNoiseError(error, 'DECRYPT_FAILED')).toBe(true);
          expect(receive.nonce).toBe(0n);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('decrypts a message whose tag is split at every one of its 15 inner positions', () => {
    for (let split = 1; split < TAGLEN; split++) {
      const [send, receive] = pair();
      const plaintext = patternBytes(MAX_PLAINTEXT, split);
      const message = send.encryptWithAd(new Uint8Array(0), plaintext);
      const tagStart = message.length - TAGLEN;
      const parts = cutAt(message, [40_000, tagStart + split]);
      expect(parts).toHaveLength(3);
      const pieces = receive.decryptPartsWithAd(new Uint8Array(0), parts);
      expect(pieces.map((p) => p.length)).toEqual([40_000, MAX_PLAINTEXT - 40_000]);
      expect(Buffer.compare(Buffer.concat(pieces), plaintext)).toBe(0);
    }
  });
});

describe('secure stream receive path over chunked transports', () => {
  it('messages spanning arbitrary chunk boundaries, tags split included, arrive intact (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        arbPayloadSequence({ maxLength: 4, maxLarge: 140_000 }),
        arbChunkSizes(),
        async (aWrites, cuts) => {
          const { splitInterceptor } = await import('../src/testing');
          const r = await runSession(impl, { aWrites, aToB: splitInterceptor(cuts, 64) });
          expect(r.hung).toBe(false);
          expect(r.b.readError ?? r.b.handshakeError).toBeUndefined();
          expect(r.b.readEnded).toBe(true);
          expect(Buffer.compare(r.b.received, Buffer.concat(aWrites))).toBe(0);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('a tag split across two chunks: each of its 15 split points delivers the message', async () => {
    // Handshake messages from a: 32 and 161 bytes, each with its 2-byte prefix.
    const dataStart = 2 + 32 + 2 + 161;
    for (let split = 1; split < TAGLEN; split++) {
      const payload = patternBytes(MAX_PLAINTEXT, split);
      const tagStart = dataStart + 2 + MAX_PLAINTEXT;
      const r = await runSession(impl, {
        aWrites: [payload],
        aToB: cutStreamAt([dataStart + 1000, tagStart + split]),
      });
      expect(r.b.readError ?? r.b.handshakeError).toBeUndefined();
      expect(Buffer.compare(r.b.received, payload)).toBe(0);
    }
  });

  it('a flipped tag bit in a message split across chunks releases none of its plaintext', async () => {
    const dataStart = 2 + 32 + 2 + 161;
    const first = patternBytes(1000, 1);
    const second = patternBytes(MAX_PLAINTEXT, 2);
    // a's frames: 2 handshake messages, then `first` (frame 2), then `second` (frame 3).
    const secondStart = dataStart + 2 + 1000 + TAGLEN;
    const tagStart = secondStart + 2 + MAX_PLAINTEXT;
    for (const bitFraction of [0.5, 0.9999]) {
      const r = await runSession(impl, {
        aWrites: [first, second],
        aToB: chain(
          bitFlipInterceptor(3, bitFraction),
          cutStreamAt([secondStart + 30_000, tagStart + 7]),
        ),
      });
      expect(r.hung).toBe(false);
      expect(isNoiseError(r.b.readError, 'DECRYPT_FAILED')).toBe(true);
      // Exactly the message before the corrupted one: not a byte of the corrupted one leaks.
      expect(Buffer.compare(r.b.received, first)).toBe(0);
    }
  });

  it('flipping any bit of any message, chunked arbitrarily, fails with a typed error and leaks nothing (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        arbPayloadSequence({ maxLength: 4, maxLarge: 140_000 }),
        arbChunkSizes(),
        fc.nat(),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        async (aWrites, cuts, frameSeed, bitFraction) => {
          const { splitInterceptor } = await import('../src/testing');
          // Messages a sends: 2 handshake messages, then one per 65,519 bytes (or per write).
          const dataFrames = aWrites.reduce((n, w) => n + Math.ceil(w.length / MAX_PLAINTEXT), 0);
          const frame = frameSeed % (2 + dataFrames + 1); // + the end marker
          const r = await runSession(impl, {
            aWrites,
            aToB: chain(bitFlipInterceptor(frame, bitFraction), splitInterceptor(cuts, 64)),
          });
          expect(r.hung).toBe(false);
          const error = r.b.readError ?? r.b.handshakeError;
          expect(isNoiseError(error)).toBe(true);
          const sent = Buffer.concat(aWrites);
          // A prefix of what was sent, ending on a message boundary before the flipped one.
          expect(Buffer.compare(r.b.received, sent.subarray(0, r.b.received.length))).toBe(0);
          expect(r.b.received.length).toBeLessThanOrEqual(Math.max(0, frame - 2) * MAX_PLAINTEXT);
        },
      ),
      { numRuns: 1000 },
    );
  });
});
