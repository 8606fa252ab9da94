/**
 * `MessengerNode`: one peerkit-chat peer. It builds its parts in dependency order, so none of
 * them is bound late, and owns their I/O:
 *
 * - `ChatContext`: identity, limits, codecs, peer book, events (`chat-context.ts`),
 * - a DHT node (rendezvous: room members and peer addresses, see `rendezvous.ts`),
 * - `RoomValidation`, gossip's validation hook (`room-validation.ts`),
 * - a gossip node (`@peerkit/gossip`) for room messages, dialling through the Noise upgrade,
 * - `Rooms` (`rooms.ts`) and `DirectMessages` (`direct-messages.ts`),
 * - one TCP listener whose streams go to the `InboundSelector` (`inbound.ts`): Noise XX, then a
 *   first byte that selects gossip or control.
 *
 * Everything it reports goes out as `ChatEvent`s (peerkit's `Emitter` convention: a handler that
 * throws is reported and isolated); `close()` stops every socket and timer.
 */
import { GossipNode, type PeerEvent } from '@peerkit/gossip';
import { DHT } from '@peerkit/kademlia';
import type { Identity } from '@peerkit/noise';
import {
  type Address,
  type EventHandler,
  formatAddress,
  type Network,
  type StreamListener,
  type Timer,
} from '@peerkit/transport';
import { ChatContext } from './chat-context';
import { DirectMessages } from './direct-messages';
import type { EnvelopeCodec, RoomMessage } from './envelope';
import { ChatError } from './errors';
import type { ChatEvent, ChatEvents } from './events';
import type { HistoryStore } from './history';
import { InboundSelector, upgradeOutbound } from './inbound';
import { type ChatLimits, maxEnvelopeSize } from './limits';
import type { MessengerOptions } from './options';
import { type PeerView, peerIdOfKey } from './peer-book';
import { formatPeerId } from './peer-id';
import { peerKeyOf, roomTopic } from './rendezvous';
import { RoomValidation } from './room-validation';
import { Rooms } from './rooms';

export type { MessengerOptions } from './options';

/** Largest gossip frame a messenger node accepts or sends (an RPC of envelopes, IHAVE ids). */
const GOSSIP_MAX_RPC_BYTES = 512 * 1024;

export class MessengerNode {
  readonly network: Network;
  readonly identity: Identity;
  readonly id: string;
  readonly limits: ChatLimits;
  readonly codec: EnvelopeCodec;
  readonly history: HistoryStore;
  readonly dht: DHT;
  readonly gossip: GossipNode;
  private readonly ctx: ChatContext;
  private readonly rooms: Rooms;
  private readonly dms: DirectMessages;
  private readonly inbound: InboundSelector;
  private readonly listener: StreamListener;
  private timers: Timer[] = [];

  private constructor(
    ctx: ChatContext,
    dht: DHT,
    gossip: GossipNode,
    validation: RoomValidation,
    listener: StreamListener,
    inbound: InboundSelector,
    rooms: Rooms,
    dms: DirectMessages,
  ) {
    this.ctx = ctx;
    this.network = ctx.network;
    this.identity = ctx.identity;
    this.id = formatPeerId(ctx.identity.publicKey);
    this.limits = ctx.limits;
    this.codec = ctx.codec;
    this.history = validation.history;
    this.dht = dht;
    this.gossip = gossip;
    this.listener = listener;
    this.inbound = inbound;
    this.rooms = rooms;
    this.dms = dms;
    gossip.on('peer', (event) => this.onPeerEvent(event));
  }

