/**
 * `MessengerNode`: one peerkit-chat peer. It wires the pieces together and owns their I/O:
 *
 * - a DHT node (rendezvous: room members and peer addresses, see `rendezvous.ts`),
 * - one TCP listener; every accepted stream is a Noise XX session (`@peerkit/noise`) bound to
 *   the peer's Ed25519 identity, whose first byte selects gossip or control,
 * - a gossip node (`@peerkit/gossip`) for room messages, dialling through the same Noise upgrade,
 *   with `validateRoomMessage` as its validation hook,
 * - control connections for history sync and direct messages (`control-channel.ts`),
 * - the DM outbox (`dm-outbox.ts`).
 *
 * Everything it reports goes out as `ChatEvent`s; `close()` stops every socket and timer.
 */
import { GossipNode, isGossipError, type PeerEvent } from '@peerkit/gossip';
import { DHT } from '@peerkit/kademlia';
import { equalKeys, type Identity, secureInbound, secureOutbound } from '@peerkit/noise';
import {
  type Address,
  formatAddress,
  type Network,
  type Stream,
  type StreamListener,
  type Timer,
} from '@peerkit/transport';
import {
  type ControlCodecs,
  type ControlRequest,
  type ControlResponse,
  controlCodecs,
  SELECTOR_CONTROL,
  SELECTOR_GOSSIP,
} from './control';
import { controlRequest, PROLOGUE, serveControl } from './control-channel';
import { receiveDm } from './dm';
import { DmOutbox } from './dm-outbox';
import { EnvelopeCodec, type RoomMessage } from './envelope';
import { ChatError } from './errors';
import { type ChatEvent, dmView, messageView } from './events';
import { HistoryStore } from './history';
import { type ChatLimits, checkText, DEFAULT_LIMITS } from './limits';
import type { MessengerOptions } from './options';
import { PeerBook, type PeerView, peerIdOfKey } from './peer-book';
import { formatPeerId } from './peer-id';
import { RateLimiter } from './rate-limit';
import { checkRoomName, hex, peerKeyOf, roomKey, roomOfTopic, roomTopic } from './rendezvous';
import { ReplayWindow } from './replay-window';
import { readSelector } from './streams';
import { validateRoomMessage, windowKey } from './validate';

export type { MessengerOptions } from './options';

interface RoomState {
  timer: Timer | undefined;
  /** Member addresses found in the DHT (`host:port`). */
  addresses: Map<string, Address>;
}

export class MessengerNode {
  readonly network: Network;
  readonly identity: Identity;
  readonly id: string;
  readonly limits: ChatLimits;
  readonly codec: EnvelopeCodec;
  readonly history: HistoryStore;
  readonly dht: DHT;
  readonly gossip: GossipNode;
  nick: string | undefined;
  private readonly options: MessengerOptions;
  private readonly codecs: ControlCodecs;
  private readonly window = new ReplayWindow();
  private readonly authorRate: RateLimiter;
  private readonly peerRate: RateLimiter;
  private readonly outbox: DmOutbox;
  private readonly rooms = new Map<string, RoomState>();
  private readonly inbound = new Set<Stream>();
  private readonly book = new PeerBook();
  /** Member addresses already handed to gossip to dial (`host:port`). */
  private readonly dialedAddresses = new Set<string>();
  private readonly recentDms = new Set<string>();
  private handlers: ((event: ChatEvent) => void)[] = [];
  private listener!: StreamListener;
  private timers: Timer[] = [];
  private lastSeq = 0;
  private closed = false;

