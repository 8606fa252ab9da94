/**
 * Compact node info and compact peer info (BEP 5 "Contact Encoding", BEP 32 for IPv6):
 *
 * - peer: 4-byte IPv4 (or 16-byte IPv6) address then 2-byte port, network byte order (6 / 18 bytes);
 * - node: 20-byte node id then the compact peer info of the node (26 / 38 bytes).
 */
import type { Address } from '@peerkit/transport';
import { DHTError } from './errors';
import { bytesToIp, ipToBytes } from './ip';
import { ID_LENGTH, type NodeId } from './node-id';

/** A node of the DHT as other nodes describe it: its id and UDP address. */
export interface Contact {
  readonly id: NodeId;
  readonly address: Address;
}

export type IpFamily = 4 | 6;

const ADDRESS_BYTES = { 4: 4, 6: 16 } as const;

/** The family of a literal IP host, or `undefined`. */
export function ipFamily(host: string): IpFamily | undefined {
  // Cheap on hot paths: IPv6 literals contain ':', IPv4 ones '.'; encoding validates the rest.
  if (host.includes(':')) return 6;
  return host.includes('.') ? 4 : undefined;
}

/** Compact peer info for one address; throws `INVALID_ARGUMENT` for a non-literal host. */
export function encodeCompactPeer(address: Address): Uint8Array {
  const ip = ipToBytes(address.host);
  if (!ip || !Number.isInteger(address.port) || address.port < 0 || address.port > 65535) {
    throw new DHTError('INVALID_ARGUMENT', `not an IP address and port: ${address.host}`);
  }
  const out = new Uint8Array(ip.length + 2);
  out.set(ip, 0);
  out[ip.length] = address.port >> 8;
  out[ip.length + 1] = address.port & 0xff;
  return out;
}

/** Decodes 6 (IPv4) or 18 (IPv6) bytes; throws `MALFORMED_MESSAGE` for any other length. */
export function decodeCompactPeer(bytes: Uint8Array): Address {
  if (bytes.length !== 6 && bytes.length !== 18) {
    throw new DHTError('MALFORMED_MESSAGE', `compact peer info of ${bytes.length} bytes`);
  }
  const n = bytes.length - 2;
  return {
    host: bytesToIp(bytes.subarray(0, n)),
    port: ((bytes[n] ?? 0) << 8) | (bytes[n + 1] ?? 0),
  };
}

/**
 * Concatenated compact node info of the contacts of one family (`nodes` for IPv4, `nodes6` for
 * IPv6, BEP 32); contacts of the other family are skipped.
 */
export function encodeCompactNodes(contacts: readonly Contact[], family: IpFamily): Uint8Array {
  const entry = ID_LENGTH + ADDRESS_BYTES[family] + 2;
  const fitting = contacts.filter((c) => ipFamily(c.address.host) === family);
  const out = new Uint8Array(fitting.length * entry);
  fitting.forEach((c, i) => {
    out.set(c.id, i * entry);
    out.set(encodeCompactPeer(c.address), i * entry + ID_LENGTH);
  });
  return out;
}

/** Decodes `nodes` / `nodes6`; throws `MALFORMED_MESSAGE` when the length is not a multiple. */
export function decodeCompactNodes(bytes: Uint8Array, family: IpFamily): Contact[] {
  const entry = ID_LENGTH + ADDRESS_BYTES[family] + 2;
  if (bytes.length % entry !== 0) {
    throw new DHTError('MALFORMED_MESSAGE', `compact node info of ${bytes.length} bytes`);
  }
  const out: Contact[] = [];
  for (let off = 0; off < bytes.length; off += entry) {
    out.push({
      id: new Uint8Array(bytes.subarray(off, off + ID_LENGTH)),
      address: decodeCompactPeer(bytes.subarray(off + ID_LENGTH, off + entry)),
    });
  }
  return out;
}
