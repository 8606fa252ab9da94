/**
 * The `CipherState` object (spec section 5.1): a cipher key `k` (possibly empty) and a 64-bit
 * nonce `n`. The maximum nonce 2^64-1 is reserved: once `n` reaches it, every further
 * `EncryptWithAd`/`DecryptWithAd` signals `NONCE_EXHAUSTED` and the session must end.
 */
import { createSecretKey, type KeyObject } from 'node:crypto';
import { decrypt, decryptParts, encryptInto, NO_AD, TAGLEN, writeNonce } from './crypto';
import { NoiseError } from './errors';

/** 2^64-1: reserved (5.1), used only by `Rekey()` (4.2). */
export const MAX_NONCE = 0xffff_ffff_ffff_ffffn;

const ZEROS_32 = new Uint8Array(32);

export class CipherState {
  #k: KeyObject | undefined;
  #n = 0n;
  /** One nonce buffer per CipherState; node:crypto copies it on each use. */
  readonly #nonce = Buffer.alloc(12);

  /** InitializeKey(key): sets `k = key` (undefined means empty) and `n = 0`. */
  initializeKey(key: Uint8Array | undefined): void {
    if (key !== undefined && key.length !== 32) {
      throw new NoiseError('INVALID_KEY', 'a cipher key is 32 bytes');
    }
    this.#k = key === undefined ? undefined : createSecretKey(key);
    this.#n = 0n;
  }

  /** HasKey(): true once a key is set. */
  hasKey(): boolean {
    return this.#k !== undefined;
  }

  /** SetNonce(nonce): sets `n` (section 11.4). */
  setNonce(nonce: bigint): void {
    if (nonce < 0n || nonce > MAX_NONCE) {
      throw new NoiseError('INVALID_STATE', 'a nonce is an unsigned 64-bit integer');
    }
    this.#n = nonce;
  }

  /** The nonce the next EncryptWithAd/DecryptWithAd will use. */
  get nonce(): bigint {
    return this.#n;
  }

  #useNonce(k: KeyObject): KeyObject {
    if (this.#n >= MAX_NONCE) {
      throw new NoiseError('NONCE_EXHAUSTED', 'nonce 2^64-1 is reserved: start a new session');
    }
    writeNonce(this.#nonce, this.#n);
    return k;
  }

  /** EncryptWithAd(ad, plaintext): ENCRYPT(k, n++, ad, plaintext), or plaintext if `k` is empty. */
  encryptWithAd(ad: Uint8Array, plaintext: Uint8Array): Uint8Array {
    if (this.#k === undefined) return plaintext;
    const out = new Uint8Array(plaintext.length + TAGLEN);
    this.encryptWithAdInto(ad, plaintext, out, 0);
    return out;
  }

  /**
   * EncryptWithAd into a caller's buffer (`ciphertext || tag` at `offset`), the allocation-free
   * path of the secure stream. Requires a key. Returns the bytes written.
   */
  encryptWithAdInto(
    ad: Uint8Array,
    plaintext: Uint8Array,
    out: Uint8Array,
    offset: number,
  ): number {
    if (this.#k === undefined) throw new NoiseError('INVALID_STATE', 'no cipher key yet');
    const written = encryptInto(this.#useNonce(this.#k), this.#nonce, ad, plaintext, out, offset);
    this.#n++;
    return written;
  }

  /**
   * DecryptWithAd(ad, ciphertext): DECRYPT(k, n++, ad, ciphertext), or the ciphertext if `k` is
   * empty. On authentication failure `n` stays and `DECRYPT_FAILED` is thrown.
   */
  decryptWithAd(ad: Uint8Array, ciphertext: Uint8Array): Uint8Array {
    if (this.#k === undefined) return ciphertext;
    const plaintext = decrypt(this.#useNonce(this.#k), this.#nonce, ad, ciphertext);
    if (plaintext === undefined) {
      throw new NoiseError('DECRYPT_FAILED', 'message failed authentication');
    }
    this.#n++;
    return plaintext;
  }

  /**
   * DecryptWithAd for a ciphertext given as consecutive pieces (the secure stream's receive
   * path: a message spanning two transport reads is never joined). Requires a key. Returns
   * the plaintext as pieces, only after the tag verified; on failure `n` stays and
   * `DECRYPT_FAILED` is thrown.
   */
  decryptPartsWithAd(ad: Uint8Array, parts: readonly Uint8Array[]): Uint8Array[] {
    if (this.#k === undefined) throw new NoiseError('INVALID_STATE', 'no cipher key yet');
    const plaintext = decryptParts(this.#useNonce(this.#k), this.#nonce, ad, parts);
    if (plaintext === undefined) {
      throw new NoiseError('DECRYPT_FAILED', 'message failed authentication');
    }
    this.#n++;
    return plaintext;
  }

  /** Rekey(): `k = REKEY(k)`, the first 32 bytes of ENCRYPT(k, 2^64-1, zerolen, zeros) (4.2). */
  rekey(): void {
    if (this.#k === undefined) throw new NoiseError('INVALID_STATE', 'no cipher key to rekey');
    writeNonce(this.#nonce, MAX_NONCE);
    const out = new Uint8Array(32 + TAGLEN);
    encryptInto(this.#k, this.#nonce, NO_AD, ZEROS_32, out, 0);
    this.#k = createSecretKey(out.subarray(0, 32));
  }
}
