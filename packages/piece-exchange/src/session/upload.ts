/**
 * Serving requests in groups: consecutive requested blocks of one piece are read from disk at
 * once and sent as one buffer of `piece` messages, so a 256 KiB group costs one read and one
 * socket write instead of sixteen of each.
 */
import { encodePieceHeader, type RequestMessage } from '../wire/messages';

/** Takes the next queued requests that are consecutive blocks of one piece (at most `max`). */
export function takeGroup(queue: RequestMessage[], max: number): RequestMessage[] | undefined {
  const first = queue.shift();
  if (first === undefined) return undefined;
  const group = [first];
  while (group.length < max) {
    const last = group[group.length - 1]!;
    const next = queue[0];
    if (next === undefined || next.index !== last.index || next.begin !== last.begin + last.length)
      break;
    group.push(queue.shift()!);
  }
  return group;
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
