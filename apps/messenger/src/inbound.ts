/**
 * The connections of a messenger node (README, "Connections"): every accepted TCP stream is a
 * Noise XX session bound to the peer's Ed25519 identity, whose first byte selects what it is
 * for (gossip or control). `InboundSelector` runs that for accepted streams;
 * `upgradeOutbound` is the same on gossip's own dials.
 */
import type { GossipNode } from '@peerkit/gossip';
import { toHex } from '@peerkit/kademlia';
import { equalKeys, secureInbound, secureOutbound } from '@peerkit/noise';
import { RateLimiter, type Stream } from '@peerkit/transport';
import type { ChatContext } from './chat-context';
import {
  type ControlRequest,
  type ControlResponse,
  SELECTOR_CONTROL,
  SELECTOR_GOSSIP,
} from './control';
import { PROLOGUE, serveControl } from './control-channel';
import { ChatError } from './errors';
import { readSelector } from './streams';

/** What a control connection's requests are answered with. */
export interface ControlHandlers {
  history(room: string, limit: number, before?: number): ControlResponse;
  dm(envelope: Uint8Array, remote: Uint8Array): ControlResponse;
}

/** Gossip's dials: Noise XX as initiator, then the gossip selector. */
export async function upgradeOutbound(
  ctx: ChatContext,
  stream: Stream,
  outbound: boolean,
): Promise<Stream> {
  if (!outbound) throw new ChatError('CLOSED', 'gossip does not accept streams itself');
  const secure = await secureOutbound(stream, {
    identity: ctx.identity,
    clock: ctx.network.clock,
    prologue: PROLOGUE,
  });
  if (equalKeys(secure.remoteIdentity, ctx.identity.publicKey)) {
    // Noise proved that this address is us: never dial it again.
    ctx.learnSelf(stream.remoteAddress);
    secure.destroy();
    throw new ChatError('CLOSED', 'dialled ourselves');
  }
  ctx.book.learnAddress(secure.remoteIdentity, stream.remoteAddress);
  await secure.write(Uint8Array.of(SELECTOR_GOSSIP));
  // A Noise `SecureStream` carries `remoteIdentity`: gossip refuses a hello naming anyone else.
  return secure;
}

/** An accepted connection, from its first byte to its end. */
interface Held {
  readonly raw: Stream;
  /** The remote IP (the eviction policy counts connections per IP). */
  readonly ip: string;
  /** Noise done and the selector read: the peer proved an identity and said what it wants. */
  established: boolean;
}

/**
 * Accepted streams: Noise as responder, then the selector byte picks gossip or control.
 *
 * At most `maxConnections` are held. A new one beyond that evicts one (docs/security.md,
 * "Messenger"): a connection still in its handshake before an established one, and among those
 * the oldest of the IP holding the most; so one source opening thousands of raw connections
 * churns through its own, never through the established peers of others. The handshake and
 * the selector byte must arrive within `progressTimeoutMs`.
 */
export class InboundSelector {
  private readonly held = new Set<Held>();
  private readonly peerRate: RateLimiter;

  constructor(
    private readonly ctx: ChatContext,
    private readonly gossip: GossipNode,
    private readonly handlers: ControlHandlers,
  ) {
    this.peerRate = new RateLimiter(
      ctx.network.clock,
      ctx.limits.ratePerSecond,
      ctx.limits.rateBurst,
    );
  }

  /** Connections held now. */
  get size(): number {
    return this.held.size;
  }

  /** The listener's callback. */
  accept(raw: Stream): void {
    if (this.ctx.closed) {
      raw.destroy();
      return;
    }
    if (this.held.size >= this.ctx.limits.maxConnections) this.evictOne();
    const entry: Held = { raw, ip: raw.remoteAddress.host, established: false };
    this.held.add(entry);
    void raw.closed.then(() => this.held.delete(entry));
    void this.handle(entry).catch(() => raw.destroy());
  }

  /** Makes room: the oldest connection of the busiest IP, handshaking ones first. */
  private evictOne(): void {
    const pending = [...this.held].filter((h) => !h.established);
    const pool = pending.length > 0 ? pending : [...this.held];
    const perIp = new Map<string, number>();
    for (const h of pool) perIp.set(h.ip, (perIp.get(h.ip) ?? 0) + 1);
    let busiest: string | undefined;
    for (const [ip, n] of perIp)
      if (busiest === undefined || n > (perIp.get(busiest) ?? 0)) busiest = ip;
    // Sets iterate in insertion order: the first match is the oldest.
    const victim = pool.find((h) => h.ip === busiest);
    if (victim === undefined) return;
    this.held.delete(victim);
    victim.raw.destroy(new ChatError('CLOSED', 'connection limit: evicted'));
  }

  private async handle(entry: Held): Promise<void> {
    const { ctx } = this;
    const { raw } = entry;
    const timeoutMs = ctx.limits.progressTimeoutMs;
    const secure = await secureInbound(raw, {
      identity: ctx.identity,
      clock: ctx.network.clock,
      prologue: PROLOGUE,
      timeoutMs,
    });
    const timer = ctx.network.clock.setTimeout(() => secure.destroy(), timeoutMs);
    const selected = await readSelector(secure).finally(() => timer.cancel());
    if (selected === undefined || ctx.closed) {
      secure.destroy();
      return;
    }
    entry.established = true;
    const remote = secure.remoteIdentity;
    if (selected.selector === SELECTOR_GOSSIP) {
      // The selector wrapper keeps `remoteIdentity`: gossip refuses a hello naming anyone else.
      this.gossip.addStream(selected.stream, { outbound: false });
    } else if (selected.selector === SELECTOR_CONTROL) {
      const peer = toHex(remote);
      await serveControl(
        selected.stream,
        ctx.codecs,
        (request: ControlRequest) => {
          if (!this.peerRate.take(peer)) {
            return { type: 'error', code: 'RATE_LIMITED', message: 'too many requests' };
          }
          if (request.type === 'dm') return this.handlers.dm(request.envelope, remote);
          return this.handlers.history(request.room, request.limit, request.before);
        },
        { clock: ctx.network.clock, timeoutMs },
      );
    } else {
      secure.destroy();
    }
  }

  /** Destroys every accepted stream. */
  close(): void {
    for (const h of this.held) h.raw.destroy();
  }
}
