/**
 * The GossipSub router: the protocol rules that connect the pure modules (mesh, mcache, seen
 * cache, gossip promises, peer score) to RPCs. It never touches a socket: RPCs come in through
 * `handleRpc`, go out through `RouterHost.send`, and time through `RouterHost.now`, so unit
 * tests drive it directly. `GossipNode` wires it to streams.
 *
 * Sections cited: pubsub/README.md; gossipsub-v1.0.md "Message processing", "Control message
 * processing", "Heartbeat"; gossipsub-v1.1.md "Flood Publishing", "Peer Exchange", "Spam
 * protection measures", "Peer Scoring".
 */
import { ControlHandler, type RouterHost, type RouterPeer } from './control';
import { GossipError } from './errors';
import { Fanout } from './fanout';
import { GossipPromises } from './gossip-promises';
import { type MsgKey, msgKey, type PeerKey, peerKey } from './ids';
import { MessageCache } from './mcache';
import { Mesh, type MeshView } from './mesh';
import type { GossipMessage } from './message';
import type { ResolvedOptions, ValidationResult } from './options';
import { PeerScore } from './score/peer-score';
import { SeenCache } from './seen-cache';
import { type Identity, SignatureVerifier, signedBytes } from './signing';
import type { Control, Rpc } from './wire';

export type { RouterHost } from './control';

/** Counters of a node (README, "Stats"). */
export interface GossipStats {
  /** Messages delivered to the application (each once). */
  delivered: number;
  /** Message copies received that were already seen. */
  duplicates: number;
  /** Messages rejected (bad signature, policy, validator). */
  rejected: number;
  /** Messages ignored by the validator or for an unsubscribed topic. */
  ignored: number;
  /** RPCs dropped because the sender was graylisted. */
  graylisted: number;
  /** Messages sent to peers (forwarded, published, IWANT answers). */
  sent: number;
  /** IHAVE and IWANT control entries sent. */
  ihaveSent: number;
  iwantSent: number;
}

export class Router {
  readonly options: ResolvedOptions;
  readonly mesh: Mesh;
  readonly score: PeerScore;
  readonly mcache: MessageCache;
  readonly seen: SeenCache;
  readonly promises: GossipPromises;
  readonly stats: GossipStats = {
    delivered: 0,
    duplicates: 0,
    rejected: 0,
    ignored: 0,
    graylisted: 0,
    sent: 0,
    ihaveSent: 0,
    iwantSent: 0,
  };
  private readonly host: RouterHost;
  private readonly identity: Identity;
  private readonly verifier = new SignatureVerifier();
  private readonly peers = new Map<PeerKey, RouterPeer>();
  /** topic -> subscribed peers */
  private readonly topicPeers = new Map<string, Set<PeerKey>>();
  /** Our subscriptions. */
  private readonly subscriptions = new Set<string>();
  private readonly fanout: Fanout;
  private seqno: number;
  readonly view: MeshView;
  private readonly control: ControlHandler;

  constructor(options: ResolvedOptions, host: RouterHost, identity: Identity) {
    this.options = options;
    this.host = host;
    this.identity = identity;
    this.mesh = new Mesh(options.mesh, host.random);
    this.score = new PeerScore(options.scoreParams, options.seenTtlMs);
    this.mcache = new MessageCache(options.mcacheLength, options.mcacheGossip);
    this.seen = new SeenCache(options.seenTtlMs);
    this.promises = new GossipPromises(options.iwantFollowupMs);
    this.fanout = new Fanout(options.mesh.D, options.fanoutTtlMs, host.random);
    // Sequence numbers start at a random point so that a restarted author does not reuse ids.
    this.seqno = host.random.int(2 ** 31) * 2 ** 20;
    this.view = {
      topicPeers: (topic) => this.topicPeers.get(topic) ?? [],
      score: (peer) => this.score.score(peer),
      isOutbound: (peer) => this.peers.get(peer)?.outbound ?? false,
    };
    this.control = new ControlHandler({
      options,
      host,
      mesh: this.mesh,
      score: this.score,
      mcache: this.mcache,
      seen: this.seen,
      promises: this.promises,
      fanout: this.fanout,
      stats: this.stats,
      view: this.view,
      subscriptions: this.subscriptions,
      topicPeers: (topic) => this.topicPeers.get(topic) ?? [],
      subscribers: (topic) => this.subscribers(topic),
    });
  }

