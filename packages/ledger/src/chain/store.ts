/**
 * The storage seam of the chain: one append-only log of block records.
 *
 * Record: u32le payload length ‖ first 4 bytes of SHA-256(payload) ‖ payload (a serialized
 * block). Blocks are only ever appended, each append is made durable (fsync) before the chain
 * uses the block, and at open the log is scanned: the first record that is cut short or whose
 * checksum fails marks a torn write from a crash, and the log is truncated there. So a crash
 * at any moment (kill -9 included) loses at most the block being written, never corrupts an
 * earlier one, and never leaves a half-written tip: the tip is recomputed from whole blocks.
 */
import { createHash } from 'node:crypto';
import { LedgerError } from '../errors';

export interface ChainStore {
  /** Bytes in the log. */
  size(): Promise<number>;
  /** `length` bytes at `offset` (fewer only past the end). */
  read(offset: number, length: number): Promise<Uint8Array>;
  /** Appends `bytes`; resolves once they are durable. */
  append(bytes: Uint8Array): Promise<void>;
  /** Cuts the log to `length` bytes (used at open to drop a torn tail). */
  truncate(length: number): Promise<void>;
  close(): Promise<void>;
}

/** The largest record payload accepted when scanning (a block is at most 4,000,000 bytes). */
export const MAX_RECORD_SIZE = 4_000_000 + 1_000;
export const RECORD_HEADER_SIZE = 8;

function checksum(payload: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(payload).digest().subarray(0, 4));
}

/** One framed record for `payload`. */
export function encodeRecord(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(RECORD_HEADER_SIZE + payload.length);
  new DataView(out.buffer).setUint32(0, payload.length, true);
  out.set(checksum(payload), 4);
  out.set(payload, RECORD_HEADER_SIZE);
  return out;
}

/**
 * Scans the log and calls `onRecord` for each whole record, in order. A torn or corrupt tail
 * is truncated away. Returns the number of records and the bytes dropped.
 */
export async function scanRecords(
  store: ChainStore,
  onRecord: (payload: Uint8Array, offset: number) => Promise<void> | void,
): Promise<{ records: number; dropped: number }> {
  const total = await store.size();
  let offset = 0;
  let records = 0;
  while (offset < total) {
    const header = await store.read(offset, RECORD_HEADER_SIZE);
    if (header.length < RECORD_HEADER_SIZE) break;
    const length = new DataView(header.buffer, header.byteOffset, 4).getUint32(0, true);
    if (length > MAX_RECORD_SIZE || offset + RECORD_HEADER_SIZE + length > total) break;
    const payload = await store.read(offset + RECORD_HEADER_SIZE, length);
    const sum = checksum(payload);
    if (payload.length !== length || !sum.every((b, i) => b === header[4 + i])) break;
    await onRecord(payload, offset);
    records++;
    offset += RECORD_HEADER_SIZE + length;
  }
  if (offset < total) await store.truncate(offset);
  return { records, dropped: total - offset };
}

/** An in-memory ChainStore (tests, simulations, a node that need not survive restarts). */
export class MemoryChainStore implements ChainStore {
  #chunks: Uint8Array = new Uint8Array(0);
  #length = 0;
  #closed = false;

  #check(): void {
    if (this.#closed) throw new LedgerError('CLOSED', 'store is closed');
  }

  async size(): Promise<number> {
    this.#check();
    return this.#length;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    this.#check();
    return this.#chunks.slice(offset, Math.min(this.#length, offset + length));
  }

  async append(bytes: Uint8Array): Promise<void> {
    this.#check();
    if (this.#length + bytes.length > this.#chunks.length) {
      const next = new Uint8Array(Math.max(1024, (this.#length + bytes.length) * 2));
      next.set(this.#chunks.subarray(0, this.#length));
      this.#chunks = next;
    }
    this.#chunks.set(bytes, this.#length);
    this.#length += bytes.length;
  }

  async truncate(length: number): Promise<void> {
    this.#check();
    this.#length = Math.min(this.#length, length);
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  /** Raw bytes, for tests that simulate torn writes. */
  snapshot(): Uint8Array {
    return this.#chunks.slice(0, this.#length);
  }

  /** A store holding `bytes` (e.g. a snapshot cut short), for crash tests. */
  static from(bytes: Uint8Array): MemoryChainStore {
    const store = new MemoryChainStore();
    store.#chunks = bytes.slice();
    store.#length = bytes.length;
    return store;
  }
}
