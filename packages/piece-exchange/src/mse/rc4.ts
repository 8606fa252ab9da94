/**
 * RC4 (ARCFOUR), the stream cipher MSE/PE uses (mse.txt "ENCRYPT()"). OpenSSL 3 no longer
 * ships it, so node:crypto has none: this is the classic key schedule (KSA) and output
 * generator (PRGA), checked against RFC 6229's test vectors (test/mse-rc4.test.ts).
 *
 * MSE keys RC4 with a 20-byte SHA-1 and discards the first 1024 bytes of keystream
 * ("RC4-drop-1024"): `Rc4.forMse(key)`.
 */
export class Rc4 {
  /** The permutation S of 0..255. */
  readonly #s = new Uint8Array(256);
  #i = 0;
  #j = 0;

  /** Key-scheduling algorithm: `key` is 1..256 bytes. */
  constructor(key: Uint8Array) {
    if (key.length < 1 || key.length > 256) throw new RangeError('RC4 key must be 1..256 bytes');
    const s = this.#s;
    for (let i = 0; i < 256; i++) s[i] = i;
    let j = 0;
    for (let i = 0; i < 256; i++) {
      const si = s[i]!;
      j = (j + si + key[i % key.length]!) & 0xff;
      s[i] = s[j]!;
      s[j] = si;
    }
  }

  /** MSE's cipher: RC4 keyed with `key`, the first 1024 bytes of keystream dropped. */
  static forMse(key: Uint8Array): Rc4 {
    const rc4 = new Rc4(key);
    rc4.skip(1024);
    return rc4;
  }

  /** Discards `n` bytes of keystream. */
  skip(n: number): void {
    const s = this.#s;
    let i = this.#i;
    let j = this.#j;
    for (let k = 0; k < n; k++) {
      i = (i + 1) & 0xff;
      const si = s[i]!;
      j = (j + si) & 0xff;
      s[i] = s[j]!;
      s[j] = si;
    }
    this.#i = i;
    this.#j = j;
  }

  /**
   * XORs the next `input.length` keystream bytes into `input` and writes them to `output`
   * (default: in place). Encryption and decryption are the same operation. Returns `output`.
   */
  process(input: Uint8Array, output: Uint8Array = input): Uint8Array {
    const s = this.#s;
    let i = this.#i;
    let j = this.#j;
    const n = input.length;
    for (let k = 0; k < n; k++) {
      i = (i + 1) & 0xff;
      const si = s[i]!;
      j = (j + si) & 0xff;
      const sj = s[j]!;
      s[i] = sj;
      s[j] = si;
      output[k] = input[k]! ^ s[(si + sj) & 0xff]!;
    }
    this.#i = i;
    this.#j = j;
    return output;
  }

  /** `process` into a new buffer, leaving `input` untouched. */
  processCopy(input: Uint8Array): Uint8Array {
    return this.process(input, new Uint8Array(input.length));
  }
}
