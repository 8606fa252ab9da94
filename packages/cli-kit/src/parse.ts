/**
 * Option values every command line parses the same way: `host:port`, ports, byte sizes and
 * positive numbers. Each failure is a `UsageError` whose message names the option and shows
 * what was expected and what was given.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { UsageError } from './exit';

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/**
 * `1.2.3.4:6881`, `[::1]:6881` or `name:6881` (the name is kept; `resolveHostPort` looks it
 * up). Port 1-65535. `localhost` becomes `127.0.0.1`.
 */
export function parseHostPort(text: string, name = 'HOST:PORT'): HostPort {
  const match =
    /^\[([0-9a-fA-F:.]+)\]:(\d{1,5})$/.exec(text) ?? /^([^:[\]\s]+):(\d{1,5})$/.exec(text);
  const port = Number(match?.[2]);
  if (match === null || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new UsageError(
      `${name}: expected HOST:PORT (e.g. 127.0.0.1:6881 or [::1]:6881), got ${JSON.stringify(text)}`,
      'INVALID_ADDRESS',
    );
  }
  const host = match[1] as string;
  if (match[0].startsWith('[') && isIP(host) !== 6) {
    throw new UsageError(
      `${name}: expected HOST:PORT (e.g. 127.0.0.1:6881 or [::1]:6881), got ${JSON.stringify(text)}`,
      'INVALID_ADDRESS',
    );
  }
  return { host: host === 'localhost' ? '127.0.0.1' : host, port };
}

/** `parseHostPort`, then a host name looked up (DNS); an unknown name is a usage error too. */
export async function resolveHostPort(text: string, name = 'HOST:PORT'): Promise<HostPort> {
  const parsed = parseHostPort(text, name);
  if (isIP(parsed.host) !== 0) return parsed;
  try {
    const found = await lookup(parsed.host);
    return { host: found.address, port: parsed.port };
  } catch {
    throw new UsageError(
      `${name}: cannot resolve host ${JSON.stringify(parsed.host)}`,
      'INVALID_ADDRESS',
    );
  }
}

/** A TCP/UDP port: 0 (any free port) to 65535. */
export function parsePort(text: string, name: string): number {
  const port = Number(text);
  if (!/^\d{1,5}$/.test(text) || port > 65535) {
    throw new UsageError(
      `${name} must be a port number 0-65535, got ${JSON.stringify(text)}`,
      'INVALID_OPTION',
    );
  }
  return port;
}

const UNITS: Readonly<Record<string, number>> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** A byte size: `262144`, `256k`, `4M`, `1.5MiB`, `1G` (binary units). */
export function parseSize(text: string, name: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([kmg]?)(i?b)?$/i.exec(text.trim());
  const value =
    match === null ? Number.NaN : Number(match[1]) * (UNITS[match[2]!.toLowerCase()] ?? 1);
  if (!Number.isFinite(value) || value > Number.MAX_SAFE_INTEGER) {
    throw new UsageError(
      `${name} must be a size like 262144, 256k or 4M, got ${JSON.stringify(text)}`,
      'INVALID_OPTION',
    );
  }
  return Math.round(value);
}

/** A number > 0 (seconds, a ratio); `integer` also requires a whole number. */
export function parsePositive(text: string, name: string, integer = false): number {
  const value = Number(text);
  if (
    text.trim() === '' ||
    !Number.isFinite(value) ||
    value <= 0 ||
    (integer && !Number.isInteger(value))
  ) {
    throw new UsageError(
      `${name} must be a ${integer ? 'whole ' : ''}number greater than 0, got ${JSON.stringify(text)}`,
      'INVALID_OPTION',
    );
  }
  return value;
}

/** An integer in `min..max`. */
export function parseInteger(text: string, name: string, min: number, max: number): number {
  const value = Number(text);
  if (!/^-?\d+$/.test(text.trim()) || value < min || value > max) {
    throw new UsageError(
      `${name} must be an integer in ${min}..${max}, got ${JSON.stringify(text)}`,
      'INVALID_OPTION',
    );
  }
  return value;
}

/** Bytes as `12.3 MiB`. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** Bytes per second as `1.2 MiB/s`. */
export function formatRate(bytesPerSecond: number): string {
  return `${formatBytes(Math.round(bytesPerSecond))}/s`;
}
