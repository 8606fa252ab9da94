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

/** How long an accepted connection may take to send its selector byte. */
const SELECTOR_TIMEOUT_MS = 10_000;

/** What a control connection's requests are answered with. */
export interface ControlHandlers {
  history(room: string, limit: number): ControlResponse;
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

/** Accepted streams: Noise as responder, then the selector byte picks gossip or control. */
export class InboundSelector {
  private readonly inbound = new Set<Stream>();
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

  /** The listener's callback. */
  accept(raw: Stream): void {
    if (this.ctx.closed) {
      raw.destroy();
      return;
    }
    this.inbound.add(raw);
    void raw.closed.then(() => this.inbound.delete(raw));
    void this.handle(raw).catch(() => raw.destroy());
  }

  private async handle(raw: Stream): Promise<void> {
    const { ctx } = this;
    const secure = await secureInbound(raw, {
      identity: ctx.identity,
      clock: ctx.network.clock,
      prologue: PROLOGUE,
    });
    const timer = ctx.network.clock.setTimeout(() => secure.destroy(), SELECTOR_TIMEOUT_MS);
    const selected = await readSelector(secure).finally(() => timer.cancel());
    if (selected === undefined || ctx.closed) {
      secure.destroy();
      return;
    }
    const remote = secure.remoteIdentity;
    if (selected.selector === SELECTOR_GOSSIP) {
      // The selector wrapper hides `remoteIdentity`: gossip is told whom Noise authenticated.
      this.gossip.addStream(selected.stream, { outbound: false, expectedPeerId: remote });
    } else if (selected.selector === SELECTOR_CONTROL) {
      const peer = toHex(remote);
      await serveControl(selected.stream, ctx.codecs, (request: ControlRequest) => {
        if (!this.peerRate.take(peer)) {
          return { type: 'error', code: 'RATE_LIMITED', message: 'too many requests' };
        }
        if (request.type === 'dm') return this.handlers.dm(request.envelope, remote);
        return this.handlers.history(request.room, request.limit);
      });
    } else {
      secure.destroy();
    }
  }

  /** Destroys every accepted stream. */
  close(): void {
    for (const s of this.inbound) s.destroy();
  }
}
