/**
 * The selective ACK extension (BEP 29, "Selective ACK"): a bitmask of at least 32 bits, in
 * multiples of 32, where bit `i` (least significant bit of byte 0 first) stands for packet
 * `ack_nr + 2 + i`. `ack_nr + 1` is the missing packet that made the mask necessary.
 */
import type { ReceiveBuffer } from './receive-buffer';
import { seqAdd } from './seq';

/** The largest mask this implementation sends (libutp and libtorrent accept any length). */
export const MAX_SACK_BYTES = 32 * 4;

/**
 * The mask describing what `buffer` holds past the gap, or `undefined` when nothing waits
 * (BEP 29: "only sent when at least one sequence number was skipped").
 */
export function buildSelectiveAck(buffer: ReceiveBuffer): Uint8Array | undefined {
  if (buffer.waitingPackets === 0) return undefined;
  // Bits cover distances 2 .. furthest from ack_nr.
  const bits = Math.max(1, buffer.furthest - 1);
  const bytes = Math.min(MAX_SACK_BYTES, Math.ceil(bits / 32) * 4);
  const mask = new Uint8Array(bytes);
  const limit = Math.min(bits, bytes * 8);
  for (let i = 0; i < limit; i++) {
    if (buffer.has(i + 2)) mask[i >> 3] = (mask[i >> 3] as number) | (1 << (i & 7));
  }
  return mask;
}

/** Calls `fn` with the sequence number of every packet the mask acknowledges, in order. */
export function forEachSelectiveAck(
  ackNr: number,
  mask: Uint8Array,
  fn: (seq: number) => void,
): void {
  for (let byte = 0; byte < mask.length; byte++) {
    const value = mask[byte] as number;
    if (value === 0) continue;
    for (let bit = 0; bit < 8; bit++) {
      if ((value & (1 << bit)) !== 0) fn(seqAdd(ackNr, 2 + byte * 8 + bit));
    }
  }
}
