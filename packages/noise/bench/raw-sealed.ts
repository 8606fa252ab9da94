/**
 * The "raw cipher over TCP" reference of noise.bench.ts: the same ChaCha20-Poly1305 work as
 * the secure stream (65,519-byte messages, a 2-byte big-endian length before each, a
 * 64-bit counter nonce, one output buffer per 1 MB write) written with the least code that
 * does it: no handshake, no `Stream` wrapper around the cipher, no end marker, no limits and
 * no error handling beyond the tag check. It is what node:crypto plus the socket cost on
 * their own; the secure stream's rate over the same socket, divided by this one, is the cost
 * of the Noise layer itself.
 */
import { createCipheriv, createDecipheriv, type DecipherChaCha20Poly1305 } from 'node:crypto';

/** Plaintext bytes per message: 65,535 - 16 (the Noise limit, spec section 3). */
export const RAW_PLAINTEXT = 65_519;
const TAG = 16;
const PREFIX = 2;

function nonceOf(n: number): Buffer {
  const nonce = Buffer.alloc(12);
  nonce.writeBigUInt64LE(BigInt(n), 4);
  return nonce;
}

/** Seals `plaintext` into one buffer of length-prefixed messages, starting at nonce `first`. */
export function sealBatch(key: Uint8Array, first: number, plaintext: Uint8Array): Buffer {
  const messages = Math.ceil(plaintext.length / RAW_PLAINTEXT);
  const out = Buffer.allocUnsafe(plaintext.length + messages * (PREFIX + TAG));
  let at = 0;
  for (let m = 0; m < messages; m++) {
    const body = plaintext.subarray(m * RAW_PLAINTEXT, (m + 1) * RAW_PLAINTEXT);
    const cipher = createCipheriv('chacha20-poly1305', key, nonceOf(first + m), {
      authTagLength: TAG,
    });
    out.writeUInt16BE(body.length + TAG, at);
    at += PREFIX;
    at += cipher.update(body).copy(out, at);
    cipher.final();
    at += cipher.getAuthTag().copy(out, at);
  }
  return out;
}

/** How many messages `sealBatch` makes of `bytes` plaintext bytes (for the next nonce). */
export function messagesIn(bytes: number): number {
  return Math.ceil(bytes / RAW_PLAINTEXT);
}

/**
 * Reads length-prefixed sealed messages from `source` until it ends, opening each (the
 * ciphertext decrypted piece by piece as it arrives, never joined), and returns the plaintext
 * bytes. Throws when a tag does not verify.
 */
export async function openAll(
  key: Uint8Array,
  source: AsyncIterable<Uint8Array>,
  onFirstChunk: () => void = () => {},
): Promise<number> {
  let plaintextBytes = 0;
  let nonce = 0;
  let header = Buffer.alloc(0); // bytes of a length prefix split across reads
  let body = 0; // ciphertext bytes still to come in the current message
  let tag: Buffer[] = []; // the current message's tag pieces
  let tagBytes = 0;
  let decipher: DecipherChaCha20Poly1305 | undefined;
  for await (const chunk of source) {
    if (plaintextBytes === 0 && nonce === 0 && header.length === 0) onFirstChunk();
    let at = 0;
    while (at < chunk.length) {
      if (decipher === undefined) {
        const need = PREFIX - header.length;
        header = Buffer.concat([header, chunk.subarray(at, at + need)]);
        at += Math.min(need, chunk.length - at);
        if (header.length < PREFIX) break;
        body = header.readUInt16BE(0) - TAG;
        header = Buffer.alloc(0);
        decipher = createDecipheriv('chacha20-poly1305', key, nonceOf(nonce++), {
          authTagLength: TAG,
        });
        tag = [];
        tagBytes = 0;
      }
      if (body > 0) {
        const take = Math.min(body, chunk.length - at);
        plaintextBytes += decipher.update(chunk.subarray(at, at + take)).length;
        body -= take;
        at += take;
      }
      if (body === 0 && at < chunk.length) {
        const take = Math.min(TAG - tagBytes, chunk.length - at);
        tag.push(Buffer.from(chunk.buffer, chunk.byteOffset + at, take));
        tagBytes += take;
        at += take;
        if (tagBytes === TAG) {
          decipher.setAuthTag(Buffer.concat(tag));
          decipher.final();
          decipher = undefined;
        }
      }
    }
  }
  return plaintextBytes;
}
