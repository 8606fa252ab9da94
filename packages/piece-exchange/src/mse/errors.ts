/** Errors of the MSE/PE handshake (mse.txt "Optional early termination conditions"). */
import { PieceExchangeError } from '../errors';

export type MseErrorCode =
  /** The remote Diffie-Hellman key is 0, 1, P-1 or not below P. */
  | 'INVALID_PUBLIC_KEY'
  /** B: no HASH('req1', S) within 628 bytes; A: no ENCRYPT(VC) within 520 bytes after Yb. */
  | 'SYNC_NOT_FOUND'
  /** B: HASH('req2', SKEY) matches no torrent we serve. */
  | 'UNKNOWN_SKEY'
  /** The verification constant did not decrypt to eight zero bytes. */
  | 'INVALID_VC'
  /** A padding length above 512. */
  | 'INVALID_PAD_LENGTH'
  /** B: none of crypto_provide's methods is allowed by our policy. */
  | 'NO_COMMON_METHOD'
  /** A: crypto_select is not exactly one of the methods we provided. */
  | 'INVALID_CRYPTO_SELECT'
  /** The connection ended or timed out before the handshake finished. */
  | 'HANDSHAKE_INCOMPLETE'
  /** A plain BitTorrent handshake where our policy requires encryption. */
  | 'PLAINTEXT_REFUSED';

export class MseError extends PieceExchangeError<MseErrorCode> {
  constructor(code: MseErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'MseError';
  }
}
