/**
 * Errors the command line reports: one line, a code, a non-zero exit. Errors from the protocol
 * packages (they all carry a `code`) are turned into the same one-line form by `describeError`.
 */

export type CliErrorCode =
  /** A path given on the command line does not exist or cannot be read. */
  | 'MISSING_PATH'
  /** A .torrent file that cannot be parsed. */
  | 'INVALID_TORRENT'
  /** A magnet link that cannot be parsed. */
  | 'INVALID_MAGNET'
  /** An argument that is neither a magnet link, a .torrent file nor an info-hash. */
  | 'INVALID_TARGET'
  /** A `host:port` that is not one. */
  | 'INVALID_ADDRESS'
  /** A number option out of range. */
  | 'INVALID_OPTION'
  /** A TCP or UDP port that is taken. */
  | 'PORT_IN_USE'
  /** The state directory cannot be used. */
  | 'STATE_DIR'
  /** A torrent whose content does not match the path given to `share`. */
  | 'CONTENT_MISMATCH'
  /** A file `create` would overwrite (without `--force`). */
  | 'EXISTS'
  /** `get --timeout` ran out before every piece was verified. */
  | 'TIMEOUT'
  /** `seed-dir`: no .torrent in the folder, or none of them can be seeded. */
  | 'NO_TORRENTS';

/** Codes of a wrong command line: the exit code is 2 (docs/cli.md), not 1. */
const USAGE_CODES: ReadonlySet<CliErrorCode> = new Set([
  'INVALID_TARGET',
  'INVALID_MAGNET',
  'INVALID_ADDRESS',
  'INVALID_OPTION',
]);

export class CliError extends Error {
  readonly code: CliErrorCode;
  constructor(code: CliErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CliError';
    this.code = code;
  }

  /** A usage error (exit code 2): the command line itself is wrong. */
  get usage(): boolean {
    return USAGE_CODES.has(this.code);
  }
}

/** The code of any error with a string `code` (ours, the packages', Node's), else `UNKNOWN`. */
export function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'UNKNOWN';
}

/** One line describing `error`, for stderr. */
export function describeError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0] ?? message;
}
