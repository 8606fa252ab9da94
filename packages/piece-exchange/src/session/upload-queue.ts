/**
 * The requests a peer queued with us (BEP 3 `request`), served in groups: consecutive requested
 * blocks are read from disk with one read per piece they span (all at once) and sent as one
 * buffer of `piece` messages, so a 256 KiB group costs one socket write instead of sixteen,
 * whatever the piece length: a group runs on from the end of one piece into the next (issue #22;
 * with 16 KiB pieces every block is a piece of its own).
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

  /**
   * Takes the next queued requests that are consecutive blocks (at most `max`). With `pieceSize`,
   * a block that ends piece `i` is followed by the first block of piece `i + 1`; without it a
   * group stays within one piece.
   */
  take(max: number, pieceSize?: (index: number) => number): RequestMessage[] | undefined {
    const queue = this.#queue;
    const first = queue.shift();
    if (first === undefined) return undefined;
    const group = [first];
    while (group.length < max) {
      const last = group[group.length - 1]!;
      const next = queue[0];
      if (next === undefined) break;
      const end = last.begin + last.length;
      const samePiece = next.index === last.index && next.begin === end;
      const nextPiece =
        pieceSize !== undefined &&
        next.index === last.index + 1 &&
        next.begin === 0 &&
        end === pieceSize(last.index);
      if (!samePiece && !nextPiece) break;
      group.push(queue.shift()!);
    }
    return group;
  }
}

/** Bytes of data a group asks for. */
export function groupBytes(group: readonly RequestMessage[]): number {
  let n = 0;
  for (const r of group) n += r.length;
  return n;
}

/** Reads the data of a group: one read per piece it spans (storage reads within one piece). */
export function readGroup(
  read: (piece: number, offset: number, length: number) => Promise<Uint8Array>,
  group: readonly RequestMessage[],
): Promise<Uint8Array[]> {
  const reads: Promise<Uint8Array>[] = [];
  let start = 0;
  let bytes = 0;
  for (let i = 0; i < group.length; i++) {
    bytes += group[i]!.length;
    if (i === group.length - 1 || group[i + 1]!.index !== group[i]!.index) {
      reads.push(read(group[start]!.index, group[start]!.begin, bytes));
      start = i + 1;
      bytes = 0;
    }
  }
  return Promise.all(reads);
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
