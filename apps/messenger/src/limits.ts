import { ChatError } from './errors';

/**
 * The messenger's limits (README, "Limits"). All are options of the node with these defaults.
 */
export interface ChatLimits {
  /** Longest message text, in UTF-16 code units (what a JS string length counts). */
  maxTextLength: number;
  /** Longest room name. */
  maxRoomLength: number;
  /** Longest nickname. */
  maxNickLength: number;
  /** Messages kept per room, and the most a history response may carry. */
  maxHistory: number;
  /** Room messages per author: sustained rate (per second) ... */
  ratePerSecond: number;
  /** ... and burst. */
  rateBurst: number;
  /** A live message may be at most this much older than our clock (ms). */
  maxMessageAgeMs: number;
  /** ... and at most this much newer (clock skew, ms). */
  maxClockSkewMs: number;
  /** DMs waiting for an unreachable recipient. */
  maxPendingDms: number;
  /**
   * Most bytes of messages in one history response (a page; the asker pages with `before`).
   * Bounds what a request can make us send: docs/security.md, "Messenger".
   */
  maxHistoryResponseBytes: number;
  /** Accepted connections held at once (beyond: the least useful one is evicted). */
  maxConnections: number;
  /**
   * How long an accepted connection may go without progress: Noise handshake and selector byte,
   * then on a control connection each request frame completed and each response taken by the
   * peer (a peer that stops reading, or sends a frame byte by byte, is disconnected).
   */
  progressTimeoutMs: number;
}

export const DEFAULT_LIMITS: ChatLimits = {
  maxTextLength: 4000,
  maxRoomLength: 64,
  maxNickLength: 32,
  maxHistory: 200,
  ratePerSecond: 5,
  rateBurst: 20,
  maxMessageAgeMs: 10 * 60_000,
  maxClockSkewMs: 2 * 60_000,
  maxPendingDms: 100,
  maxHistoryResponseBytes: 64 * 1024,
  maxConnections: 256,
  progressTimeoutMs: 10_000,
};

/** Largest encoded envelope: text in UTF-8 (up to 3 bytes per code unit) plus fixed fields. */
export function maxEnvelopeSize(limits: ChatLimits): number {
  return 3 * (limits.maxTextLength + limits.maxRoomLength + limits.maxNickLength) + 512;
}

/** Checks a message text: not blank, at most `maxTextLength`; throws `ChatError` `BAD_INPUT`. */
export function checkText(text: string, limits: ChatLimits = DEFAULT_LIMITS): string {
  if (text.trim().length === 0) throw new ChatError('BAD_INPUT', 'empty message');
  if (text.length > limits.maxTextLength) {
    throw new ChatError(
      'BAD_INPUT',
      `message too long: ${text.length} characters, the limit is ${limits.maxTextLength}`,
    );
  }
  return text;
}
