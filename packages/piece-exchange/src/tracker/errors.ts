/** Errors of the tracker protocols (BEP 3 HTTP, BEP 15 UDP). */
import { PieceExchangeError } from '../errors';

export type TrackerErrorCode =
  /** A packet or response that does not parse (wrong length, unknown action, bad bencode). */
  | 'INVALID_RESPONSE'
  /** The tracker answered with an error (`failure reason`, BEP 15 action 3). */
  | 'TRACKER_FAILURE'
  /** No answer after the last retransmission (BEP 15: 15·2^n s, n = 0..8). */
  | 'TIMEOUT'
  /** The client was closed. */
  | 'CLOSED';

export class TrackerError extends PieceExchangeError<TrackerErrorCode> {
  constructor(code: TrackerErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'TrackerError';
  }
}
