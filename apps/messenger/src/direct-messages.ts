/**
 * Direct messages (README, "Direct messages"): sending through the outbox (retried while the
 * recipient is unreachable), one delivery attempt (known address, then the DHT), and receiving
 * one over a control connection (checks in `dm.ts`).
 */
import type { DHT } from '@peerkit/kademlia';
import { toHex } from '@peerkit/kademlia';
import { equalKeys } from '@peerkit/noise';
import { type Address, formatAddress } from '@peerkit/transport';
import type { ChatContext } from './chat-context';
import type { ControlResponse } from './control';
import { receiveDm } from './dm';
import { DmOutbox } from './dm-outbox';
import { ChatError } from './errors';
import { dmView } from './events';
import { checkText } from './limits';
import { peerKeyOf } from './rendezvous';

/** DM ids remembered to show each DM once (a retried delivery is acknowledged again). */
const RECENT_DMS = 4096;

export class DirectMessages {
  private readonly outbox: DmOutbox;
  private readonly recent = new Set<string>();

  constructor(
    private readonly ctx: ChatContext,
    private readonly dht: DHT,
  ) {
    this.outbox = new DmOutbox({
      clock: ctx.network.clock,
      maxPending: ctx.limits.maxPendingDms,
      deliver: (to, envelope) => this.deliver(to, envelope),
      encode: (m) => ctx.codec.encodeDm(m),
      ...(ctx.options.dmRetryMs !== undefined ? { firstRetryMs: ctx.options.dmRetryMs } : {}),
      emit: (event) => ctx.events.report(event),
      // Re-signed once half the recipients' time window has passed (README, "Limits").
      refresh: (m) =>
        ctx.wallNow() - m.ts < ctx.limits.maxMessageAgeMs / 2
          ? undefined
          : ctx.codec.signDm(ctx.identity, {
              to: m.to,
              id: m.id,
              ts: ctx.wallNow(),
              text: m.text,
              ...(m.nick !== undefined ? { nick: m.nick } : {}),
            }),
    });
  }

  /** Signs a DM to `to` and sends it; it waits in the outbox while undeliverable. */
  send(to: Uint8Array, text: string): Promise<{ id: string; delivered: boolean }> {
    const { ctx } = this;
    if (equalKeys(to, ctx.identity.publicKey)) {
      throw new ChatError('BAD_INPUT', 'that is your own peer id');
    }
    const envelope = ctx.codec.signDm(ctx.identity, {
      to,
      id: ctx.network.random.bytes(16),
      ts: ctx.wallNow(),
      text: checkText(text, ctx.limits),
      ...(ctx.nick !== undefined ? { nick: ctx.nick } : {}),
    });
    return this.outbox.send(envelope);
  }

  get pending(): number {
    return this.outbox.size;
  }

  /** One delivery attempt: known addresses of the recipient, then the DHT. */
  private async deliver(to: Uint8Array, envelope: Uint8Array): Promise<void> {
    const { ctx } = this;
    const candidates = new Map<string, Address>();
    const known = ctx.book.address(to);
    if (known) candidates.set(formatAddress(known), known);
    if (candidates.size === 0) {
      for (const a of await this.dht.getPeers(peerKeyOf(to))) {
        if (!ctx.isSelf(a)) candidates.set(formatAddress(a), a);
      }
    }
    if (candidates.size === 0) throw new ChatError('TIMEOUT', 'recipient not found in the DHT');
    let lastError: unknown;
    for (const address of candidates.values()) {
      try {
        const { response } = await ctx.request(address, { type: 'dm', envelope }, to);
        if (response.type === 'ack') {
          ctx.book.learnAddress(to, address);
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

  /** A DM that arrived on a control connection from the authenticated peer `remote`. */
  receive(envelope: Uint8Array, remote: Uint8Array): ControlResponse {
    const { ctx } = this;
    const { response, message } = receiveDm(
      ctx.codec,
      envelope,
      ctx.identity.publicKey,
      remote,
      ctx.wallNow(),
      ctx.limits,
    );
    if (message === undefined) return response;
    const id = toHex(message.id);
    if (!this.recent.has(id)) {
      if (this.recent.size >= RECENT_DMS) this.recent.clear();
      this.recent.add(id);
      ctx.book.learnNick(message.from, message.nick);
      ctx.events.report({ type: 'dm', ...dmView(message) });
    }
    return response;
  }

  close(): void {
    this.outbox.close();
  }
}