  /** Starts the DHT, gossip and the listener; joins the DHT through `bootstrap`. */
  static async start(options: MessengerOptions): Promise<MessengerNode> {
    const { network } = options;
    const host = options.host ?? '0.0.0.0';
    const ctx = new ChatContext(options);
    const dht = new DHT({
      network,
      rpc: options.dhtRpc ?? { retries: 1 },
      ...(options.transient ? { readOnly: true } : {}),
      ...(options.dhtState ? { state: options.dhtState } : {}),
    });
    let gossip: GossipNode | undefined;
    let listener: StreamListener | undefined;
    try {
      await dht.listen({ host, port: options.dhtPort ?? 0 });
      const validation = new RoomValidation(ctx);
      // Gossip dials through `upgrade` (Noise + selector); it does not listen itself: our
      // listener accepts every connection and hands gossip the ones that select it.
      gossip = await GossipNode.create(network, {
        heartbeatIntervalMs: 700,
        ...options.gossip,
        // Room messages are envelopes: a gossip frame never needs gossip's 4 MiB default, and
        // each connection may buffer one incomplete frame (docs/security.md, "Messenger").
        limits: {
          maxMessageSize: maxEnvelopeSize(ctx.limits),
          maxRpcSize: GOSSIP_MAX_RPC_BYTES,
          ...options.gossip?.limits,
        },
        identitySeed: options.identity.secretKey,
        // gossip's default message ids (author || seqno): gossip starts each run's seqno at a
        // random point, so a restarted node's new messages never collide with its old ones in
        // the peers' seen caches (README, "How it works").
        validator: (message, from) =>
          validation.validate(message.topic, message.data, message.from, from),
        upgrade: (stream, outbound) => upgradeOutbound(ctx, stream, outbound),
      });
      const rooms = new Rooms(ctx, dht, gossip, validation);
      const dms = new DirectMessages(ctx, dht);
      const inbound = new InboundSelector(ctx, gossip, {
        history: (room, limit, before) => rooms.answerHistory(room, limit, before),
        dm: (envelope, remote) => dms.receive(envelope, remote),
      });
      listener = await network.listen({ host, port: options.port ?? 0 }, (stream) =>
        inbound.accept(stream),
      );
      ctx.setListenAddress(listener.localAddress);
      const node = new MessengerNode(ctx, dht, gossip, validation, listener, inbound, rooms, dms);
      node.timers.push(network.clock.setInterval(() => void node.announceSelf(), 5 * 60_000));
      await dht.bootstrap(options.bootstrap ?? []);
      if (dht.table.size === 0) {
        ctx.events.report({
          type: 'warning',
          message: 'no DHT node answered: nobody can be found; pass --bootstrap host:port',
        });
      }
      void node.announceSelf();
      ctx.events.report({
        type: 'ready',
        id: node.id,
        address: formatAddress(node.address),
        dhtAddress: formatAddress(dht.address),
      });
      return node;
    } catch (error) {
      ctx.closed = true;
      await gossip?.close();
      await listener?.close();
      await dht.close();
      throw error;
    }
  }

  /** Our TCP listen address. */
  get address(): Address {
    return this.listener.localAddress;
  }

  /** Display name sent with our messages. */
  get nick(): string | undefined {
    return this.ctx.nick;
  }
  set nick(nick: string | undefined) {
    this.ctx.nick = nick;
  }

  /**
   * Registers an event handler; returns the function that removes it. `on(handler)` receives
   * every event; `on(type, handler)` the events of one type. A handler that throws is reported
   * (the `onHandlerError` option; default stderr) and the other handlers still run.
   */
  on(handler: EventHandler<ChatEvent>): () => void;
  on<K extends keyof ChatEvents>(event: K, handler: EventHandler<ChatEvents[K]>): () => void;
  on<K extends keyof ChatEvents>(
    eventOrHandler: K | EventHandler<ChatEvent>,
    handler?: EventHandler<ChatEvents[K]>,
  ): () => void {
    if (typeof eventOrHandler === 'function') return this.ctx.events.on('event', eventOrHandler);
    return this.ctx.events.on(eventOrHandler, handler as EventHandler<ChatEvents[K]>);
  }

  // ---- rooms -------------------------------------------------------------------------------

  /** Joins a room: subscribes, announces, connects to the members found and fetches history. */
  async join(room: string): Promise<void> {
    this.checkOpen();
    await this.rooms.join(room);
  }

