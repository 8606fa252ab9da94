/**
 * Address allocation for simulated hosts.
 *
 * By default hosts get loopback-looking IPv4 addresses from 127.1.0.1 upwards (127.1.0.1,
 * 127.1.0.2, ..., skipping .0 and .255), so nothing in a simulation ever resembles a real
 * network target; `family: 'IPv6'` gives unique-local addresses fd00::1:1 upwards. Explicit
 * addresses are accepted too, normalised to their canonical text form.
 */
import { addressFamily } from '@peerkit/transport';

export type HostFamily = 'IPv4' | 'IPv6';

/** The `n`-th allocated address (n >= 1) of a family. */
export function allocatedAddress(n: number, family: HostFamily): string {
  if (family === 'IPv6') {
    const hi = 1 + Math.floor(n / 65536);
    return `fd00::${hi.toString(16)}:${(n % 65536).toString(16)}`;
  }
  // 253 usable last octets (1..254) per /24, 256 /24s per 127.x.
  const perOctet = 254;
  const last = 1 + ((n - 1) % perOctet);
  const rest = Math.floor((n - 1) / perOctet);
  const third = rest % 256;
  const second = 1 + Math.floor(rest / 256);
  if (second > 255) throw new RangeError('address space of 127.1.0.0 - 127.255.255.254 exhausted');
  return `127.${second}.${third}.${last}`;
}

/** The canonical text of a literal IP (lowercase, `::`-compressed IPv6), or `undefined`. */
export function canonicalAddress(host: string): string | undefined {
  const family = addressFamily(host);
  if (family === undefined) return undefined;
  if (family === 'IPv4') return host;
  const hostname = new URL(`http://[${host}]/`).hostname;
  return hostname.slice(1, -1);
}