  private constructor(options: MessengerOptions, dht: DHT, gossip: GossipNode) {
    this.options = options;
    this.network = options.network;
    this.identity = options.identity;
    this.id = formatPeerId(options.identity.publicKey);
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.codec = new EnvelopeCodec(this.limits);
    this.codecs = controlCodecs(this.limits);
    this.history = new HistoryStore(this.limits.maxHistory);
    this.authorRate = new RateLimiter(
      this.network.clock,
      this.limits.ratePerSecond,
      this.limits.rateBurst,
    );
    this.peerRate = new RateLimiter(
      this.network.clock,
      this.limits.ratePerSecond,
      this.limits.rateBurst,
    );
    this.nick = options.nick;
    if (options.onEvent) this.handlers.push(options.onEvent);
    this.dht = dht;
    this.gossip = gossip;
    this.outbox = new DmOutbox({
      clock: this.network.clock,
      maxPending: this.limits.maxPendingDms,
      deliver: (to, envelope) => this.deliverDm(to, envelope),
      encode: (m) => this.codec.encodeDm(m),
      ...(options.dmRetryMs !== undefined ? { firstRetryMs: options.dmRetryMs } : {}),
      emit: (event) => this.emit(event),
    });
  }

  /** Starts the DHT, the listener and gossip; joins the DHT through `bootstrap`. */
  static async start(options: MessengerOptions): Promise<MessengerNode> {
    const { network } = options;
    const host = options.host ?? '0.0.0.0';
    const dht = new DHT({
      network,
      rpc: options.dhtRpc ?? { retries: 1 },
      ...(options.transient ? { readOnly: true } : {}),
      ...(options.dhtState ? { state: options.dhtState } : {}),
    });
    let node: MessengerNode | undefined;
    try {
      await dht.listen({ host, port: options.dhtPort ?? 0 });
      // Gossip dials through `upgrade` (Noise + selector); it does not listen itself: our
      // listener accepts every connection and hands gossip the ones that select it.
      const gossip = await GossipNode.create(network, {
        heartbeatIntervalMs: 700,
        ...options.gossip,
        identitySeed: options.identity.secretKey,
        // gossip's default message ids (author || seqno): gossip starts each run's seqno at a
        // random point, so a restarted node's new messages never collide with its old ones in
        // the peers' seen caches (README, "How it works").
        validator: (message, from) =>
          node?.validate(message.topic, message.data, message.from, from) ?? 'ignore',
        upgrade: (stream, outbound) => node!.upgradeOutbound(stream, outbound),
      });
      node = new MessengerNode(options, dht, gossip);
      gossip.onMessage((event) => node?.onGossip(event.message.topic, event.message.data));
      gossip.onPeer((event) => node?.onPeerEvent(event));
      node.listener = await network.listen({ host, port: options.port ?? 0 }, (stream) =>
        node?.accept(stream),
      );
      const started = node;
      started.timers.push(network.clock.setInterval(() => void started.announceSelf(), 5 * 60_000));
      await dht.bootstrap(options.bootstrap ?? []);
      if (dht.table.size === 0) {
        started.emit({
          type: 'warning',
          message: 'no DHT node answered: nobody can be found; pass --bootstrap host:port',
        });
      }
      void started.announceSelf();
      started.emit({
        type: 'ready',
        id: started.id,
        address: formatAddress(started.address),
        dhtAddress: formatAddress(dht.address),
      });
      return started;
    } catch (error) {
      if (node) await node.close();
      else await dht.close();
      throw error;
    }
  }

  /** Our TCP listen address. */
  get address(): Address {
    return this.listener.localAddress;
  }

  /** Registers an event handler; returns a function that removes it. */
  on(handler: (event: ChatEvent) => void): () => void {
    this.handlers = [...this.handlers, handler];
    return () => {
      this.handlers = this.handlers.filter((h) => h !== handler);
    };
  }

  private emit(event: ChatEvent): void {
    for (const handler of this.handlers) handler(event);
  }

  // ---- rooms -------------------------------------------------------------------------------

  /** Joins a room: subscribes, announces, connects to the members found and fetches history. */
  async join(room: string): Promise<void> {
    this.checkOpen();
    checkRoomName(room, this.limits);
    if (this.rooms.has(room)) return;
    this.rooms.set(room, { timer: undefined, addresses: new Map() });
    this.gossip.subscribe(roomTopic(room));
    this.emit({ type: 'joined', room });
    await this.rendezvous(room, true);
  }

