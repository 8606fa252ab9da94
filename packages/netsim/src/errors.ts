/** Misuse of the simulator itself (network failures are transport's `TransportError`). */
export type SimulationErrorCode =
  /** An option or argument is out of range. */
  | 'INVALID_ARGUMENT'
  /** No host has the given address. */
  | 'UNKNOWN_HOST'
  /** Two hosts cannot share an address. */
  | 'DUPLICATE_ADDRESS'
  /** A run control was called while another one (or the auto-run loop) is running. */
  | 'BUSY'
  /** `run()` exceeded its virtual-time budget. */
  | 'TIME_LIMIT'
  /** `run()`: nothing is left to simulate but the test function still waits. */
  | 'DEADLOCK';

export class SimulationError extends Error {
  override readonly name = 'SimulationError';
  readonly code: SimulationErrorCode;

  constructor(code: SimulationErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
