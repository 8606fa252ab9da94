/**
 * The `--json` event envelope every peerkit command line prints: one JSON object per line on
 * stdout, `{"event":"<name>","time":<ms since the epoch>, ...fields}`. `event` and `time` come
 * first and a field can never override them.
 */

/** One `--json` line, parsed. */
export interface JsonEvent {
  /** What happened: a short lowercase noun or past participle (`listening`, `piece`, `error`). */
  readonly event: string;
  /** When, in milliseconds since the Unix epoch (wall clock). */
  readonly time: number;
  readonly [field: string]: unknown;
}

/** The envelope of `event` with `fields` (any `event` or `time` among them is dropped). */
export function envelope(
  event: string,
  fields: Readonly<Record<string, unknown>> = {},
  time: number = Date.now(),
): JsonEvent {
  const { event: _event, time: _time, ...rest } = fields;
  return { event, time, ...rest };
}

/** The envelope as one line of JSON, newline included. */
export function jsonLine(
  event: string,
  fields: Readonly<Record<string, unknown>> = {},
  time: number = Date.now(),
): string {
  return `${JSON.stringify(envelope(event, fields, time))}\n`;
}

/**
 * Parses one line as an envelope: a JSON object with a non-empty string `event` and a finite
 * number `time`. Anything else is undefined (never throws).
 */
export function parseEnvelope(line: string): JsonEvent | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const record = value as Record<string, unknown>;
  if (typeof record.event !== 'string' || record.event.length === 0) return undefined;
  if (typeof record.time !== 'number' || !Number.isFinite(record.time)) return undefined;
  return record as JsonEvent;
}
