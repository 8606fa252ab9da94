/**
 * Parsing of what users type (command-line arguments, RPC parameters): each bad input is one
 * `InputError` with a clear one-line message.
 */
import { isIP } from 'node:net';

export class InputError extends Error {
  override readonly name = 'InputError';
}

/** `host:port` or `[v6]:port`, with a literal IP (peerkit-ledger never resolves names). */
export function parseHostPort(text: string, defaultPort?: number): { host: string; port: number } {
  let host = text;
  let portText: string | undefined;
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (v6) {
    host = v6[1] as string;
    portText = v6[2];
  } else if ((text.match(/:/g) ?? []).length === 1) {
    [host, portText] = text.split(':') as [string, string];
  }
  if (host === 'localhost') host = '127.0.0.1';
  if (isIP(host) === 0)
    throw new InputError(`not an IP address: "${host}" (in "${text}"; use e.g. 127.0.0.1:18444)`);
  const port = portText === undefined ? defaultPort : Number(portText);
  if (port === undefined) throw new InputError(`missing port in "${text}" (use HOST:PORT)`);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new InputError(`bad port in "${text}": must be 1-65535`);
  return { host, port };
}

/** A TCP port number (0 allowed when `allowZero`). */
export function parsePort(text: string, what: string, allowZero = true): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isInteger(n) || n > 65535 || (!allowZero && n === 0)) {
    throw new InputError(
      `${what} must be a port number (${allowZero ? 0 : 1}-65535), got "${text}"`,
    );
  }
  return n;
}

/** A positive whole count (mine N). */
export function parseCount(text: string, what: string, max: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > max)
    throw new InputError(`${what} must be a whole number from 1 to ${max}, got "${text}"`);
  return n;
}
