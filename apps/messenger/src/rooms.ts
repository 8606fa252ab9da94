/**
 * Rooms (README, "Rooms"): joining (subscribe, announce under the room key, dial the members the
 * DHT returns, fetch their history), saying something (sign, store, publish), and what arrives
 * from gossip for a room. Validation of incoming messages is `RoomValidation`'s.
 */
import { type GossipNode, isGossipError } from '@peerkit/gossip';
import type { DHT } from '@peerkit/kademlia';
import { equalKeys } from '@peerkit/noise';
import { type Address, formatAddress, type Timer } from '@peerkit/transport';
import type { ChatContext } from './chat-context';
import type { ControlResponse } from './control';
import type { RoomMessage } from './envelope';
import { ChatError } from './errors';
import { messageView } from './events';
import { checkText } from './limits';
import { peerIdOfKey } from './peer-book';
import { formatPeerId } from './peer-id';
import { checkRoomName, roomKey, roomOfTopic, roomTopic } from './rendezvous';
import type { RoomValidation } from './room-validation';

/** History pages fetched from one member at most, when joining a room. */
const MAX_HISTORY_PAGES = 8;

interface RoomState {
  timer: Timer | undefined;
  /** Member addresses found in the DHT (`host:port`). */
  addresses: Map<string, Address>;
}

export class Rooms {
  private readonly rooms = new Map<string, RoomState>();
  /** Member addresses already handed to gossip to dial (`host:port`). */
  private readonly dialedAddresses = new Set<string>();
  private lastSeq = 0;

  constructor(
    private readonly ctx: ChatContext,
    private readonly dht: DHT,
    private readonly gossip: GossipNode,
    private readonly validation: RoomValidation,
  ) {
    gossip.on('message', ({ message }) => this.onGossip(message.topic, message.data));
    // gossip applies the rejection's score penalty after the validator returns: report the
    // score on the next tick.
    validation.rejections.on('rejected', ({ event, from }) => {
      ctx.network.clock.setTimeout(() => {
        if (!ctx.closed) ctx.events.report({ ...event, score: gossip.score(from) });
      }, 0);
    });
  }

  get history() {
    return this.validation.history;
  }

  /** Joins a room: subscribes, announces, connects to the members found and fetches history. */
  async join(room: string): Promise<void> {
    checkRoomName(room, this.ctx.limits);
    if (this.rooms.has(room)) return;
    this.rooms.set(room, { timer: undefined, addresses: new Map() });
    this.validation.joined.add(room);
    this.gossip.subscribe(roomTopic(room));
    this.ctx.events.report({ type: 'joined', room });
    await this.rendezvous(room, true);
  }

  has(room: string): boolean {
    return this.rooms.has(room);
  }

  get joined(): string[] {
    return [...this.rooms.keys()];
  }

  /** Announces ourselves under the room key and connects to the members the lookup found. */
  private async rendezvous(room: string, first: boolean): Promise<void> {
    const state = this.rooms.get(room);
    const { ctx } = this;
    if (state === undefined || ctx.closed) return;
    let found: Address[] = [];
    try {
      if (ctx.options.transient) found = await this.dht.getPeers(roomKey(room));
      else found = (await this.dht.announce(roomKey(room), ctx.listenAddress.port)).peers;
    } catch (error) {
      ctx.events.report({
        type: 'warning',
        message: `DHT announce failed: ${(error as Error).message}`,
      });
    }
    if (ctx.closed) return;
    const fresh: Address[] = [];
    for (const address of found) {
      if (ctx.isSelf(address)) continue;
      const key = formatAddress(address);
      state.addresses.set(key, address);
      if (!this.dialedAddresses.has(key)) {
        this.dialedAddresses.add(key);
        fresh.push(address);
        this.gossip.connect(address);
      }
    }
    ctx.events.report({
      type: 'rendezvous',
      room,
      found: state.addresses.size,
      dialed: fresh.length,
    });
    if (first) await this.fetchHistory(room, fresh.slice(0, 3));
    if (ctx.closed || !this.rooms.has(room)) return;
    const alone = this.gossip.subscribers(roomTopic(room)).length === 0;
    const delay = alone ? (ctx.options.aloneRetryMs ?? 2000) : (ctx.options.refreshMs ?? 15_000);
    state.timer = ctx.network.clock.setTimeout(() => void this.rendezvous(room, false), delay);
  }

  /** Asks members for recent history, verifies each message and reports the new ones in order. */
  private async fetchHistory(room: string, addresses: Address[]): Promise<void> {
    const { ctx } = this;
    const results = await Promise.allSettled(
      addresses.map((address) => this.fetchPages(address, room)),
    );
    for (const r of results) {
      if (r.status !== 'fulfilled') continue;
      const { source, decoded, bad } = r.value;
      const imported = this.history.import(room, decoded);
      this.validation.record(imported.added);
      for (const m of imported.added) ctx.book.learnNick(m.author, m.nick);
      if (bad + imported.rejected > 0) {
        ctx.events.report({
          type: 'rejected',
          room,
          reason: 'BAD_SIGNATURE',
          peer: formatPeerId(source),
          detail: `${bad + imported.rejected} history message(s) failed verification`,
        });
      }
      if (imported.added.length > 0) {
        ctx.events.report({
          type: 'history',
          room,
          source: formatPeerId(source),
          messages: imported.added.map(messageView),
        });
      }
    }
  }

