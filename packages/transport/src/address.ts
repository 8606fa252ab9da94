import { isIP } from 'node:net';
import { TransportError } from './errors';
import type { Address } from './interfaces';

export type AddressFamily = 'IPv4' | 'IPv6';

/** The family of a literal IP address, or `undefined` when `host` is not one. */
export function addressFamily(host: string): AddressFamily | undefined {
  const v = isIP(host);
  return v === 4 ? 'IPv4' : v === 6 ? 'IPv6' : undefined;
}

/** `1.2.3.4:6881` or `[::1]:6881`. */
export function formatAddress(a: Address): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

/**
 * Parses `1.2.3.4:6881` or `[::1]:6881` (a literal IP, brackets exactly around an IPv6 one, a
 * decimal port 0-65535); throws `TransportError` `INVALID_ADDRESS` for anything else.
 * `parseAddress(formatAddress(a))` equals `a` for every valid `a`.
 */
export function parseAddress(text: string): Address {
  const bracketed = /^\[([^\]]+)\]:(\d{1,5})$/.exec(text);
  const m = bracketed ?? /^([^:[\]]+):(\d{1,5})$/.exec(text);
  const host = m?.[1];
  const port = Number(m?.[2]);
  const family = host ? addressFamily(host) : undefined;
  if (!host || !family || (family === 'IPv6') !== (bracketed !== null) || !isValidPort(port)) {
    throw new TransportError('INVALID_ADDRESS', `not a host:port address: ${JSON.stringify(text)}`);
  }
  return { host, port };
}

export function isValidPort(port: number): boolean {
  return Number.isInteger(port) && port >= 0 && port <= 65535;
}

export function sameAddress(a: Address, b: Address): boolean {
  return a.port === b.port && a.host === b.host;
}
