/**
 * The message cache (gossipsub-v1.0.md, "Message Cache"): the messages of the last
 * `historyLength` heartbeats, in one window per heartbeat. IHAVE gossip advertises the ids of
 * the last `gossipWindows` windows; IWANT is answered from any window. `shift()` runs once per
 * heartbeat and drops the oldest window.
 *
 * It also counts how often each peer asked for each message by IWANT, so that a peer cannot
 * make us retransmit a message more than `gossipRetransmission` times (gossipsub-v1.1.md,
 * "Spam protection measures").
 */
import type { MsgKey, PeerKey } from './ids';
import type { GossipMessage } from './message';

interface CacheEntry {
  readonly id: Uint8Array;
  readonly message: GossipMessage;
  /** IWANT requests per peer. */
  iwant?: Map<PeerKey, number>;
}

export class MessageCache {
  readonly historyLength: number;
  readonly gossipWindows: number;
  private readonly messages = new Map<MsgKey, CacheEntry>();
  /** windows[0] is the current heartbeat's. */
  private readonly windows: { key: MsgKey; topic: string }[][];

  constructor(historyLength: number, gossipWindows: number) {
    if (gossipWindows > historyLength) {
      throw new RangeError('mcache gossip windows must not exceed the history length');
    }
    this.historyLength = historyLength;
    this.gossipWindows = gossipWindows;
    this.windows = Array.from({ length: historyLength }, () => []);
  }

  get size(): number {
    return this.messages.size;
  }

  put(key: MsgKey, id: Uint8Array, message: GossipMessage): void {
    if (this.messages.has(key)) return;
    this.messages.set(key, { id, message });
    this.windows[0]?.push({ key, topic: message.topic });
  }

  get(key: MsgKey): GossipMessage | undefined {
    return this.messages.get(key)?.message;
  }

  /**
   * The message for an IWANT from `peer`, counting the request; `undefined` when absent or when
   * the peer already asked `maxTransmissions` times.
   */
  getForPeer(key: MsgKey, peer: PeerKey, maxTransmissions: number): GossipMessage | undefined {
    const entry = this.messages.get(key);
    if (entry === undefined) return undefined;
    entry.iwant ??= new Map();
    const count = (entry.iwant.get(peer) ?? 0) + 1;
    entry.iwant.set(peer, count);
    return count > maxTransmissions ? undefined : entry.message;
  }

  /** Ids of the gossip windows' messages in `topic`, oldest first. */
  gossipIds(topic: string): Uint8Array[] {
    const ids: Uint8Array[] = [];
    for (let w = Math.min(this.gossipWindows, this.windows.length) - 1; w >= 0; w--) {
      for (const item of this.windows[w] ?? []) {
        if (item.topic !== topic) continue;
        const entry = this.messages.get(item.key);
        if (entry !== undefined) ids.push(entry.id);
      }
    }
    return ids;
  }

  /** Starts a new window and forgets the oldest (once per heartbeat). */
  shift(): void {
    const oldest = this.windows.pop() ?? [];
    for (const item of oldest) this.messages.delete(item.key);
    this.windows.unshift([]);
  }
}
