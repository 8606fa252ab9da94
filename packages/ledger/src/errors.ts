/**
 * Typed errors of @peerkit/ledger. Every failure caused by input bytes or by a peer's data
 * surfaces as a `LedgerError` with a machine-readable `code` (never another exception).
 */

export type LedgerErrorCode =
  /** Bytes that are not a valid serialization (truncated, non-canonical CompactSize, trailing bytes). */
  | 'DECODE'
  /** A count or length above a protocol or configured limit (checked before allocating). */
  | 'LIMIT'
  /** A transaction that breaks a consensus or policy rule. */
  | 'INVALID_TX'
  /** A block that breaks a consensus rule (merkle root, coinbase, size, inputs). */
  | 'INVALID_BLOCK'
  /** A header that breaks a header rule (proof of work, timestamp, linkage). */
  | 'INVALID_HEADER'
  /** A script that fails to evaluate, or a script outside the supported subset. */
  | 'SCRIPT'
  /** A block or transaction whose parent is unknown (kept aside, bounded). */
  | 'ORPHAN'
  /** Something already known (block, transaction). */
  | 'DUPLICATE'
  /** A transaction the mempool refuses (policy: fee rate, size, conflicts, capacity). */
  | 'MEMPOOL'
  /** A wallet operation that cannot be done (insufficient funds, unknown key, bad address). */
  | 'WALLET'
  /** The storage failed or holds data that does not verify. */
  | 'STORAGE'
  /** A peer broke the P2P protocol. */
  | 'PROTOCOL'
  /** An operation on something already closed. */
  | 'CLOSED';

/** The one error class of @peerkit/ledger. */
export class LedgerError extends Error {
  override readonly name = 'LedgerError';
  readonly code: LedgerErrorCode;

  constructor(code: LedgerErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

export function isLedgerError(e: unknown, code?: LedgerErrorCode): e is LedgerError {
  return e instanceof LedgerError && (code === undefined || e.code === code);
}
