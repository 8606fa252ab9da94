/**
 * The DM outbox: direct messages waiting for their recipient. A message whose delivery fails
 * stays here and is retried with exponential backoff (2 s doubling to 30 s) while the node runs;
 * each failure is reported (`dm-pending`) and the final success too (`dm-delivered`).
 */
import type { Clock, Timer } from '@peerkit/transport';
import type { DirectMessage } from './envelope';
import { ChatError } from './errors';
import type { ChatEvent } from './events';
import { formatPeerId } from './peer-id';
import { hex } from './rendezvous';

export interface OutboxOptions {
  clock: Clock;
  maxPending: number;
  /** One delivery attempt; rejects when the recipient could not be reached. */
  deliver: (to: Uint8Array, envelope: Uint8Array) => Promise<void>;
  emit: (event: ChatEvent) => void;
  encode: (m: DirectMessage) => Uint8Array;
  /**
   * Before each attempt: a fresh copy of a message that got old while waiting (re-signed with a
   * new timestamp, same id), or undefined to send it as it is. Recipients refuse DMs outside
   * their time window, so a long-pending DM must not carry its first timestamp forever.
   */
  refresh?: (m: DirectMessage) => DirectMessage | undefined;
  firstRetryMs?: number;
  maxRetryMs?: number;
}

interface Pending {
  message: DirectMessage;
  bytes: Uint8Array;
  delayMs: number;
  timer: Timer | undefined;
}

export class DmOutbox {
  private readonly pending = new Map<string, Pending>();
  private closed = false;

  constructor(private readonly options: OutboxOptions) {}

  get size(): number {
    return this.pending.size;
  }

  /** Tries to deliver now; on failure keeps the message and schedules retries. */
  async send(message: DirectMessage): Promise<{ id: string; delivered: boolean }> {
    const id = hex(message.id);
    if (this.pending.size >= this.options.maxPending) {
      throw new ChatError(
        'RATE_LIMITED',
        `${this.pending.size} direct messages are already waiting for delivery`,
      );
    }
    const entry: Pending = {
      message,
      bytes: this.options.encode(message),
      delayMs: this.options.firstRetryMs ?? 2000,
      timer: undefined,
    };
    this.pending.set(id, entry);
    const delivered = await this.attempt(id, entry);
    return { id, delivered };
  }

  private async attempt(id: string, entry: Pending): Promise<boolean> {
    const to = formatPeerId(entry.message.to);
    const fresh = this.options.refresh?.(entry.message);
    if (fresh !== undefined) {
      entry.message = fresh;
      entry.bytes = this.options.encode(fresh);
    }
    try {
      await this.options.deliver(entry.message.to, entry.bytes);
    } catch (error) {
      if (this.closed) return false;
      const retryInMs = entry.delayMs;
      entry.delayMs = Math.min(entry.delayMs * 2, this.options.maxRetryMs ?? 30_000);
      entry.timer = this.options.clock.setTimeout(() => void this.attempt(id, entry), retryInMs);
      const reason = error instanceof Error ? error.message : String(error);
      this.options.emit({ type: 'dm-pending', id, to, reason, retryInMs });
      return false;
    }
    this.pending.delete(id);
    if (!this.closed) this.options.emit({ type: 'dm-delivered', id, to });
    return true;
  }

  /** Stops retrying (the messages still pending are dropped with the node). */
  close(): void {
    this.closed = true;
    for (const entry of this.pending.values()) entry.timer?.cancel();
  }

  /** Hex ids of the messages still waiting. */
  pendingIds(): string[] {
    return [...this.pending.keys()];
  }
}
