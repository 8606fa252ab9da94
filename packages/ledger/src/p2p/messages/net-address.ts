/**
 * Network addresses (developer reference, "Data Messages: addr", "Control Messages: version"):
 * services (uint64 LE), a 16-byte IPv6 address (IPv4 mapped as ::ffff:a.b.c.d), and the port in
 * network byte order (big-endian), unlike every other integer of the protocol.
 */
import { isIPv4, isIPv6 } from 'node:net';
import type { Reader } from '../../encoding/reader';
import type { Writer } from '../../encoding/writer';
import { LedgerError } from '../../errors';

export interface NetAddress {
  services: bigint;
  /** A literal IPv4 or IPv6 address (IPv4-mapped addresses are shown as IPv4). */
  host: string;
  port: number;
}

/** An `addr` entry: a NetAddress with the time it was last seen (Unix seconds). */
export interface TimedNetAddress extends NetAddress {
  time: number;
}

/** The 16-byte form of a literal address. */
export function ipToBytes(host: string): Uint8Array {
  const out = new Uint8Array(16);
  if (isIPv4(host)) {
    out[10] = 0xff;
    out[11] = 0xff;
    host.split('.').forEach((part, i) => {
      out[12 + i] = Number(part);
    });
    return out;
  }
  if (!isIPv6(host)) throw new LedgerError('PROTOCOL', `not an IP address: ${host}`);
  let text = host;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4?.[1]) {
    const b = ipToBytes(v4[1]);
    text = `${text.slice(0, -v4[1].length)}${((b[12] as number) * 256 + (b[13] as number)).toString(16)}:${((b[14] as number) * 256 + (b[15] as number)).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const headParts = head === '' ? [] : head.split(':');
  const tailParts = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = [
    ...headParts,
    ...new Array(8 - headParts.length - tailParts.length).fill('0'),
    ...tailParts,
  ];
  groups.forEach((g, i) => {
    const v = Number.parseInt(g, 16);
    out[2 * i] = v >> 8;
    out[2 * i + 1] = v & 0xff;
  });
  return out;
}

/** The literal form of 16 address bytes. */
export function bytesToIp(b: Uint8Array): string {
  let mapped = true;
  for (let i = 0; i < 10; i++) if (b[i] !== 0) mapped = false;
  if (mapped && b[10] === 0xff && b[11] === 0xff) return `${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2)
    groups.push((((b[i] as number) << 8) | (b[i + 1] as number)).toString(16));
  // Compress the longest run of zero groups (RFC 5952), for a stable, readable form.
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen && j - i > 1) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (best === -1) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}

export function readNetAddress(r: Reader): NetAddress {
  const services = r.u64le();
  const host = bytesToIp(r.bytes(16));
  const port = r.u16be();
  return { services, host, port };
}

export function writeNetAddress(w: Writer, a: NetAddress): void {
  w.u64le(a.services);
  w.bytes(ipToBytes(a.host));
  w.u16be(a.port);
}

export function readTimedNetAddress(r: Reader): TimedNetAddress {
  const time = r.u32le();
  return { time, ...readNetAddress(r) };
}

export function writeTimedNetAddress(w: Writer, a: TimedNetAddress): void {
  w.u32le(a.time);
  writeNetAddress(w, a);
}
