/**
 * GossipSub's control messages (gossipsub-v1.0.md "Control message processing", v1.1 "Peer
 * Exchange", "Adaptive Gossip", "Spam protection measures"): what the router answers to IHAVE,
 * IWANT, GRAFT and PRUNE, the PRUNE entries it sends (with peer exchange), and the IHAVE gossip
 * it emits each heartbeat. Pure like the router: state comes in through `ControlContext`.
 */
import type { Random } from '@peerkit/transport';
import type { Fanout } from './fanout';
import type { GossipPromises } from './gossip-promises';
import { type MsgKey, msgKey, type PeerKey } from './ids';
import type { MessageCache } from './mcache';
import type { Mesh, MeshView } from './mesh';
import type { GossipMessage } from './message';
import type { ResolvedOptions } from './options';
import { pick } from './pick';
import type { GossipStats } from './router';
import type { PeerScore } from './score/peer-score';
import type { SeenCache } from './seen-cache';
import {
  type Control,
  type IHaveEntry,
  type PeerRecord,
  type PruneEntry,
  RPC_OVERHEAD,
  type Rpc,
} from './wire';

/** Upper bound of a message's encoding beyond its data and topic (from, seqno, sig, keys). */
const MESSAGE_OVERHEAD = 160;

/** What the router needs from its node. */
export interface RouterHost {
  now(): number;
  readonly random: Random;
  send(peer: PeerKey, rpc: Rpc): void;
  /** Hands a delivered message to the application. */
  deliver(message: GossipMessage, id: Uint8Array, from: PeerKey): void;
  /** Peer exchange: records from a trusted PRUNE. */
  connectPx(records: readonly PeerRecord[]): void;
  /** The listening address of a peer, for peer exchange records we send. */
  pxRecord(peer: PeerKey): PeerRecord | undefined;
  /** An application callback (validator, message handler) failed. */
  onError(error: unknown): void;
}

export interface RouterPeer {
  readonly key: PeerKey;
  readonly outbound: boolean;
  readonly topics: Set<string>;
  /** IHAVE entries received this heartbeat, and message ids asked for by IWANT. */
  ihaves: number;
  iasked: number;
}

/** The router's state the control rules read and update. */
export interface ControlContext {
  readonly options: ResolvedOptions;
  readonly host: RouterHost;
  readonly mesh: Mesh;
  readonly score: PeerScore;
  readonly mcache: MessageCache;
  readonly seen: SeenCache;
  readonly promises: GossipPromises;
  readonly fanout: Fanout;
  readonly stats: GossipStats;
  readonly view: MeshView;
  /** Our subscriptions. */
  readonly subscriptions: ReadonlySet<string>;
  /** The peers subscribed to `topic`. */
  topicPeers(topic: string): Iterable<PeerKey>;
  subscribers(topic: string): PeerKey[];
}

export class ControlHandler {
  constructor(private readonly ctx: ControlContext) {}

  handle(peer: RouterPeer, control: Control): void {
    const reply: Control = {};
    if (control.ihave !== undefined) this.handleIHave(peer, control.ihave, reply);
    let msgs: GossipMessage[] | undefined;
    if (control.iwant !== undefined) msgs = this.handleIWant(peer, control.iwant);
    if (control.graft !== undefined) this.handleGraft(peer, control.graft, reply);
    if (control.prune !== undefined) this.handlePrune(peer, control.prune);
    const hasControl = reply.iwant !== undefined || reply.prune !== undefined;
    if (hasControl || msgs !== undefined) {
      const rpc: Rpc = { type: 'rpc' };
      if (hasControl) rpc.control = reply;
      if (msgs !== undefined) {
        rpc.msgs = msgs;
        this.ctx.stats.sent += msgs.length;
      }
      this.ctx.host.send(peer.key, rpc);
    }
  }

  /** IHAVE: ask for unseen ids, within the per-heartbeat limits; record the promise. */
  private handleIHave(peer: RouterPeer, entries: readonly IHaveEntry[], reply: Control): void {
    const o = this.ctx.options;
    if (this.ctx.score.score(peer.key) < o.thresholds.gossipThreshold) return;
    peer.ihaves++;
    if (peer.ihaves > o.limits.maxIHaveMessages) return;
    if (peer.iasked >= o.limits.maxIHaveLength) return;
    const now = this.ctx.host.now();
    const want = new Map<MsgKey, Uint8Array>();
    for (const entry of entries) {
      if (!this.ctx.subscriptions.has(entry.topic)) continue;
      for (const id of entry.ids) {
        const key = msgKey(id);
        if (!this.ctx.seen.has(key, now)) want.set(key, id);
      }
    }
    if (want.size === 0) return;
    const room = Math.min(o.limits.maxIHaveLength - peer.iasked, o.limits.maxIWantLength);
    const keys = this.shuffle([...want.keys()]).slice(0, room);
    peer.iasked += keys.length;
    reply.iwant = keys.map((k) => want.get(k) as Uint8Array);
    this.ctx.stats.iwantSent++;
    this.ctx.promises.addPromise(peer.key, keys, now, this.ctx.host.random);
  }