  // ---- peers -----------------------------------------------------------------------------

  addPeer(peer: PeerKey, outbound: boolean, ip: string | undefined): void {
    if (this.peers.has(peer)) return;
    this.peers.set(peer, { key: peer, outbound, topics: new Set(), ihaves: 0, iasked: 0 });
    this.score.addPeer(peer, ip);
    // Announce our subscriptions (pubsub/README.md, "Topic Membership").
    // In RPCs of at most maxTopicsPerRpc entries each (the receiver's limit).
    const subs = [...this.subscriptions].map((topic) => ({ topic, subscribe: true }));
    const chunk = this.options.limits.maxTopicsPerRpc;
    for (let i = 0; i < subs.length; i += chunk) {
      this.host.send(peer, { type: 'rpc', subs: subs.slice(i, i + chunk) });
    }
  }

  removePeer(peer: PeerKey): void {
    const state = this.peers.get(peer);
    if (state === undefined) return;
    for (const topic of state.topics) this.topicPeers.get(topic)?.delete(peer);
    for (const topic of this.mesh.topics()) {
      if (this.mesh.has(topic, peer)) this.score.prune(peer, topic);
    }
    this.mesh.removePeer(peer);
    this.fanout.removePeer(peer);
    this.score.removePeer(peer, this.host.now());
    this.peers.delete(peer);
  }

  hasPeer(peer: PeerKey): boolean {
    return this.peers.has(peer);
  }

  peerTopics(peer: PeerKey): ReadonlySet<string> {
    return this.peers.get(peer)?.topics ?? new Set();
  }

  subscribers(topic: string): PeerKey[] {
    return [...(this.topicPeers.get(topic) ?? [])];
  }

  isGraylisted(peer: PeerKey): boolean {
    return this.score.score(peer) < this.options.thresholds.graylistThreshold;
  }

  // ---- subscriptions ---------------------------------------------------------------------

  subscribe(topic: string): void {
    if (this.subscriptions.has(topic)) return;
    this.subscriptions.add(topic);
    for (const peer of this.peers.keys()) {
      this.host.send(peer, { type: 'rpc', subs: [{ topic, subscribe: true }] });
    }
    const now = this.host.now();
    const grafted = this.mesh.join(topic, this.view, now, this.fanout.take(topic));
    for (const peer of grafted) {
      this.score.graft(peer, topic, now);
      this.host.send(peer, { type: 'rpc', control: { graft: [topic] } });
    }
  }

  unsubscribe(topic: string): void {
    if (!this.subscriptions.delete(topic)) return;
    for (const peer of this.peers.keys()) {
      this.host.send(peer, { type: 'rpc', subs: [{ topic, subscribe: false }] });
    }
    const backoff = Math.ceil(this.options.mesh.unsubscribeBackoffMs / 1000);
    for (const peer of this.mesh.leave(topic, this.host.now())) {
      this.score.prune(peer, topic);
      this.host.send(peer, { type: 'rpc', control: { prune: [{ topic, backoff }] } });
    }
  }

  get topics(): string[] {
    return [...this.subscriptions];
  }

  // ---- publish ---------------------------------------------------------------------------

  /** Builds, signs and sends a message; returns its id and how many peers it went to. */
  publish(topic: string, data: Uint8Array): { id: Uint8Array; recipients: number } {
    const o = this.options;
    if (topic.length === 0 || topic.length > o.limits.maxTopicLength) {
      throw new GossipError(
        'INVALID_TOPIC',
        `topic length must be in [1, ${o.limits.maxTopicLength}]`,
      );
    }
    if (data.length > o.limits.maxMessageSize) {
      throw new GossipError(
        'MESSAGE_TOO_LARGE',
        `message of ${data.length} bytes exceeds maxMessageSize ${o.limits.maxMessageSize}`,
      );
    }
    let message: GossipMessage;
    if (o.signaturePolicy === 'strict-sign') {
      const from = this.identity.publicKey;
      const seqno = ++this.seqno;
      const sig = this.identity.sign(signedBytes(from, seqno, topic, data));
      message = { from, seqno, topic, data, sig };
    } else {
      message = { topic, data };
    }
    const id = o.msgIdFn(message);
    const key = msgKey(id);
    const now = this.host.now();
    if (!this.seen.add(key, now)) {
      throw new GossipError('DUPLICATE', 'a message with this id was already published or seen');
    }
    const recipients = this.publishPeers(topic, now);
    if (recipients.length === 0 && !o.allowPublishToZeroPeers) {
      throw new GossipError('NO_PEERS_SUBSCRIBED', `no peer is subscribed to ${topic}`);
    }
    this.mcache.put(key, id, message);
    const rpc: Rpc = { type: 'rpc', msgs: [message] };
    for (const peer of recipients) this.host.send(peer, rpc);
    this.stats.sent += recipients.length;
    return { id, recipients: recipients.length };
  }

