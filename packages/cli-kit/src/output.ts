/**
 * Where a command's output goes, by kind and by `--json` / `-q` / `-v`:
 *
 * | kind       | human mode                              | `--json`                 |
 * |------------|-----------------------------------------|--------------------------|
 * | `result`   | stdout (the command's product)          | nothing (events say it)  |
 * | `event`    | nothing                                 | one envelope on stdout   |
 * | `info`     | stderr, unless `-q`                     | nothing                  |
 * | `detail`   | stderr, only with `-v`                  | nothing                  |
 * | `warn`     | stderr, unless `-q`                     | nothing (a `warning` event) |
 * | `error`    | one line on stderr                      | one line on stderr + an `error` event |
 *
 * A display (a progress bar) can take over the stderr lines with `setLineSink`, so that they are
 * printed above the bar instead of through it.
 */
import { type Colors, colorsFor } from './color';
import { jsonLine } from './envelope';
import { describeError, errorCode, errorLine, exitCodeFor } from './exit';

export type Verbosity = 'quiet' | 'normal' | 'verbose';

/** `-q` wins over `-v`. */
export function verbosityFrom(flags: { quiet?: boolean; verbose?: boolean }): Verbosity {
  if (flags.quiet) return 'quiet';
  return flags.verbose ? 'verbose' : 'normal';
}

export interface Writable {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

export interface OutputOptions {
  /** The executable's name, first word of every error line. */
  program: string;
  json?: boolean;
  verbosity?: Verbosity;
  stdout?: Writable;
  stderr?: Writable;
  /** Wall clock for the envelopes' `time` (default `Date.now`). */
  now?: () => number;
  env?: Readonly<Record<string, string | undefined>>;
}

export class Output {
  readonly program: string;
  readonly json: boolean;
  readonly verbosity: Verbosity;
  /** Colours for what goes to stdout / to stderr, each decided on its own stream. */
  readonly outColors: Colors;
  readonly errColors: Colors;
  readonly stdout: Writable;
  readonly stderr: Writable;
  private readonly now: () => number;
  private sink: ((line: string) => void) | undefined;

  constructor(options: OutputOptions) {
    this.program = options.program;
    this.json = options.json === true;
    this.verbosity = options.verbosity ?? 'normal';
    this.stdout = options.stdout ?? process.stdout;
    this.stderr = options.stderr ?? process.stderr;
    this.now = options.now ?? Date.now;
    this.outColors = colorsFor(this.stdout, options.env);
    this.errColors = colorsFor(this.stderr, options.env);
  }

  /** Routes stderr lines (info, detail, warn, error) through `sink` (undefined: back to stderr). */
  setLineSink(sink: ((line: string) => void) | undefined): void {
    this.sink = sink;
  }

  private line(text: string): void {
    if (this.sink !== undefined) this.sink(text);
    else this.stderr.write(`${text}\n`);
  }

  /** A `--json` event (nothing in human mode). */
  event(name: string, fields: Readonly<Record<string, unknown>> = {}): void {
    if (this.json) this.stdout.write(jsonLine(name, fields, this.now()));
  }

  /** The command's product on stdout (a magnet link, a peer id, a report), human mode only. */
  result(text: string): void {
    if (!this.json) this.stdout.write(`${text}\n`);
  }

  /** Progress and status for people. */
  info(text: string): void {
    if (!this.json && this.verbosity !== 'quiet') this.line(text);
  }

  /** What `-v` adds (each peer, each lookup). */
  detail(text: string): void {
    if (!this.json && this.verbosity === 'verbose') this.line(text);
  }

  warn(text: string): void {
    if (!this.json && this.verbosity !== 'quiet')
      this.line(this.errColors.yellow(`warning: ${text}`));
  }

  /**
   * Reports a failure: the one error line on stderr (always), an `error` event with `--json`.
   * Returns the exit code it calls for (2 for usage errors, else 1) without exiting.
   */
  error(error: unknown, exitCode: number = exitCodeFor(error), hint = ''): number {
    this.event('error', { code: errorCode(error), message: describeError(error), exitCode });
    this.line(this.errColors.red(`${errorLine(this.program, error)}${hint}`));
    if (process.env.PEERKIT_DEBUG && error instanceof Error && error.stack)
      this.stderr.write(`${error.stack}\n`);
    return exitCode;
  }
}
