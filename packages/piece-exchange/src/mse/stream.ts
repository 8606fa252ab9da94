/**
 * An MSE connection after its handshake, as transport's `Stream`: writes are RC4-encrypted
 * (into a copy: the caller's buffer may be a shared constant), reads decrypted, and the
 * payload bytes that arrived with the handshake come first. With plaintext selected (or a
 * plain BitTorrent connection recognised by the accepting side) it only replays those bytes.
 * `PeerConnection` uses it like any other stream.
 */
import type { Address, Stream, TransportError } from '@peerkit/transport';
import type { MseMethod } from './handshake';
import type { Rc4 } from './rc4';

export class MseStream implements Stream {
  readonly #inner: Stream;
  readonly #chunks: AsyncIterator<Uint8Array>;
  readonly #encrypt: Rc4 | undefined;
  readonly #decrypt: Rc4 | undefined;
  #head: Uint8Array | undefined;
  #iterated = false;
  /** How the payload travels: `rc4`, `plaintext` (negotiated by MSE) or `none` (no MSE). */
  readonly method: MseMethod | 'none';

  /**
   * `chunks` is `inner`'s iterator, already used by the handshake; `head` the payload bytes
   * it received (already decrypted).
   */
  constructor(
    inner: Stream,
    chunks: AsyncIterator<Uint8Array>,
    head: Uint8Array,
    method: MseMethod | 'none',
    ciphers?: { encrypt: Rc4 | undefined; decrypt: Rc4 | undefined },
  ) {
    this.#inner = inner;
    this.#chunks = chunks;
    this.#head = head.length > 0 ? head : undefined;
    this.method = method;
    this.#encrypt = ciphers?.encrypt;
    this.#decrypt = ciphers?.decrypt;
  }

  get localAddress(): Address {
    return this.#inner.localAddress;
  }
  get remoteAddress(): Address {
    return this.#inner.remoteAddress;
  }
  /** Encryption changes the bytes, not the transport: the inner stream's ('tcp', 'utp'). */
  get transport(): string | undefined {
    return this.#inner.transport;
  }
  get remoteIdentity(): Uint8Array | undefined {
    return this.#inner.remoteIdentity;
  }
  get closed(): Promise<TransportError | undefined> {
    return this.#inner.closed;
  }

  /** True when the payload is RC4-encrypted. */
  get encrypted(): boolean {
    return this.method === 'rc4';
  }

  write(data: Uint8Array): Promise<void> {
    return this.#inner.write(this.#encrypt === undefined ? data : this.#encrypt.processCopy(data));
  }
  end(): Promise<void> {
    return this.#inner.end();
  }
  destroy(error?: Error): void {
    this.#inner.destroy(error);
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    if (this.#iterated) throw new TypeError('a Stream can be iterated only once');
    this.#iterated = true;
    return {
      next: async () => {
        const head = this.#head;
        if (head !== undefined) {
          this.#head = undefined;
          return { done: false, value: head };
        }
        const next = await this.#chunks.next();
        if (next.done || this.#decrypt === undefined) return next;
        return { done: false, value: this.#decrypt.processCopy(next.value) };
      },
      return: async () => {
        await this.#chunks.return?.();
        return { done: true, value: undefined };
      },
    };
  }
}