  /** The peers our own message goes to (v1.1 "Flood Publishing"; v1.0 fanout). */
  private publishPeers(topic: string, now: number): PeerKey[] {
    const o = this.options;
    const subscribers = this.topicPeers.get(topic) ?? new Set<PeerKey>();
    const aboveThreshold = (peer: PeerKey) =>
      this.score.score(peer) >= o.thresholds.publishThreshold;
    if (o.flood || o.floodPublish) return [...subscribers].filter(aboveThreshold);
    if (this.mesh.isJoined(topic)) return [...this.mesh.peers(topic)];
    return this.fanout.publishPeers(topic, [...subscribers].filter(aboveThreshold), now);
  }

  // ---- incoming RPCs ---------------------------------------------------------------------

  handleRpc(from: PeerKey, rpc: Rpc): void {
    const peer = this.peers.get(from);
    if (peer === undefined) return;
    // v1.1 "Score Thresholds": every RPC of a graylisted peer is ignored.
    if (this.isGraylisted(from)) {
      this.stats.graylisted++;
      return;
    }
    if (rpc.subs !== undefined) this.handleSubscriptions(peer, rpc.subs);
    if (rpc.msgs !== undefined) for (const m of rpc.msgs) this.handleMessage(from, m);
    if (rpc.control !== undefined) this.control.handle(peer, rpc.control);
  }

  private handleSubscriptions(peer: RouterPeer, subs: NonNullable<Rpc['subs']>): void {
    for (const { topic, subscribe } of subs) {
      if (subscribe) {
        if (peer.topics.has(topic)) continue;
        if (peer.topics.size >= this.options.maxTopicsPerPeer) {
          this.score.addPenalty(peer.key, 1); // limit: topics per peer
          continue;
        }
        peer.topics.add(topic);
        let set = this.topicPeers.get(topic);
        if (set === undefined) {
          set = new Set();
          this.topicPeers.set(topic, set);
        }
        set.add(peer.key);
      } else if (peer.topics.delete(topic)) {
        this.topicPeers.get(topic)?.delete(peer.key);
        if (this.mesh.has(topic, peer.key)) this.score.prune(peer.key, topic);
        this.mesh.removePeer(peer.key, topic);
        this.fanout.removePeer(peer.key, topic);
      }
    }
  }

  /** v1.0 "Message processing", with v1.1 validation and scoring. */
  private handleMessage(from: PeerKey, message: GossipMessage): void {
    const o = this.options;
    const topic = message.topic;
    if (!this.subscriptions.has(topic)) {
      this.stats.ignored++;
      return;
    }
    const signed =
      message.from !== undefined || message.seqno !== undefined || message.sig !== undefined;
    const policyOk =
      o.signaturePolicy === 'strict-sign'
        ? message.from !== undefined && message.seqno !== undefined && message.sig !== undefined
        : !signed;
    if (!policyOk) {
      this.stats.rejected++;
      this.score.rejectMessage(from, undefined, topic, 'invalid-signature');
      return;
    }
    const id = o.msgIdFn(message);
    const key = msgKey(id);
    const now = this.host.now();
    if (this.seen.has(key, now)) {
      this.stats.duplicates++;
      this.score.duplicateMessage(from, key, topic, now);
      return;
    }
    // Verify before marking the id seen, so a forged copy cannot shadow the real message.
    if (o.signaturePolicy === 'strict-sign' && !this.verify(message)) {
      this.stats.rejected++;
      this.score.rejectMessage(from, key, topic, 'invalid-signature');
      return;
    }
    this.seen.add(key, now);
    this.promises.deliver(key);
    this.score.validateMessage(key, now);
    // A validator that throws or rejects is an application bug: the message is ignored (no
    // penalty for the peer) and the error goes to `onError`.
    let verdict: ValidationResult | Promise<ValidationResult>;
    try {
      verdict = o.validator === undefined ? 'accept' : o.validator(message, from);
    } catch (error) {
      this.host.onError(error);
      verdict = 'ignore';
    }
    if (typeof verdict === 'string') this.settle(from, message, id, key, verdict);
    else {
      verdict.then(
        (result) => this.settle(from, message, id, key, result),
        (error: unknown) => {
          this.host.onError(error);
          this.settle(from, message, id, key, 'ignore');
        },
      );
    }
  }

