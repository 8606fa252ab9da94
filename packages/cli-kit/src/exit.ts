/**
 * Exit codes and the one-line error format.
 *
 * - 0: the command did what it was asked (or was stopped cleanly by Ctrl-C while serving);
 * - 1: it failed (a path, port or peer that cannot be used, a download that timed out, a rule
 *   that failed);
 * - 2: usage: the command line itself is wrong (unknown option, missing or malformed argument);
 * - 130: interrupted (Ctrl-C) before the command's work was done.
 *
 * An error is one line on stderr, `<program>: error: <message>`, and with `--json` also an
 * `error` event (`code`, `message`, `exitCode`) on stdout.
 */

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
export const EXIT_INTERRUPTED = 130;

/** A wrong command line: exits with 2. */
export class UsageError extends Error {
  readonly code: string;
  readonly usage = true;
  constructor(message: string, code = 'USAGE') {
    super(message);
    this.name = 'UsageError';
    this.code = code;
  }
}

/** The string `code` of any error (ours, the packages', Node's, commander's), else `UNKNOWN`. */
export function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'UNKNOWN';
}

/** The first line of an error's message, without commander's own `error: ` prefix. */
export function describeError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const first = (message.split('\n')[0] ?? message).trim();
  return first.replace(/^error:\s*/, '');
}

/**
 * Usage errors: a `UsageError`, anything with `usage: true` (an app's own error class can say
 * so), or a commander parse error (`commander.*`, except help and version, which are not errors).
 */
export function isUsageError(error: unknown): boolean {
  if (error instanceof UsageError) return true;
  if ((error as { usage?: unknown } | null)?.usage === true) return true;
  const code = errorCode(error);
  return code.startsWith('commander.') && !isHelpOrVersion(error);
}

/** Commander's "I printed the help / the version" pseudo-errors. */
export function isHelpOrVersion(error: unknown): boolean {
  const code = errorCode(error);
  return (
    code === 'commander.helpDisplayed' ||
    code === 'commander.help' ||
    code === 'commander.version' ||
    code === 'commander.executeSubCommandAsync'
  );
}

/** 2 for usage errors, 1 for everything else. */
export function exitCodeFor(error: unknown): number {
  return isUsageError(error) ? EXIT_USAGE : EXIT_FAILURE;
}

/** `<program>: error: <first line of the message>` (no newline). */
export function errorLine(program: string, error: unknown): string {
  return `${program}: error: ${describeError(error)}`;
}