  get joinedRooms(): string[] {
    return [...this.rooms.keys()];
  }

  /** Announces ourselves under the room key and connects to the members the lookup found. */
  private async rendezvous(room: string, first: boolean): Promise<void> {
    const state = this.rooms.get(room);
    if (state === undefined || this.closed) return;
    let found: Address[] = [];
    try {
      if (this.options.transient) found = await this.dht.getPeers(roomKey(room));
      else found = (await this.dht.announce(roomKey(room), this.address.port)).peers;
    } catch (error) {
      this.emit({ type: 'warning', message: `DHT announce failed: ${(error as Error).message}` });
    }
    if (this.closed) return;
    const fresh: Address[] = [];
    for (const address of found) {
      if (this.isSelf(address)) continue;
      const key = formatAddress(address);
      state.addresses.set(key, address);
      if (!this.dialedAddresses.has(key)) {
        this.dialedAddresses.add(key);
        fresh.push(address);
        this.gossip.connect(address);
      }
    }
    this.emit({ type: 'rendezvous', room, found: state.addresses.size, dialed: fresh.length });
    if (first) await this.fetchHistory(room, fresh.slice(0, 3));
    if (this.closed || !this.rooms.has(room)) return;
    const alone = this.gossip.subscribers(roomTopic(room)).length === 0;
    const delay = alone ? (this.options.aloneRetryMs ?? 2000) : (this.options.refreshMs ?? 15_000);
    state.timer = this.network.clock.setTimeout(() => void this.rendezvous(room, false), delay);
  }

  private isSelf(address: Address): boolean {
    if (address.port !== this.address.port) return false;
    const h = this.address.host;
    return address.host === h || h === '0.0.0.0' || h === '::' || address.host === '127.0.0.1';
  }

  /** Asks members for recent history, verifies each message and reports the new ones in order. */
  private async fetchHistory(room: string, addresses: Address[]): Promise<void> {
    const results = await Promise.allSettled(
      addresses.map((address) =>
        this.request(address, { type: 'history', room, limit: this.limits.maxHistory }),
      ),
    );
    for (const r of results) {
      if (r.status !== 'fulfilled' || r.value.response.type !== 'history') continue;
      const source = r.value.remoteIdentity;
      const decoded: RoomMessage[] = [];
      let bad = 0;
      for (const bytes of r.value.response.messages) {
        try {
          decoded.push(this.codec.decodeRoom(bytes));
        } catch {
          bad++;
        }
      }
      const imported = this.history.import(room, decoded);
      for (const m of imported.added) this.window.record(windowKey(m), m.seq);
      for (const m of imported.added) this.book.learnNick(m.author, m.nick);
      if (bad + imported.rejected > 0) {
        this.emit({
          type: 'rejected',
          room,
          reason: 'BAD_SIGNATURE',
          peer: formatPeerId(source),
          detail: `${bad + imported.rejected} history message(s) failed verification`,
        });
      }
      if (imported.added.length > 0) {
        this.emit({
          type: 'history',
          room,
          source: formatPeerId(source),
          messages: imported.added.map(messageView),
        });
      }
    }
  }

  /** Messages stored for `room` (ours, live and imported), oldest first. */
  recentMessages(room: string, limit?: number): RoomMessage[] {
    return this.history.recent(room, limit);
  }

  /** Adds saved messages (e.g. from disk); each is verified. Returns how many were new. */
  importHistory(room: string, messages: RoomMessage[]): number {
    const { added } = this.history.import(room, messages);
    for (const m of added) this.window.record(windowKey(m), m.seq);
    return added.length;
  }

