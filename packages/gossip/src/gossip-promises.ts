/**
 * IWANT promise tracking (gossipsub-v1.1.md, "Spam protection measures": "the router tracks
 * ... promises ... a peer that advertises a message in IHAVE and does not deliver it after an
 * IWANT is penalized"). For each IWANT we send, one of the requested ids is picked at random
 * and the peer "promises" to deliver it within `followupMs`. A delivery of that message (from
 * anyone, once validated or even rejected, since the peer did forward it) fulfils the promise;
 * `brokenPromises()` returns, per peer, how many promises expired unfulfilled. The router turns
 * them into behaviour penalties (P7).
 */
import type { Random } from '@peerkit/transport';
import type { MsgKey, PeerKey } from './ids';

export class GossipPromises {
  /** message -> peer -> deadline */
  private readonly promises = new Map<MsgKey, Map<PeerKey, number>>();
  readonly followupMs: number;

  constructor(followupMs: number) {
    this.followupMs = followupMs;
  }

  get size(): number {
    return this.promises.size;
  }

  /** Records that `peer` promised one of `keys` (chosen with `random`). */
  addPromise(peer: PeerKey, keys: readonly MsgKey[], now: number, random: Random): void {
    if (keys.length === 0) return;
    const key = keys[random.int(keys.length)] as MsgKey;
    let peers = this.promises.get(key);
    if (peers === undefined) {
      peers = new Map();
      this.promises.set(key, peers);
    }
    if (!peers.has(peer)) peers.set(peer, now + this.followupMs);
  }

  /** The message arrived: every promise for it is kept. */
  deliver(key: MsgKey): void {
    this.promises.delete(key);
  }

  /** Peers with promises past their deadline, with how many; those promises are dropped. */
  brokenPromises(now: number): Map<PeerKey, number> {
    const broken = new Map<PeerKey, number>();
    for (const [key, peers] of this.promises) {
      for (const [peer, deadline] of peers) {
        if (deadline > now) continue;
        broken.set(peer, (broken.get(peer) ?? 0) + 1);
        peers.delete(peer);
      }
      if (peers.size === 0) this.promises.delete(key);
    }
    return broken;
  }
}
