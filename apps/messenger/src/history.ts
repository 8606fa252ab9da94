/**
 * Room history: up to `maxHistory` verified messages per room, ordered by (timestamp, author,
 * sequence number), without duplicates. Whatever comes in from a peer or from disk is verified
 * message by message on import; bad ones are counted and skipped, never stored.
 */
import { Buffer } from 'node:buffer';
import { type RoomMessage, verifyRoomMessage } from './envelope';

export function messageKey(m: Pick<RoomMessage, 'author' | 'seq'>): string {
  return `${Buffer.from(m.author).toString('hex')}:${m.seq}`;
}

function compare(a: RoomMessage, b: RoomMessage): number {
  if (a.ts !== b.ts) return a.ts - b.ts;
  const c = Buffer.compare(a.author, b.author);
  if (c !== 0) return c;
  return a.seq - b.seq;
}

export interface ImportResult {
  /** Newly stored messages, in order. */
  added: RoomMessage[];
  /** Messages that failed verification (bad signature or another room). */
  rejected: number;
  /** Messages already stored. */
  duplicates: number;
}

export interface HistoryOptions {
  /**
   * Share a full room's history fairly among its authors (the messenger node turns this on):
   * when a room holds `maxHistory` messages, the author with the most stored messages loses its
   * oldest one, so no identity, and no crowd of fresh identities, can push out the messages of
   * authors who wrote less (max-min fairness; docs/security.md, "Messenger"). Off: the newest
   * `maxHistory` messages are kept, whoever wrote them.
   */
  fairAmongAuthors?: boolean;
}

export class HistoryStore {
  private readonly rooms = new Map<string, RoomMessage[]>();
  private readonly keys = new Map<string, Set<string>>();
  private readonly fair: boolean;

  constructor(
    readonly maxHistory = 200,
    options: HistoryOptions = {},
  ) {
    this.fair = options.fairAmongAuthors ?? false;
  }

  /** The last `limit` messages of a room, oldest first. */
  recent(room: string, limit = this.maxHistory): RoomMessage[] {
    const list = this.rooms.get(room) ?? [];
    return list.slice(Math.max(0, list.length - limit));
  }

  has(room: string, m: Pick<RoomMessage, 'author' | 'seq'>): boolean {
    return this.keys.get(room)?.has(messageKey(m)) ?? false;
  }

  /** The stored message with this author and sequence number, if any. */
  get(room: string, m: Pick<RoomMessage, 'author' | 'seq'>): RoomMessage | undefined {
    if (!this.has(room, m)) return undefined;
    const key = messageKey(m);
    return this.rooms.get(room)?.find((x) => messageKey(x) === key);
  }

  /** Adds a message already verified by the caller; false if it was there or is too old to keep. */
  add(m: RoomMessage): boolean {
    let list = this.rooms.get(m.room);
    let keys = this.keys.get(m.room);
    if (list === undefined || keys === undefined) {
      list = [];
      keys = new Set();
      this.rooms.set(m.room, list);
      this.keys.set(m.room, keys);
    }
    const key = messageKey(m);
    if (keys.has(key)) return false;
    // Insert in order; live messages almost always go at the end.
    let i = list.length;
    while (i > 0 && compare(list[i - 1] as RoomMessage, m) > 0) i--;
    if (!this.fair) {
      if (list.length >= this.maxHistory && i === 0) return false; // older than everything kept
      list.splice(i, 0, m);
      keys.add(key);
      while (list.length > this.maxHistory) {
        const dropped = list.shift() as RoomMessage;
        keys.delete(messageKey(dropped));
      }
      return true;
    }
    list.splice(i, 0, m);
    keys.add(key);
    if (list.length <= this.maxHistory) return true;
    const at = fairVictim(list);
    const [dropped] = list.splice(at, 1) as [RoomMessage];
    keys.delete(messageKey(dropped));
    return dropped !== m;
  }

  /** Verifies and adds messages for `room` (from a peer or from disk). */
  import(room: string, messages: readonly RoomMessage[]): ImportResult {
    const result: ImportResult = { added: [], rejected: 0, duplicates: 0 };
    for (const m of messages) {
      if (m.room !== room || !verifyRoomMessage(m)) {
        result.rejected++;
        continue;
      }
      if (this.add(m)) result.added.push(m);
      else result.duplicates++;
    }
    result.added.sort(compare);
    return result;
  }
}

/**
 * The message a full room gives up under fair sharing: the oldest message of the author with the
 * most messages (of those, the one whose oldest message is oldest). O(n) in the room's history.
 */
function fairVictim(list: readonly RoomMessage[]): number {
  const count = new Map<string, number>();
  const first = new Map<string, number>();
  list.forEach((m, index) => {
    const author = Buffer.from(m.author).toString('latin1');
    count.set(author, (count.get(author) ?? 0) + 1);
    if (!first.has(author)) first.set(author, index);
  });
  let best = -1;
  let bestCount = -1;
  for (const [author, n] of count) {
    const index = first.get(author) as number;
    if (n > bestCount || (n === bestCount && index < best)) {
      best = index;
      bestCount = n;
    }
  }
  return best;
}
