/**
 * The requests a peer queued with us (BEP 3 `request`), served in groups: the next queued
 * requests (16 by default) are read from disk, one read per run of consecutive blocks (across
 * piece boundaries too), all at once, and sent as one buffer of `piece` messages. A group costs
 * one socket write instead of sixteen whatever the piece length and the order of the requests
 * (issue #22: with 16 KiB pieces, consecutive requests are for adjacent pieces only as far as the
 * picker's piece affinity makes them so).
 */
import { encodePieceHeader, type RequestMessage } from '../wire/messages';
import { RateMeter } from './rate';

export class UploadQueue {
  #queue: RequestMessage[] = [];
  /** Pieces we let the peer request while we choke it (BEP 6 allowed fast, sent by us). */
  readonly #granted = new Set<number>();
  readonly #meter = new RateMeter();

  /** Bytes of block data served. */
  get sent(): number {
    return this.#meter.total;
  }

  rate(now: number): number {
    return this.#meter.rate(now);
  }

  /** `bytes` of block data went to the socket. */
  served(bytes: number, now: number): void {
    this.#meter.add(bytes, now);
  }

  get length(): number {
    return this.#queue.length;
  }

  /** The BEP 6 allowed-fast pieces we granted the peer. */
  get granted(): ReadonlySet<number> {
    return this.#granted;
  }

  grant(piece: number): void {
    this.#granted.add(piece);
  }

  /** The peer has `piece` now: it needs no fast grant for it any more. */
  revoke(piece: number): void {
    this.#granted.delete(piece);
  }

  push(request: RequestMessage): void {
    this.#queue.push(request);
  }

  /** BEP 3 `cancel`: drops the matching queued request. */
  cancel(index: number, begin: number, length: number): void {
    this.#queue = this.#queue.filter(
      (r) => !(r.index === index && r.begin === begin && r.length === length),
    );
  }

  /** We choke the peer: keeps requests for granted pieces, returns the dropped ones (BEP 6). */
  choke(): RequestMessage[] {
    const kept: RequestMessage[] = [];
    const dropped: RequestMessage[] = [];
    for (const r of this.#queue) (this.#granted.has(r.index) ? kept : dropped).push(r);
    this.#queue = kept;
    return dropped;
  }

  clear(): void {
    this.#queue = [];
  }

  /** Takes the next queued requests, in order, at most `max`; undefined when none is queued. */
  take(max: number): RequestMessage[] | undefined {
    if (this.#queue.length === 0) return undefined;
    return this.#queue.splice(0, Math.max(1, max));
  }
}

/** Bytes of data a group asks for. */
export function groupBytes(group: readonly RequestMessage[]): number {
  let n = 0;
  for (const r of group) n += r.length;
  return n;
}

/** A range of one piece to read from disk. */
export interface ReadRange {
  piece: number;
  offset: number;
  length: number;
}

/**
 * The reads a group needs: one per run of consecutive blocks, in order. Given `pieceSize`, a run
 * goes on across a piece boundary (the last block of a piece, then the first of the next one:
 * adjacent on disk), so that small pieces requested in order cost one read, not one per piece.
 */
export function groupRanges(
  group: readonly RequestMessage[],
  pieceSize?: (piece: number) => number,
): ReadRange[] {
  const ranges: ReadRange[] = [];
  let start = 0;
  let bytes = 0;
  for (let i = 0; i < group.length; i++) {
    const r = group[i]!;
    bytes += r.length;
    const next = group[i + 1];
    const follows =
      next !== undefined &&
      ((next.index === r.index && next.begin === r.begin + r.length) ||
        (pieceSize !== undefined &&
          next.index === r.index + 1 &&
          next.begin === 0 &&
          r.begin + r.length === pieceSize(r.index)));
    if (!follows) {
      ranges.push({ piece: group[start]!.index, offset: group[start]!.begin, length: bytes });
      start = i + 1;
      bytes = 0;
    }
  }
  return ranges;
}

/** Reads the data of a group: one read per run of consecutive blocks of a piece, all at once. */
export function readGroup(
  read: (piece: number, offset: number, length: number) => Promise<Uint8Array>,
  group: readonly RequestMessage[],
): Promise<Uint8Array[]> {
  return Promise.all(groupRanges(group).map((r) => read(r.piece, r.offset, r.length)));
}

/** `piece` messages for a group (header, block, header, block, ...) from `readGroup`'s parts. */
export function encodeGroup(
  group: readonly RequestMessage[],
  parts: readonly Uint8Array[],
): Uint8Array {
  const out = new Uint8Array(groupBytes(group) + 13 * group.length);
  let at = 0;
  let part = 0;
  let from = 0;
  for (const r of group) {
    if (from === parts[part]!.length) {
      part++;
      from = 0;
    }
    out.set(encodePieceHeader(r.index, r.begin, r.length), at);
    out.set(parts[part]!.subarray(from, from + r.length), at + 13);
    at += 13 + r.length;
    from += r.length;
  }
  return out;
}