  private verify(m: GossipMessage): boolean {
    if (m.from === undefined || m.seqno === undefined || m.sig === undefined) return false;
    return this.verifier.verify(m.from, signedBytes(m.from, m.seqno, m.topic, m.data), m.sig);
  }

  /** The validator's verdict (v1.1 "Extended Validators"): reject counts against the sender (P4). */
  private settle(
    from: PeerKey,
    message: GossipMessage,
    id: Uint8Array,
    key: MsgKey,
    result: ValidationResult,
  ): void {
    const topic = message.topic;
    if (result === 'reject') {
      this.stats.rejected++;
      this.score.rejectMessage(from, key, topic, 'rejected');
      return;
    }
    if (result === 'ignore') {
      this.stats.ignored++;
      this.score.ignoreMessage(key);
      return;
    }
    const now = this.host.now();
    this.score.deliverMessage(from, key, topic, now);
    this.mcache.put(key, id, message);
    this.stats.delivered++;
    this.forward(from, message);
    if (this.subscriptions.has(topic)) this.host.deliver(message, id, from);
  }

  /** Forwards to the topic's mesh (or every subscriber in flood mode), never back to the source. */
  private forward(source: PeerKey, message: GossipMessage): void {
    const topic = message.topic;
    const targets = this.options.flood ? this.topicPeers.get(topic) : this.mesh.peers(topic);
    if (targets === undefined) return;
    const author = message.from === undefined ? undefined : peerKey(message.from);
    const rpc: Rpc = { type: 'rpc', msgs: [message] };
    for (const peer of targets) {
      if (peer === source || peer === author) continue;
      this.stats.sent++;
      this.host.send(peer, rpc); // one RPC object for all: the node encodes it once
    }
  }

  // ---- heartbeat -------------------------------------------------------------------------

  /**
   * The heartbeat (v1.0 "Heartbeat", v1.1 additions). Its work is bounded by peers × topics
   * plus the message cache's gossip windows; nothing in it verifies signatures or touches the
   * network synchronously (js-libp2p-gossipsub#256).
   */
  heartbeat(): void {
    const o = this.options;
    const now = this.host.now();
    this.score.refresh(now);
    for (const [peer, count] of this.promises.brokenPromises(now)) {
      this.score.addPenalty(peer, count); // P7 for broken IWANT promises
    }
    const controls = new Map<PeerKey, Control>();
    const controlOf = (peer: PeerKey): Control => {
      let c = controls.get(peer);
      if (c === undefined) {
        c = {};
        controls.set(peer, c);
      }
      return c;
    };
    if (!o.flood) {
      const actions = this.mesh.heartbeat(this.view, now);
      for (const [peer, topic] of actions.graft) {
        this.score.graft(peer, topic, now);
        const c = controlOf(peer);
        c.graft ??= [];
        c.graft.push(topic);
      }
      for (const p of actions.prune) {
        this.score.prune(p.peer, p.topic);
        const c = controlOf(p.peer);
        c.prune ??= [];
        c.prune.push(this.control.pruneEntry(p.peer, p.topic, p.px, p.backoffMs));
      }
      const publishThreshold = o.thresholds.publishThreshold;
      this.fanout.maintain(
        now,
        (topic) => this.topicPeers.get(topic) ?? [],
        (peer) => this.score.score(peer) >= publishThreshold,
      );
      this.control.emitGossip(controlOf);
    }
    for (const [peer, control] of controls) this.host.send(peer, { type: 'rpc', control });
    this.mcache.shift();
    this.seen.prune(now);
    for (const peer of this.peers.values()) {
      peer.ihaves = 0;
      peer.iasked = 0;
    }
  }
}
