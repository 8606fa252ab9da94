/** Parsing `HOST:PORT` arguments (`127.0.0.1:6881`, `[::1]:6881`). */
import type { Address } from '@peerkit/transport';
import { InvalidArgumentError } from 'commander';

export function parseHostPort(value: string): Address {
  const match = /^\[([0-9a-fA-F:.]+)\]:(\d+)$/.exec(value) ?? /^([^:\s]+):(\d+)$/.exec(value);
  const port = Number(match?.[2]);
  if (!match || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new InvalidArgumentError(
      `expected HOST:PORT (e.g. 127.0.0.1:6881 or [::1]:6881), got "${value}"`,
    );
  }
  const host = match[1] as string;
  if (host === 'localhost') return { host: '127.0.0.1', port };
  return { host, port };
}