  get joinedRooms(): string[] {
    return this.rooms.joined;
  }

  /** Messages stored for `room` (ours, live and imported), oldest first. */
  recentMessages(room: string, limit?: number): RoomMessage[] {
    return this.history.recent(room, limit);
  }

  /** Adds saved messages (e.g. from disk); each is verified. Returns how many were new. */
  importHistory(room: string, messages: RoomMessage[]): number {
    return this.rooms.importHistory(room, messages);
  }

  /**
   * Signs and publishes `text` to `room`. Resolves with the message and the number of peers it
   * was sent to (0: no member connected yet; it stays in our history for late joiners).
   */
  say(room: string, text: string): { message: RoomMessage; recipients: number } {
    this.checkOpen();
    return this.rooms.say(room, text);
  }

  /**
   * Publishes envelope bytes as they are, without checks: for tests that play a misbehaving
   * node. Returns the number of peers it went to.
   */
  publishRaw(room: string, data: Uint8Array): number {
    this.checkOpen();
    return this.rooms.publish(room, data);
  }

  /** Room members currently connected (peer ids). */
  roomPeers(room: string): string[] {
    return this.rooms.peers(room);
  }

  /** Member addresses the DHT gave us for `room`. */
  roomAddresses(room: string): Address[] {
    return this.rooms.addresses(room);
  }

  /** Asks `address` whether it has our message (proof that it was delivered there). */
  hasMessage(address: Address, message: RoomMessage): Promise<boolean> {
    return this.rooms.hasMessage(address, message);
  }

  // ---- direct messages ---------------------------------------------------------------------

  /**
   * Sends a direct message to `to` (a public key) over a direct secure stream. If the recipient
   * cannot be reached, the message waits in the outbox and is retried while the node runs
   * (`dm-pending` events), until `dm-delivered`.
   */
  async sendDm(to: Uint8Array, text: string): Promise<{ id: string; delivered: boolean }> {
    this.checkOpen();
    return this.dms.send(to, text);
  }

  get pendingDms(): number {
    return this.dms.pending;
  }

  // ---- peers -------------------------------------------------------------------------------

  /** gossip's peer events: joins, leaves, and hellos refused for naming another identity. */
  private onPeerEvent(event: PeerEvent): void {
    const { ctx } = this;
    if (ctx.closed) return;
    if (event.type === 'connect') ctx.events.report(ctx.book.joined(event.peer));
    else if (event.type === 'disconnect') ctx.events.report(ctx.book.left(event.peer));
    else if (event.expected !== undefined && event.claimed !== undefined) {
      ctx.events.report({
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
      this.ctx.book.view(
        p,
        this.gossip.score(p),
        this.joinedRooms.filter((r) => this.gossip.subscribers(roomTopic(r)).includes(p)),
      ),
    );
  }

  /** Nicknames seen in signed messages, by peer id. */
  knownNicks(): Map<string, string> {
    return this.ctx.book.nicknames();
  }

  private async announceSelf(): Promise<void> {
    if (this.ctx.options.transient) return;
    try {
      await this.dht.announce(peerKeyOf(this.identity.publicKey), this.address.port);
    } catch (error) {
      if (!this.ctx.closed) {
        this.ctx.events.report({
          type: 'warning',
          message: `DHT announce failed: ${(error as Error).message}`,
        });
      }
    }
  }

  private checkOpen(): void {
    if (this.ctx.closed) throw new ChatError('CLOSED', 'the node is closed');
  }

  get isClosed(): boolean {
    return this.ctx.closed;
  }

  /** Stops rendezvous, gossip, the listener, the DHT and every connection. Idempotent. */
  async close(): Promise<void> {
    if (this.ctx.closed) return;
    this.ctx.closed = true;
    for (const t of this.timers) t.cancel();
    this.rooms.close();
    this.dms.close();
    await this.gossip.close();
    await this.listener.close();
    this.inbound.close();
    await this.dht.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
