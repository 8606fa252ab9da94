/**
 * Colour, decided for each output stream on its own: stderr redirected to a file gets no escape
 * codes even when stdout is a terminal, and the other way round.
 *
 * - `NO_COLOR` set to anything but the empty string: never (https://no-color.org);
 * - else `FORCE_COLOR` set: always, unless it is `0` or `false`;
 * - else: when the stream is a terminal and `TERM` is not `dumb`.
 */
import pc from 'picocolors';

export type Colors = ReturnType<typeof pc.createColors>;

/** What colour decisions look at (a `process.stderr`-like stream). */
export interface ColorStream {
  readonly isTTY?: boolean;
}

export function colorEnabled(
  stream: ColorStream,
  env: Readonly<Record<string, string | undefined>> = process.env,
): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined) return env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false';
  return stream.isTTY === true && env.TERM !== 'dumb';
}

/** picocolors' functions, switched on or off for `stream`. */
export function colorsFor(
  stream: ColorStream,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Colors {
  return pc.createColors(colorEnabled(stream, env));
}
