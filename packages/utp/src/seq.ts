/**
 * 16-bit sequence-number arithmetic (BEP 29: `seq_nr` and `ack_nr` are 16 bits and wrap).
 * Comparisons are modulo 2^16: `a` is before `b` when `b - a` (mod 2^16) is in (0, 2^15).
 */
export const SEQ_MASK = 0xffff;

/** `(a + n) mod 2^16`. */
export function seqAdd(a: number, n: number): number {
  return (a + n) & SEQ_MASK;
}

/** `(a - b) mod 2^16`: how far `a` is past `b`, in [0, 65535]. */
export function seqDistance(a: number, b: number): number {
  return (a - b) & SEQ_MASK;
}

/** Whether `a` comes strictly before `b` in wrapping order. */
export function seqLess(a: number, b: number): boolean {
  const d = (b - a) & SEQ_MASK;
  return d !== 0 && d < 0x8000;
}
