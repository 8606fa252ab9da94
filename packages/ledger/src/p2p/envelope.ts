/**
 * The message envelope (developer reference, "Message Headers"; protocol.h CMessageHeader):
 *
 * ```
 * 4  start string ("magic"; regtest fa bf b5 da)
 * 12 command name, ASCII, NUL-padded
 * 4  payload size, uint32 little-endian
 * 4  checksum: the first 4 bytes of SHA256(SHA256(payload))
 * ```
 *
 * `MessageDecoder` is a streaming, total decoder in the style of `@peerkit/framing`: bytes go in
 * as chunks of any size, whole messages come out. The header is checked (magic, a well-formed
 * command, the size limit) before any memory is taken for the payload, and the payload is held
 * as the views of the chunks it arrived in, so memory grows only with what the peer really sent.
 * After an error the decoder stays failed: a byte stream cannot be resynchronised.
 */
import { LedgerError } from '../errors';
import { hash256 } from '../hash';
import { COMMAND_SIZE, HEADER_SIZE, MAX_PROTOCOL_MESSAGE_LENGTH } from './constants';

export interface RawMessage {
  command: string;
  payload: Uint8Array;
  /**
   * False when the checksum does not match the payload. The stream stays in step (the length
   * was valid), so the receiver decides: Core drops such a message (net.cpp, "CHECKSUM ERROR").
   */
  checksumOk: boolean;
}

/** The first 4 bytes of the double SHA-256 of `payload`. */
export function checksum(payload: Uint8Array): Uint8Array {
  return hash256(payload).subarray(0, 4);
}

/** Encodes a command name into its 12 NUL-padded bytes; throws for a name that does not fit. */
export function encodeCommand(command: string): Uint8Array {
  if (command.length === 0 || command.length > COMMAND_SIZE || !/^[\x21-\x7e]+$/.test(command)) {
    throw new LedgerError('PROTOCOL', `bad command name ${JSON.stringify(command)}`);
  }
  const out = new Uint8Array(COMMAND_SIZE);
  for (let i = 0; i < command.length; i++) out[i] = command.charCodeAt(i);
  return out;
}

/**
 * Decodes the 12 command bytes. Core (CMessageHeader::IsMessageTypeValid) requires printable
 * ASCII up to the first NUL and only NULs after it; anything else is a protocol error.
 */
export function decodeCommand(bytes: Uint8Array): string {
  let end = bytes.indexOf(0);
  if (end === -1) end = bytes.length;
  for (let i = end; i < bytes.length; i++) {
    if (bytes[i] !== 0) throw new LedgerError('PROTOCOL', 'command name not NUL-padded');
  }
  let out = '';
  for (let i = 0; i < end; i++) {
    const c = bytes[i] as number;
    if (c < 0x20 || c > 0x7e) throw new LedgerError('PROTOCOL', 'command name not printable ASCII');
    out += String.fromCharCode(c);
  }
  if (out.length === 0) throw new LedgerError('PROTOCOL', 'empty command name');
  return out;
}

/** One whole message on the wire: header and payload. */
export function encodeMessage(magic: Uint8Array, command: string, payload: Uint8Array): Uint8Array {
  if (payload.length > MAX_PROTOCOL_MESSAGE_LENGTH) {
    throw new LedgerError(
      'LIMIT',
      `payload of ${payload.length} bytes above ${MAX_PROTOCOL_MESSAGE_LENGTH}`,
    );
  }
  const out = new Uint8Array(HEADER_SIZE + payload.length);
  out.set(magic.subarray(0, 4), 0);
  out.set(encodeCommand(command), 4);
  new DataView(out.buffer).setUint32(16, payload.length, true);
  out.set(checksum(payload), 20);
  out.set(payload, HEADER_SIZE);
  return out;
}

export interface MessageDecoderOptions {
  /** The network's message start (REGTEST.magic). */
  magic: Uint8Array;
  /** Largest payload accepted (default MAX_PROTOCOL_MESSAGE_LENGTH, 4,000,000). */
  maxPayload?: number;
}

/** Streaming decoder: `push` chunks, then `next()` until it returns `undefined`. */
export class MessageDecoder {
  readonly #magic: Uint8Array;
  readonly #maxPayload: number;
  #chunks: Uint8Array[] = [];
  #buffered = 0;
  #header: { command: string; length: number; checksum: Uint8Array } | undefined;
  #failure: LedgerError | undefined;

  constructor(options: MessageDecoderOptions) {
    this.#magic = options.magic;
    this.#maxPayload = options.maxPayload ?? MAX_PROTOCOL_MESSAGE_LENGTH;
  }

  /** Bytes received but not yet returned as a message. */
  get buffered(): number {
    return this.#buffered;
  }

  push(chunk: Uint8Array): void {
    if (this.#failure) throw this.#failure;
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
  }

  /**
   * The next whole message, or `undefined` when more bytes are needed. Throws `LedgerError`
   * (`PROTOCOL` for a wrong magic or command, `LIMIT` for an oversized payload) and keeps
   * throwing it afterwards; a checksum mismatch is reported in `checksumOk`.
   */
  next(): RawMessage | undefined {
    if (this.#failure) throw this.#failure;
    try {
      return this.#advance();
    } catch (error) {
      this.#failure =
        error instanceof LedgerError
          ? error
          : new LedgerError('DECODE', String(error), { cause: error });
      this.#chunks = [];
      this.#buffered = 0;
      throw this.#failure;
    }
  }

  #advance(): RawMessage | undefined {
    if (!this.#header) {
      if (this.#buffered < HEADER_SIZE) return undefined;
      const h = this.#take(HEADER_SIZE);
      for (let i = 0; i < 4; i++) {
        if (h[i] !== this.#magic[i])
          throw new LedgerError('PROTOCOL', 'wrong message start (magic)');
      }
      const command = decodeCommand(h.subarray(4, 16));
      const length = new DataView(h.buffer, h.byteOffset, h.byteLength).getUint32(16, true);
      if (length > this.#maxPayload) {
        throw new LedgerError(
          'LIMIT',
          `${command}: payload of ${length} bytes above ${this.#maxPayload}`,
        );
      }
      this.#header = { command, length, checksum: h.slice(20, 24) };
    }
    const header = this.#header;
    if (this.#buffered < header.length) return undefined;
    const payload = this.#take(header.length);
    this.#header = undefined;
    const sum = checksum(payload);
    let checksumOk = true;
    for (let i = 0; i < 4; i++) if (sum[i] !== header.checksum[i]) checksumOk = false;
    return { command: header.command, payload, checksumOk };
  }

  /** Removes `n` buffered bytes (n <= buffered): a view when they lie in one chunk, else a copy. */
  #take(n: number): Uint8Array {
    this.#buffered -= n;
    const first = this.#chunks[0];
    if (n === 0) return new Uint8Array(0);
    if (first && first.length >= n) {
      const out = first.subarray(0, n);
      if (first.length === n) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(n);
      return out;
    }
    const out = new Uint8Array(n);
    let at = 0;
    while (at < n) {
      const c = this.#chunks[0] as Uint8Array;
      const k = Math.min(c.length, n - at);
      out.set(c.subarray(0, k), at);
      at += k;
      if (k === c.length) this.#chunks.shift();
      else this.#chunks[0] = c.subarray(k);
    }
    return out;
  }
}