  /** IWANT: answer from the message cache, at most `gossipRetransmission` times per peer. */
  private handleIWant(peer: RouterPeer, ids: readonly Uint8Array[]): GossipMessage[] | undefined {
    const o = this.ctx.options;
    if (this.ctx.score.score(peer.key) < o.thresholds.gossipThreshold) return undefined;
    const msgs: GossipMessage[] = [];
    // The answer must fit in one RPC: bounded by count and by bytes.
    let bytes = RPC_OVERHEAD;
    for (const id of ids) {
      if (msgs.length >= o.limits.maxMessagesPerRpc) break;
      const m = this.ctx.mcache.getForPeer(msgKey(id), peer.key, o.gossipRetransmission);
      if (m === undefined) continue;
      const size = m.data.length + m.topic.length * 3 + MESSAGE_OVERHEAD;
      if (bytes + size > o.limits.maxRpcSize) break;
      bytes += size;
      msgs.push(m);
    }
    return msgs.length > 0 ? msgs : undefined;
  }

  private handleGraft(peer: RouterPeer, topics: readonly string[], reply: Control): void {
    const now = this.ctx.host.now();
    const prunes: PruneEntry[] = [];
    for (const topic of topics) {
      if (!peer.topics.has(topic)) continue; // a GRAFT for a topic it did not announce
      const verdict = this.ctx.mesh.handleGraft(topic, peer.key, this.ctx.view, now);
      if (verdict.accept) {
        this.ctx.score.graft(peer.key, topic, now);
        continue;
      }
      if (verdict.penalty > 0) this.ctx.score.addPenalty(peer.key, verdict.penalty);
      prunes.push(
        this.pruneEntry(peer.key, topic, verdict.px, this.ctx.options.mesh.pruneBackoffMs),
      );
    }
    if (prunes.length > 0) reply.prune = prunes;
  }

  private handlePrune(peer: RouterPeer, entries: readonly PruneEntry[]): void {
    const now = this.ctx.host.now();
    const px: PeerRecord[] = [];
    for (const entry of entries) {
      if (this.ctx.mesh.has(entry.topic, peer.key)) this.ctx.score.prune(peer.key, entry.topic);
      const backoff = entry.backoff === undefined ? undefined : entry.backoff * 1000;
      this.ctx.mesh.handlePrune(entry.topic, peer.key, backoff, now);
      if (entry.px !== undefined) px.push(...entry.px);
    }
    // v1.1 "Peer Exchange": only from peers we trust enough.
    if (
      px.length > 0 &&
      this.ctx.score.score(peer.key) >= this.ctx.options.thresholds.acceptPXThreshold
    ) {
      this.ctx.host.connectPx(px.slice(0, this.ctx.options.limits.maxPrunePeers));
    }
  }

  pruneEntry(peer: PeerKey, topic: string, px: boolean, backoffMs: number): PruneEntry {
    const entry: PruneEntry = { topic, backoff: Math.ceil(backoffMs / 1000) };
    // PX only to peers with a non-negative score (v1.1 "Peer Exchange").
    if (px && this.ctx.score.score(peer) >= 0) {
      const records: PeerRecord[] = [];
      const candidates = this.shuffle(this.ctx.subscribers(topic).filter((p) => p !== peer));
      for (const other of candidates) {
        if (records.length >= this.ctx.options.limits.maxPrunePeers) break;
        if (this.ctx.score.score(other) < 0) continue;
        const record = this.ctx.host.pxRecord(other);
        if (record !== undefined) records.push(record);
      }
      if (records.length > 0) entry.px = records;
    }
    return entry;
  }

  /** IHAVE to Dlazy (or gossipFactor of) non-mesh peers per topic (v1.1 "Adaptive Gossip"). */
  emitGossip(controlOf: (peer: PeerKey) => Control): void {
    const o = this.ctx.options;
    const topics = new Set([...this.ctx.mesh.topics(), ...this.ctx.fanout.topics()]);
    for (const topic of topics) {
      const ids = this.ctx.mcache.gossipIds(topic);
      if (ids.length === 0) continue;
      const exclude = this.ctx.mesh.isJoined(topic)
        ? this.ctx.mesh.peers(topic)
        : this.ctx.fanout.peers(topic);
      const eligible = [...(this.ctx.topicPeers(topic) ?? [])].filter(
        (p) => !exclude?.has(p) && this.ctx.score.score(p) >= o.thresholds.gossipThreshold,
      );
      const n = Math.max(o.Dlazy, Math.floor(o.gossipFactor * eligible.length));
      for (const peer of this.pick(eligible, n)) {
        const sample =
          ids.length > o.limits.maxIHaveLength ? this.pick([...ids], o.limits.maxIHaveLength) : ids;
        const c = controlOf(peer);
        c.ihave ??= [];
        if (c.ihave.length >= o.limits.maxIHaveMessages) continue;
        c.ihave.push({ topic, ids: sample });
        this.ctx.stats.ihaveSent++;
      }
    }
  }

  private pick<T>(items: T[], n: number): T[] {
    return pick(items, n, this.ctx.host.random);
  }

  private shuffle<T>(items: T[]): T[] {
    return pick(items, items.length, this.ctx.host.random);
  }
}
