/**
 * BEP 42 "DHT Security extension": a node id's first 21 bits are tied to the node's external IP
 * through CRC32C, and its last byte carries the random `r` that went into the hash.
 *
 * The BEP's prose says to hash an 8-byte integer, but its example code and test vectors hash the
 * masked address bytes only (4 for IPv4, the high 8 for IPv6); we follow the code and vectors.
 */
import type { Random } from '@peerkit/transport';
import { crc32c } from './crc32c';
import { ipToBytes, isLocalAddress, normalizeIp } from './ip';
import { ID_LENGTH, type NodeId } from './node-id';

const V4_MASK = [0x03, 0x0f, 0x3f, 0xff];
const V6_MASK = [0x01, 0x03, 0x07, 0x0f, 0x1f, 0x3f, 0x7f, 0xff];

/** The CRC32C BEP 42 derives from an IP (bytes in network order) and r in [0, 7]. */
export function bep42Hash(ip: Uint8Array, r: number): number {
  const v4 = ip.length === 4;
  const mask = v4 ? V4_MASK : V6_MASK;
  const masked = new Uint8Array(mask.length);
  for (let i = 0; i < mask.length; i++) masked[i] = (ip[i] ?? 0) & (mask[i] ?? 0);
  masked[0] = (masked[0] ?? 0) | ((r & 7) << 5);
  return crc32c(masked);
}

/**
 * A node id valid for `host` per BEP 42: `rand` is the last byte (its low 3 bits are `r`),
 * the first 21 bits come from the hash, everything else from `random`. Returns `undefined`
 * when `host` is not a literal IP.
 */
export function nodeIdForIp(host: string, random: Random, rand?: number): NodeId | undefined {
  const ip = ipToBytes(host);
  if (!ip) return undefined;
  const id = random.bytes(ID_LENGTH);
  const last = rand ?? id[19] ?? 0;
  const crc = bep42Hash(ip, last & 7);
  id[0] = (crc >>> 24) & 0xff;
  id[1] = (crc >>> 16) & 0xff;
  id[2] = ((crc >>> 8) & 0xf8) | ((id[2] ?? 0) & 0x07);
  id[19] = last & 0xff;
  return id;
}

/** True when the first 21 bits of `id` match the BEP 42 hash of `host` with r = id[19] & 7. */
export function isValidNodeIdForIp(id: NodeId, host: string): boolean {
  const ip = ipToBytes(host);
  if (!ip || id.length !== ID_LENGTH) return false;
  const crc = bep42Hash(ip, (id[19] ?? 0) & 7);
  return (
    id[0] === ((crc >>> 24) & 0xff) &&
    id[1] === ((crc >>> 16) & 0xff) &&
    ((id[2] ?? 0) & 0xf8) === ((crc >>> 8) & 0xf8)
  );
}

/**
 * Whether a node counts as BEP 42-verified: its id matches its address, or the address is local
 * (loopback, private, link-local), where the BEP's restriction does not apply.
 */
export function isVerifiedNode(id: NodeId, host: string): boolean {
  return isLocalAddress(host) || isValidNodeIdForIp(id, host);
}

/**
 * BEP 42 "Bootstrapping": responses carry the address the responder saw us at (`ip`); since one
 * node cannot be trusted, an external IP counts once `quorum` distinct public responders agree.
 */
export class ExternalIpVotes {
  /** Created with the first public vote (never, on a LAN or loopback). */
  private votes: Map<string, Set<string>> | undefined;
  private readonly quorum: number;

  constructor(quorum = 3) {
    this.quorum = quorum;
  }

  /** Records that `voter` saw us at `reported`; returns the IP once it has a quorum. */
  vote(reported: string, voter: string): string | undefined {
    if (isLocalAddress(reported) || isLocalAddress(voter)) return undefined;
    const host = normalizeIp(reported);
    if (!host) return undefined;
    this.votes ??= new Map();
    const votes = this.votes;
    // Bounded: a flood of different claims starts the count over.
    if (votes.size > 16 && !votes.has(host)) votes.clear();
    const voters = votes.get(host) ?? new Set<string>();
    voters.add(normalizeIp(voter) ?? voter);
    votes.set(host, voters);
    return voters.size >= this.quorum ? host : undefined;
  }
}
