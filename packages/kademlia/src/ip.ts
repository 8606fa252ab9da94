/**
 * IP address bytes: the compact forms of BEP 5 (IPv4, 4 bytes) and BEP 32 (IPv6, 16 bytes)
 * carry addresses in network byte order, and BEP 42 hashes those same bytes.
 */
import { isIP } from 'node:net';

/** The 4 or 16 network-order bytes of a literal IP, or `undefined` when `host` is not one. */
export function ipToBytes(host: string): Uint8Array | undefined {
  const v4 = parseIpv4(host);
  if (v4) return v4;
  const family = isIP(host);
  if (family === 4) return Uint8Array.from(host.split('.').map(Number));
  if (family !== 6) return undefined;
  let text = host;
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  // An embedded dotted IPv4 tail ("::ffff:1.2.3.4") is rewritten as two hex groups.
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.', lastColon)) {
    const v4 = text
      .slice(lastColon + 1)
      .split('.')
      .map(Number);
    const hi = (((v4[0] ?? 0) << 8) | (v4[1] ?? 0)).toString(16);
    const lo = (((v4[2] ?? 0) << 8) | (v4[3] ?? 0)).toString(16);
    text = `${text.slice(0, lastColon + 1)}${hi}:${lo}`;
  }
  const [head = '', rest] = text.split('::');
  const parse = (s: string) => (s === '' ? [] : s.split(':').map((g) => Number.parseInt(g, 16)));
  const left = parse(head);
  const right = rest === undefined ? [] : parse(rest);
  const zeros = rest === undefined ? 0 : 8 - left.length - right.length;
  const groups = [...left, ...new Array<number>(Math.max(0, zeros)).fill(0), ...right];
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    const g = groups[i] ?? 0;
    out[i * 2] = g >> 8;
    out[i * 2 + 1] = g & 0xff;
  }
  return out;
}

/** Fast path for dotted-quad IPv4 (the common case on hot paths); undefined otherwise. */
function parseIpv4(host: string): Uint8Array | undefined {
  const out = new Uint8Array(4);
  let part = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i < host.length; i++) {
    const c = host.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (digits > 0 && value === 0) return undefined; // leading zero
      value = value * 10 + (c - 48);
      if (++digits > 3 || value > 255) return undefined;
    } else if (c === 46 && digits > 0 && part < 3) {
      out[part++] = value;
      value = 0;
      digits = 0;
    } else {
      return undefined;
    }
  }
  if (part !== 3 || digits === 0) return undefined;
  out[3] = value;
  return out;
}

/** The literal text of 4 or 16 address bytes (IPv6 in full, uncompressed lowercase groups). */
export function bytesToIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2)
    groups.push((((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0)).toString(16));
  return compressIpv6(groups);
}

function compressIpv6(groups: string[]): string {
  // RFC 5952: replace the longest run (length >= 2) of zero groups with "::".
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < groups.length; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < groups.length && groups[j] === '0') j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestStart < 0) return groups.join(':');
  const left = groups.slice(0, bestStart).join(':');
  const right = groups.slice(bestStart + bestLen).join(':');
  return `${left}::${right}`;
}

/** The canonical text of a literal IP (so that "::0001" and "::1" compare equal). */
export function normalizeIp(host: string): string | undefined {
  const bytes = ipToBytes(host);
  return bytes ? bytesToIp(bytes) : undefined;
}

/**
 * True for loopback, private, link-local, unique-local, CGNAT and unspecified addresses: the
 * ranges where BEP 42's id restriction is not applied (its "Enforcement" section exempts local
 * networks), so loopback and simulated networks work without verified ids.
 */
export function isLocalAddress(host: string): boolean {
  const b = ipToBytes(host);
  if (!b) return false;
  if (b.length === 4) return isLocalIpv4(b[0] ?? 0, b[1] ?? 0);
  const allZeroUntil = (n: number) => b.subarray(0, n).every((x) => x === 0);
  if (allZeroUntil(10) && b[10] === 0xff && b[11] === 0xff)
    return isLocalIpv4(b[12] ?? 0, b[13] ?? 0);
  if (allZeroUntil(15) && (b[15] === 1 || b[15] === 0)) return true; // ::1 and ::
  const b0 = b[0] ?? 0;
  if ((b0 & 0xfe) === 0xfc) return true; // fc00::/7 unique local
  if (b0 === 0xfe && ((b[1] ?? 0) & 0xc0) === 0x80) return true; // fe80::/10 link local
  return false;
}

function isLocalIpv4(a: number, b: number): boolean {
  return (
    a === 0 ||
    a === 10 ||
    a === 127 ||
    (a === 100 && (b & 0xc0) === 64) ||
    (a === 169 && b === 254) ||
    (a === 172 && (b & 0xf0) === 16) ||
    (a === 192 && b === 168)
  );
}
