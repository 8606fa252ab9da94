/**
 * Verification of live room messages (README, "Verification"), as a pure function of the
 * message, what we have seen, and the time. The node turns the verdict into gossip's
 * `accept` / `reject` / `ignore` (reject scores the sending peer down: gossipsub-v1.1 P4).
 */
import { equalKeys } from '@peerkit/noise';
import { type EnvelopeCodec, type RoomMessage, verifyRoomMessage } from './envelope';
import { type ChatErrorCode, isChatError } from './errors';
import type { HistoryStore } from './history';
import type { ChatLimits } from './limits';
import type { RateLimiter } from './rate-limit';
import { hex } from './rendezvous';
import type { ReplayWindow } from './replay-window';

export type Verdict =
  | { result: 'accept'; message: RoomMessage }
  | { result: 'ignore'; reason: ChatErrorCode | 'DUPLICATE'; message?: RoomMessage }
  | { result: 'reject'; reason: ChatErrorCode; detail: string; message?: RoomMessage };

export interface ValidationContext {
  codec: EnvelopeCodec;
  limits: ChatLimits;
  window: ReplayWindow;
  history: HistoryStore;
  rate: RateLimiter;
  /** Wall-clock now, ms since the epoch. */
  now: number;
}

export function windowKey(m: Pick<RoomMessage, 'room' | 'author'>): string {
  return `${m.room}\0${hex(m.author)}`;
}

/**
 * Checks a room message that gossip delivered on `room`'s topic, signed at the gossip layer by
 * `gossipAuthor`. Records it in the replay window when accepted.
 */
export function validateRoomMessage(
  data: Uint8Array,
  room: string,
  gossipAuthor: Uint8Array | undefined,
  ctx: ValidationContext,
): Verdict {
  let m: RoomMessage;
  try {
    m = ctx.codec.decodeRoom(data);
  } catch (error) {
    const detail = isChatError(error) ? error.message : 'undecodable envelope';
    return { result: 'reject', reason: 'MALFORMED', detail };
  }
  if (m.room !== room) {
    return { result: 'reject', reason: 'WRONG_ROOM', detail: `for room '${m.room}'`, message: m };
  }
  // The gossip signature proves who published; it must be the envelope's author, so a peer
  // cannot wrap someone else's message (or a forgery) in its own valid gossip signature.
  if (gossipAuthor === undefined || !equalKeys(gossipAuthor, m.author)) {
    return {
      result: 'reject',
      reason: 'AUTHOR_MISMATCH',
      detail: 'published by another peer than its author',
      message: m,
    };
  }
  if (!verifyRoomMessage(m)) {
    return {
      result: 'reject',
      reason: 'BAD_SIGNATURE',
      detail: 'signature does not verify',
      message: m,
    };
  }
  if (m.ts > ctx.now + ctx.limits.maxClockSkewMs) {
    return { result: 'reject', reason: 'STALE', detail: 'timestamp in the future', message: m };
  }
  if (m.ts < ctx.now - ctx.limits.maxMessageAgeMs) {
    return {
      result: 'reject',
      reason: 'STALE',
      detail: 'timestamp too old for a live message',
      message: m,
    };
  }
  const key = windowKey(m);
  const seen = ctx.window.check(key, m.seq);
  if (seen === 'too-old') {
    return {
      result: 'reject',
      reason: 'REPLAY',
      detail: `sequence ${m.seq} is behind the replay window`,
      message: m,
    };
  }
  if (seen === 'seen') {
    // The very same message again (e.g. it came by history and by gossip): drop it quietly.
    // Another message with a sequence number already used is a replay or an equivocation.
    const stored = ctx.history.get(m.room, m);
    if (stored !== undefined && equalKeys(stored.sig, m.sig)) {
      return { result: 'ignore', reason: 'DUPLICATE', message: m };
    }
    return {
      result: 'reject',
      reason: 'REPLAY',
      detail: `sequence ${m.seq} was already used`,
      message: m,
    };
  }
  if (!ctx.rate.take(key)) {
    // Ignored, not rejected: honest peers relaying a flooder's messages are not punished.
    return { result: 'ignore', reason: 'RATE_LIMITED', message: m };
  }
  ctx.window.record(key, m.seq);
  return { result: 'accept', message: m };
}
