/**
 * The `SymmetricState` object (spec section 5.2): a `CipherState` plus the chaining key `ck`
 * and the handshake hash `h`.
 */
import { CipherState } from './cipher-state';
import { HASHLEN, hash, hkdf2, hkdf3 } from './crypto';

const ZEROLEN = new Uint8Array(0);

export class SymmetricState {
  readonly cipherState = new CipherState();
  #ck: Uint8Array;
  #h: Uint8Array;

  /** InitializeSymmetric(protocol_name). */
  constructor(protocolName: Uint8Array) {
    if (protocolName.length <= HASHLEN) {
      this.#h = new Uint8Array(HASHLEN);
      this.#h.set(protocolName);
    } else {
      this.#h = hash(protocolName);
    }
    this.#ck = this.#h;
    this.cipherState.initializeKey(undefined);
  }

  /** MixKey(input_key_material): `ck, temp_k = HKDF(ck, ikm, 2)`; InitializeKey(temp_k). */
  mixKey(inputKeyMaterial: Uint8Array): void {
    const [ck, tempK] = hkdf2(this.#ck, inputKeyMaterial);
    this.#ck = ck;
    this.cipherState.initializeKey(tempK);
  }

  /** MixHash(data): `h = HASH(h || data)`. */
  mixHash(data: Uint8Array): void {
    this.#h = hash(this.#h, data);
  }

  /** MixKeyAndHash(input_key_material) (used by PSK patterns, section 9). */
  mixKeyAndHash(inputKeyMaterial: Uint8Array): void {
    const [ck, tempH, tempK] = hkdf3(this.#ck, inputKeyMaterial);
    this.#ck = ck;
    this.mixHash(tempH);
    this.cipherState.initializeKey(tempK);
  }

  /** GetHandshakeHash(): `h`, for channel binding (section 11.2). */
  getHandshakeHash(): Uint8Array {
    return this.#h;
  }

  /** EncryptAndHash(plaintext): EncryptWithAd(h, plaintext), then MixHash(ciphertext). */
  encryptAndHash(plaintext: Uint8Array): Uint8Array {
    const ciphertext = this.cipherState.encryptWithAd(this.#h, plaintext);
    this.mixHash(ciphertext);
    return ciphertext;
  }

  /** DecryptAndHash(ciphertext): DecryptWithAd(h, ciphertext), then MixHash(ciphertext). */
  decryptAndHash(ciphertext: Uint8Array): Uint8Array {
    const plaintext = this.cipherState.decryptWithAd(this.#h, ciphertext);
    this.mixHash(ciphertext);
    return plaintext;
  }

  /** Split(): `temp_k1, temp_k2 = HKDF(ck, zerolen, 2)`; two fresh CipherStates (c1, c2). */
  split(): [CipherState, CipherState] {
    const [tempK1, tempK2] = hkdf2(this.#ck, ZEROLEN);
    const c1 = new CipherState();
    const c2 = new CipherState();
    c1.initializeKey(tempK1);
    c2.initializeKey(tempK2);
    return [c1, c2];
  }
}
