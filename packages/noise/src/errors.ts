/**
 * Every failure of the Noise layer surfaces as a `NoiseError` whose `code` says what happened.
 * A secure stream that raises one is destroyed: no plaintext of a message that failed is ever
 * handed to the reader.
 */
export type NoiseErrorCode =
  /** An AEAD ciphertext failed authentication (tampered, replayed, reordered or wrong key). */
  | 'DECRYPT_FAILED'
  /** The remote identity signature over its Noise static key does not verify. */
  | 'BAD_SIGNATURE'
  /** The remote identity is not the one the caller required (`expectedRemoteIdentity`). */
  | 'IDENTITY_MISMATCH'
  /** A Noise message would exceed 65,535 bytes (spec section 3), or a local limit. */
  | 'MESSAGE_TOO_LARGE'
  /** The handshake did not finish within `timeoutMs` of the injected clock. */
  | 'HANDSHAKE_TIMEOUT'
  /** Malformed bytes: a short handshake message, a bad identity payload, a truncated frame. */
  | 'BAD_MESSAGE'
  /** A public key is malformed or a DH with it produced the all-zero output (spec 12.1). */
  | 'INVALID_KEY'
  /** The nonce reached 2^64-1, which is reserved (spec 5.1): the session must end. */
  | 'NONCE_EXHAUSTED'
  /** The underlying stream ended without the authenticated end marker (spec 13, "Session termination"). */
  | 'TRUNCATED'
  /** The stream closed or broke during the handshake; `cause` holds the transport error. */
  | 'CLOSED'
  /** A call out of turn: writing when it is the peer's turn, reading after the handshake failed. */
  | 'INVALID_STATE';

/** Every `NoiseErrorCode`, for checks such as "a typed error, never another exception". */
export const NOISE_ERROR_CODES: readonly NoiseErrorCode[] = [
  'DECRYPT_FAILED',
  'BAD_SIGNATURE',
  'IDENTITY_MISMATCH',
  'MESSAGE_TOO_LARGE',
  'HANDSHAKE_TIMEOUT',
  'BAD_MESSAGE',
  'INVALID_KEY',
  'NONCE_EXHAUSTED',
  'TRUNCATED',
  'CLOSED',
  'INVALID_STATE',
];

export class NoiseError extends Error {
  override readonly name = 'NoiseError';
  readonly code: NoiseErrorCode;

  constructor(code: NoiseErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

export function isNoiseError(e: unknown, code?: NoiseErrorCode): e is NoiseError {
  return e instanceof NoiseError && (code === undefined || e.code === code);
}
