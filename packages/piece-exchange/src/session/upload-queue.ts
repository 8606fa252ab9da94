/**
 * The requests a peer queued with us (BEP 3 `request`), served in groups: consecutive requested
 * blocks of one piece are read from disk at once and sent as one buffer of `piece` messages, so
 * a 256 KiB group costs one read and one socket write instead of sixteen of each.
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

  /** Takes the next queued requests that are consecutive blocks of one piece (at most `max`). */
  take(max: number): RequestMessage[] | undefined {
    const queue = this.#queue;
    const first = queue.shift();
    if (first === undefined) return undefined;
    const group = [first];
    while (group.length < max) {
      const last = group[group.length - 1]!;
      const next = queue[0];
      if (
        next === undefined ||
        next.index !== last.index ||
        next.begin !== last.begin + last.length
      )
        break;
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

/** `piece` messages for a group, from the group's data read in one piece: header, block, ... */
export function encodeGroup(group: readonly RequestMessage[], data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length + 13 * group.length);
  let at = 0;
  let from = 0;
  for (const r of group) {
    out.set(encodePieceHeader(r.index, r.begin, r.length), at);
    out.set(data.subarray(from, from + r.length), at + 13);
    at += 13 + r.length;
    from += r.length;
  }
  return out;
}