  /**
   * Signs and publishes `text` to `room`. Resolves with the message and the number of peers it
   * was sent to (0: no member connected yet; it stays in our history for late joiners).
   */
  say(room: string, text: string): { message: RoomMessage; recipients: number } {
    this.checkOpen();
    if (!this.rooms.has(room)) throw new ChatError('BAD_INPUT', `not in room '${room}'`);
    const message = this.codec.signRoom(this.identity, {
      room,
      ts: this.wallNow(),
      seq: this.nextSeq(),
      text: checkText(text, this.limits),
      ...(this.nick !== undefined ? { nick: this.nick } : {}),
    });
    this.history.add(message);
    this.window.record(windowKey(message), message.seq);
    this.emit({ type: 'message', own: true, ...messageView(message) });
    return { message, recipients: this.publishEncoded(room, this.codec.encodeRoom(message)) };
  }

  /**
   * Publishes envelope bytes as they are, without checks: for tests that play a misbehaving
   * node. Returns the number of peers it went to.
   */
  publishRaw(room: string, data: Uint8Array): number {
    this.checkOpen();
    return this.publishEncoded(room, data);
  }

  private publishEncoded(room: string, data: Uint8Array): number {
    try {
      return this.gossip.publish(roomTopic(room), data).recipients;
    } catch (error) {
      if (isGossipError(error) && error.code === 'NO_PEERS_SUBSCRIBED') return 0;
      throw error;
    }
  }

  /** Room members currently connected (peer ids). */
  roomPeers(room: string): string[] {
    return this.gossip.subscribers(roomTopic(room)).map((k) => peerIdOfKey(k));
  }

  /** Member addresses the DHT gave us for `room`. */
  roomAddresses(room: string): Address[] {
    return [...(this.rooms.get(room)?.addresses.values() ?? [])];
  }

  /** Asks `address` whether it has our message (proof that it was delivered there). */
  async hasMessage(address: Address, message: RoomMessage): Promise<boolean> {
    const { response } = await this.request(address, {
      type: 'history',
      room: message.room,
      limit: this.limits.maxHistory,
    });
    if (response.type !== 'history') return false;
    for (const bytes of response.messages) {
      try {
        const m = this.codec.decodeRoom(bytes);
        if (equalKeys(m.author, message.author) && m.seq === message.seq) return true;
      } catch {
        // a malformed entry proves nothing
      }
    }
    return false;
  }

  // ---- direct messages ---------------------------------------------------------------------

  /**
   * Sends a direct message to `to` (a public key) over a direct secure stream. If the recipient
   * cannot be reached, the message waits in the outbox and is retried while the node runs
   * (`dm-pending` events), until `dm-delivered`.
   */
  async sendDm(to: Uint8Array, text: string): Promise<{ id: string; delivered: boolean }> {
    this.checkOpen();
    if (equalKeys(to, this.identity.publicKey)) {
      throw new ChatError('BAD_INPUT', 'that is your own peer id');
    }
    const envelope = this.codec.signDm(this.identity, {
      to,
      id: this.network.random.bytes(16),
      ts: this.wallNow(),
      text: checkText(text, this.limits),
      ...(this.nick !== undefined ? { nick: this.nick } : {}),
    });
    return this.outbox.send(envelope);
  }

  get pendingDms(): number {
    return this.outbox.size;
  }

  /** One delivery attempt: known addresses of the recipient, then the DHT. */
  private async deliverDm(to: Uint8Array, envelope: Uint8Array): Promise<void> {
    const candidates = new Map<string, Address>();
    const known = this.book.address(to);
    if (known) candidates.set(formatAddress(known), known);
    if (candidates.size === 0) {
      for (const a of await this.dht.getPeers(peerKeyOf(to))) {
        if (!this.isSelf(a)) candidates.set(formatAddress(a), a);
      }
    }
    if (candidates.size === 0) throw new ChatError('TIMEOUT', 'recipient not found in the DHT');
    let lastError: unknown;
    for (const address of candidates.values()) {
      try {
        const { response } = await this.request(address, { type: 'dm', envelope }, to);
        if (response.type === 'ack') {
          this.book.learnAddress(to, address);
          return;
        }
        lastError = new ChatError(
          'TIMEOUT',
          response.type === 'error' ? `${response.code}: ${response.message}` : 'unexpected answer',
        );
      } catch (error) {
        lastError = error;
      }
    }
    throw lastError;
  }

