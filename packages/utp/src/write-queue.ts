/**
 * The bytes a writer queued and no packet carries yet: chunks as written (not copied), taken
 * from the front into packets of any size.
 */
const EMPTY = new Uint8Array(0);

export class WriteQueue {
  readonly #chunks: Uint8Array[] = [];
  #head = 0;
  #offset = 0;
  /** Bytes queued. */
  bytes = 0;

  push(data: Uint8Array): void {
    this.#chunks.push(data);
    this.bytes += data.length;
  }

  /** Copies the next `n` (<= `bytes`) queued bytes into `out` at `offset`. */
  take(out: Uint8Array, offset: number, n: number): void {
    let left = n;
    let at = offset;
    while (left > 0) {
      const chunk = this.#chunks[this.#head] as Uint8Array;
      const available = chunk.length - this.#offset;
      const count = Math.min(available, left);
      out.set(chunk.subarray(this.#offset, this.#offset + count), at);
      at += count;
      left -= count;
      if (count === available) {
        this.#chunks[this.#head] = EMPTY;
        this.#head++;
        this.#offset = 0;
      } else {
        this.#offset += count;
      }
    }
    this.bytes -= n;
    if (this.#head > 1024 || this.#head === this.#chunks.length) {
      this.#chunks.splice(0, this.#head);
      this.#head = 0;
    }
  }

  clear(): void {
    this.#chunks.length = 0;
    this.#head = 0;
    this.#offset = 0;
    this.bytes = 0;
  }
}
