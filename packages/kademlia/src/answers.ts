/**
 * Reading what a response carries (the lookup's side of BEP 5 and BEP 44): the nodes it
 * returned, the peers, and whether a returned item really belongs to the target.
 * Malformed entries are skipped and reported through `onMalformed`, never thrown.
 */
import type { Address } from '@peerkit/transport';
import { type Item, immutableTarget, mutableTarget, verifyMutable } from './bep44';
import { type Contact, decodeCompactNodes, decodeCompactPeer } from './compact';
import type { KrpcResponse } from './krpc';
import { idEquals, type NodeId } from './node-id';

/** The contacts of `nodes` (IPv4) and `nodes6` (BEP 32), without port 0 or our own id. */
export function contactsOfResponse(
  res: KrpcResponse,
  ownId: NodeId,
  onMalformed: () => void,
): Contact[] {
  const out: Contact[] = [];
  for (const [raw, family] of [
    [res.r.nodes, 4],
    [res.r.nodes6, 6],
  ] as const) {
    if (!raw) continue;
    try {
      for (const c of decodeCompactNodes(raw, family)) {
        if (c.address.port !== 0 && !idEquals(c.id, ownId)) out.push(c);
      }
    } catch {
      onMalformed();
    }
  }
  return out;
}

/** The peers of `values` (compact peer info), without port 0. */
export function peersOfResponse(res: KrpcResponse, onMalformed: () => void): Address[] {
  const out: Address[] = [];
  for (const v of res.r.values ?? []) {
    try {
      const p = decodeCompactPeer(v);
      if (p.port !== 0) out.push(p);
    } catch {
      onMalformed();
    }
  }
  return out;
}

/**
 * BEP 44: an immutable item must hash to the target; a mutable item's key (and salt) must hash
 * to the target and its signature must verify.
 */
export function isValidItem(target: NodeId, item: Item, salt?: Uint8Array): boolean {
  if (!item.k) return idEquals(immutableTarget(item.v), target);
  if (item.sig === undefined || item.seq === undefined) return false;
  if (!idEquals(mutableTarget(item.k, salt), target)) return false;
  return verifyMutable(item.k, item.sig, item.seq, item.v, salt);
}
