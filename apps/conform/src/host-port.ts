/** Parsing `HOST:PORT` arguments (`127.0.0.1:6881`, `[::1]:6881`): cli-kit's one parser. */
import { parseHostPort as parse } from '@peerkit/cli-kit';
import type { Address } from '@peerkit/transport';

/** `localhost` becomes `127.0.0.1`; a malformed value is a usage error (exit 2). */
export function parseHostPort(value: string): Address {
  const { host, port } = parse(value, '<host:port>');
  return { host, port };
}