  private handleDm(envelope: Uint8Array, remote: Uint8Array): ControlResponse {
    const { response, message } = receiveDm(this.codec, envelope, this.identity.publicKey, remote);
    if (message === undefined) return response;
    const id = hex(message.id);
    if (!this.recentDms.has(id)) {
      if (this.recentDms.size >= 4096) this.recentDms.clear();
      this.recentDms.add(id);
      this.book.learnNick(message.from, message.nick);
      this.emit({ type: 'dm', ...dmView(message) });
    }
    return response;
  }

  // ---- connections -------------------------------------------------------------------------

  private async request(address: Address, request: ControlRequest, expected?: Uint8Array) {
    return controlRequest(address, request, {
      network: this.network,
      identity: this.identity,
      codecs: this.codecs,
      timeoutMs: this.options.requestTimeoutMs ?? 5000,
      ...(expected ? { expectedRemoteIdentity: expected } : {}),
    });
  }

  /** Gossip's dials: Noise XX as initiator, then the gossip selector. */
  private async upgradeOutbound(stream: Stream, outbound: boolean): Promise<Stream> {
    if (!outbound) throw new ChatError('CLOSED', 'gossip does not accept streams itself');
    const secure = await secureOutbound(stream, {
      identity: this.identity,
      clock: this.network.clock,
      prologue: PROLOGUE,
    });
    if (equalKeys(secure.remoteIdentity, this.identity.publicKey)) {
      secure.destroy();
      throw new ChatError('CLOSED', 'dialled ourselves');
    }
    this.book.learnAddress(secure.remoteIdentity, stream.remoteAddress);
    await secure.write(Uint8Array.of(SELECTOR_GOSSIP));
    // A Noise `SecureStream` carries `remoteIdentity`: gossip refuses a hello naming anyone else.
    return secure;
  }

  private accept(raw: Stream): void {
    if (this.closed) {
      raw.destroy();
      return;
    }
    this.inbound.add(raw);
    void raw.closed.then(() => this.inbound.delete(raw));
    void this.handleInbound(raw).catch(() => raw.destroy());
  }

  private async handleInbound(raw: Stream): Promise<void> {
    const secure = await secureInbound(raw, {
      identity: this.identity,
      clock: this.network.clock,
      prologue: PROLOGUE,
    });
    const timer = this.network.clock.setTimeout(() => secure.destroy(), 10_000);
    const selected = await readSelector(secure).finally(() => timer.cancel());
    if (selected === undefined || this.closed) {
      secure.destroy();
      return;
    }
    const remote = secure.remoteIdentity;
    if (selected.selector === SELECTOR_GOSSIP) {
      // The selector wrapper hides `remoteIdentity`: gossip is told whom Noise authenticated.
      this.gossip.addStream(selected.stream, { outbound: false, expectedPeerId: remote });
    } else if (selected.selector === SELECTOR_CONTROL) {
      const peer = hex(remote);
      await serveControl(selected.stream, this.codecs, (request) => {
        if (!this.peerRate.take(peer)) {
          return { type: 'error', code: 'RATE_LIMITED', message: 'too many requests' };
        }
        if (request.type === 'dm') return this.handleDm(request.envelope, remote);
        const messages = this.rooms.has(request.room)
          ? this.history.recent(request.room, request.limit).map((m) => this.codec.encodeRoom(m))
          : [];
        return { type: 'history', room: request.room, messages };
      });
    } else {
      secure.destroy();
    }
  }

  // ---- gossip ------------------------------------------------------------------------------