  /**
   * A member's history, page by page (newest page first), until `maxHistory` messages, the
   * member has no more, or `MAX_HISTORY_PAGES` pages. Undecodable entries are counted.
   */
  private async fetchPages(
    address: Address,
    room: string,
  ): Promise<{ source: Uint8Array; decoded: RoomMessage[]; bad: number }> {
    const { ctx } = this;
    const decoded: RoomMessage[] = [];
    let bad = 0;
    let source: Uint8Array | undefined;
    let before: number | undefined;
    for (let page = 0; page < MAX_HISTORY_PAGES && decoded.length < ctx.limits.maxHistory; page++) {
      const limit = ctx.limits.maxHistory - decoded.length;
      const { response, remoteIdentity } = await ctx.request(
        address,
        { type: 'history', room, limit, ...(before === undefined ? {} : { before }) },
        source,
      );
      source = remoteIdentity;
      if (response.type !== 'history') break;
      let oldest: number | undefined;
      for (const bytes of response.messages) {
        try {
          const m = ctx.codec.decodeRoom(bytes);
          decoded.push(m);
          oldest = oldest === undefined ? m.ts : Math.min(oldest, m.ts);
        } catch {
          bad++;
        }
      }
      if (!response.more || oldest === undefined) break;
      before = oldest;
    }
    if (source === undefined) throw new ChatError('TIMEOUT', 'no history answer');
    return { source, decoded, bad };
  }

  /** Adds saved messages (e.g. from disk); each is verified. Returns how many were new. */
  importHistory(room: string, messages: RoomMessage[]): number {
    const { added } = this.history.import(room, messages);
    this.validation.record(added);
    return added.length;
  }

  /** Signs, stores and publishes `text` to `room`. */
  say(room: string, text: string): { message: RoomMessage; recipients: number } {
    const { ctx } = this;
    if (!this.rooms.has(room)) throw new ChatError('BAD_INPUT', `not in room '${room}'`);
    const message = ctx.codec.signRoom(ctx.identity, {
      room,
      ts: ctx.wallNow(),
      seq: this.nextSeq(),
      text: checkText(text, ctx.limits),
      ...(ctx.nick !== undefined ? { nick: ctx.nick } : {}),
    });
    this.history.add(message);
    this.validation.record([message]);
    ctx.events.report({ type: 'message', own: true, ...messageView(message) });
    return { message, recipients: this.publish(room, ctx.codec.encodeRoom(message)) };
  }

  /** Publishes envelope bytes as they are; 0 recipients when no member is connected yet. */
  publish(room: string, data: Uint8Array): number {
    try {
      return this.gossip.publish(roomTopic(room), data).recipients;
    } catch (error) {
      if (isGossipError(error) && error.code === 'NO_PEERS_SUBSCRIBED') return 0;
      throw error;
    }
  }

  /**
   * Sequence numbers grow across restarts without a state file: the next one is at least the
   * wall clock in microseconds (README, "Envelope formats").
   */
  private nextSeq(): number {
    this.lastSeq = Math.max(this.lastSeq + 1, this.ctx.wallNow() * 1000);
    return this.lastSeq;
  }

  /** Room members currently connected (peer ids). */
  peers(room: string): string[] {
    return this.gossip.subscribers(roomTopic(room)).map((k) => peerIdOfKey(k));
  }

  /** Member addresses the DHT gave us for `room`. */
  addresses(room: string): Address[] {
    return [...(this.rooms.get(room)?.addresses.values() ?? [])];
  }

  /** Asks `address` whether it has our message (proof that it was delivered there). */
  async hasMessage(address: Address, message: RoomMessage): Promise<boolean> {
    const { ctx } = this;
    // The page that ends at the message's own timestamp holds it, if the member has it.
    const { response } = await ctx.request(address, {
      type: 'history',
      room: message.room,
      limit: ctx.limits.maxHistory,
      before: message.ts + 1,
    });
    if (response.type !== 'history') return false;
    for (const bytes of response.messages) {
      try {
        const m = ctx.codec.decodeRoom(bytes);
        if (equalKeys(m.author, message.author) && m.seq === message.seq) return true;
      } catch {
        // a malformed entry proves nothing
      }
    }
    return false;
  }

  /**
   * A history request from a connected peer: the newest of the last `limit` messages of a room
   * we are in (older than `before` when given) that fit in `maxHistoryResponseBytes`, oldest
   * first; `more` when older ones were left out. An answer is thus bounded whatever the request
   * (docs/security.md, "Messenger").
   */
  answerHistory(room: string, limit: number, before?: number): ControlResponse {
    if (!this.rooms.has(room)) return { type: 'history', room, messages: [] };
    let list = this.history.recent(room);
    if (before !== undefined) list = list.filter((m) => m.ts < before);
    const candidates = list.slice(Math.max(0, list.length - limit));
    const messages: Uint8Array[] = [];
    let bytes = 0;
    for (let i = candidates.length - 1; i >= 0; i--) {
      const encoded = this.ctx.codec.encodeRoom(candidates[i] as RoomMessage);
      if (bytes + encoded.length > this.ctx.limits.maxHistoryResponseBytes) break;
      bytes += encoded.length;
      messages.push(encoded);
    }
    messages.reverse();
    const more = messages.length < list.length;
    return { type: 'history', room, messages, ...(more ? { more: true } : {}) };
  }

  private onGossip(topic: string, data: Uint8Array): void {
    const room = roomOfTopic(topic);
    if (room === undefined) return;
    try {
      const m = this.ctx.codec.decodeRoom(data); // accepted by `validate` just before
      this.ctx.book.learnNick(m.author, m.nick);
      this.ctx.events.report({ type: 'message', own: false, ...messageView(m) });
    } catch {
      // cannot happen for an accepted message; nothing to show otherwise
    }
  }

  /** Stops the rendezvous timers. */
  close(): void {
    for (const r of this.rooms.values()) r.timer?.cancel();
  }
}
