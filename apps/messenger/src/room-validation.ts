/**
 * The gossip validation hook of a messenger node (README, "Verification"): decides accept /
 * ignore / reject for each room message gossip hands over, with the replay window, the stored
 * history and the per-author rate limit. It exists before the gossip node (gossip is created
 * with `validate` as its validator), so it reports rejections as its own events, which the
 * rooms part turns into chat events with the sender's score.
 */
import { EventChannel, RateLimiter } from '@peerkit/transport';
import type { ChatContext } from './chat-context';
import type { RoomMessage } from './envelope';
import type { ChatEventOf } from './events';
import { HistoryStore } from './history';
import { peerIdOfKey } from './peer-book';
import { formatPeerId } from './peer-id';
import { roomOfTopic } from './rendezvous';
import { ReplayWindow } from './replay-window';
import { validateRoomMessage, windowKey } from './validate';

/** A rejected message: the chat event to report and the gossip peer (hex) that sent it. */
export interface Rejection {
  event: ChatEventOf<'rejected'>;
  from: string;
}

export class RoomValidation {
  readonly history: HistoryStore;
  readonly window = new ReplayWindow();
  /** Rooms we are in: messages for any other room are ignored. */
  readonly joined = new Set<string>();
  /** Rejections, reported as they happen (gossip applies its score penalty right after). */
  readonly rejections = new EventChannel<{ rejected: Rejection }>();
  private readonly authorRate: RateLimiter;

  constructor(private readonly ctx: ChatContext) {
    this.history = new HistoryStore(ctx.limits.maxHistory, { fairAmongAuthors: true });
    this.authorRate = new RateLimiter(
      ctx.network.clock,
      ctx.limits.ratePerSecond,
      ctx.limits.rateBurst,
    );
  }

  /** gossip's validation hook: verify, then accept / ignore / reject (scores the sender down). */
  validate(
    topic: string,
    data: Uint8Array,
    author: Uint8Array | undefined,
    from: string,
  ): 'accept' | 'reject' | 'ignore' {
    const room = roomOfTopic(topic);
    if (room === undefined || !this.joined.has(room)) return 'ignore';
    const verdict = validateRoomMessage(data, room, author, {
      codec: this.ctx.codec,
      limits: this.ctx.limits,
      window: this.window,
      history: this.history,
      rate: this.authorRate,
      now: this.ctx.wallNow(),
    });
    if (verdict.result === 'accept') {
      this.history.add(verdict.message);
      return 'accept';
    }
    if (verdict.result === 'reject') {
      const event: ChatEventOf<'rejected'> = {
        type: 'rejected',
        room,
        reason: verdict.reason,
        peer: peerIdOfKey(from),
        detail: verdict.detail,
        ...(verdict.message ? { author: formatPeerId(verdict.message.author) } : {}),
      };
      this.rejections.emit('rejected', { event, from });
    } else if (verdict.reason === 'RATE_LIMITED') {
      this.ctx.events.report({
        type: 'warning',
        message: `dropped a message from a flooding author in ${room}`,
      });
    }
    return verdict.result;
  }

  /** Records messages we stored by other ways (ours, imported) in the replay window. */
  record(messages: Iterable<RoomMessage>): void {
    for (const m of messages) this.window.record(windowKey(m), m.seq);
  }
}