  /** gossip's validation hook: verify, then accept / ignore / reject (scores the sender down). */
  private validate(
    topic: string,
    data: Uint8Array,
    author: Uint8Array | undefined,
    from: string,
  ): 'accept' | 'reject' | 'ignore' {
    const room = roomOfTopic(topic);
    if (room === undefined || !this.rooms.has(room)) return 'ignore';
    const verdict = validateRoomMessage(data, room, author, {
      codec: this.codec,
      limits: this.limits,
      window: this.window,
      history: this.history,
      rate: this.authorRate,
      now: this.wallNow(),
    });
    if (verdict.result === 'accept') {
      this.history.add(verdict.message);
      return 'accept';
    }
    if (verdict.result === 'reject') {
      // Scored after gossip applied the rejection; report it on the next tick.
      const peer = peerIdOfKey(from);
      const event: ChatEvent = {
        type: 'rejected',
        room,
        reason: verdict.reason,
        peer,
        detail: verdict.detail,
        ...(verdict.message ? { author: formatPeerId(verdict.message.author) } : {}),
      };
      this.network.clock.setTimeout(() => {
        if (!this.closed) this.emit({ ...event, score: this.gossip.score(from) });
      }, 0);
    } else if (verdict.reason === 'RATE_LIMITED') {
      this.emit({
        type: 'warning',
        message: `dropped a message from a flooding author in ${room}`,
      });
    }
    return verdict.result;
  }

  private onGossip(topic: string, data: Uint8Array): void {
    const room = roomOfTopic(topic);
    if (room === undefined) return;
    try {
      const m = this.codec.decodeRoom(data); // accepted by `validate` just before
      this.book.learnNick(m.author, m.nick);
      this.emit({ type: 'message', own: false, ...messageView(m) });
    } catch {
      // cannot happen for an accepted message; nothing to show otherwise
    }
  }

  /** gossip's peer events: joins, leaves, and hellos refused for naming another identity. */
  private onPeerEvent(event: PeerEvent): void {
    if (this.closed) return;
    if (event.type === 'connect') this.emit(this.book.joined(event.peer));
    else if (event.type === 'disconnect') this.emit(this.book.left(event.peer));
    else if (event.expected !== undefined && event.claimed !== undefined) {
      this.emit({
        type: 'rejected',
        reason: 'AUTHOR_MISMATCH',
        peer: peerIdOfKey(event.expected),
        detail: `gossip hello claims ${peerIdOfKey(event.claimed)}, not the identity Noise proved`,
        score: this.gossip.score(event.expected),
      });
    }
  }

  /** Connected peers with what we know of them. */
  peers(): PeerView[] {
    return this.gossip.peers().map((p) =>
      this.book.view(
        p,
        this.gossip.score(p),
        this.joinedRooms.filter((r) => this.gossip.subscribers(roomTopic(r)).includes(p)),
      ),
    );
  }

  /** Nicknames seen in signed messages, by peer id. */
  knownNicks(): Map<string, string> {
    return this.book.nicknames();
  }

  private async announceSelf(): Promise<void> {
    if (this.options.transient) return;
    try {
      await this.dht.announce(peerKeyOf(this.identity.publicKey), this.address.port);
    } catch (error) {
      if (!this.closed) {
        this.emit({ type: 'warning', message: `DHT announce failed: ${(error as Error).message}` });
      }
    }
  }

  private wallNow(): number {
    return Math.floor((this.options.wallClock ?? Date.now)());
  }

  /**
   * Sequence numbers grow across restarts without a state file: the next one is at least the
   * wall clock in microseconds (README, "Envelope formats").
   */
  private nextSeq(): number {
    this.lastSeq = Math.max(this.lastSeq + 1, this.wallNow() * 1000);
    return this.lastSeq;
  }

  private checkOpen(): void {
    if (this.closed) throw new ChatError('CLOSED', 'the node is closed');
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Stops rendezvous, gossip, the listener, the DHT and every connection. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) t.cancel();
    for (const r of this.rooms.values()) r.timer?.cancel();
    this.outbox.close();
    await this.gossip.close();
    await this.listener?.close();
    for (const s of this.inbound) s.destroy();
    await this.dht.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
