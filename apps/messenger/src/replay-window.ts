/**
 * The per-author replay window for live room messages (README, "Verification").
 *
 * Like IPsec's anti-replay window (RFC 4303 section 3.4.3), but counted in messages rather than
 * in sequence numbers, because messenger sequence numbers are sparse (they follow the author's
 * clock in microseconds): for each (room, author) we remember the `size` highest sequence
 * numbers accepted. A number among them is a replay (`seen`); once `size` are remembered, a
 * number below all of them is `too-old`; anything else is new, so gossip may reorder an
 * author's messages a little without anyone being punished.
 */
export type WindowVerdict = 'new' | 'seen' | 'too-old';

export class ReplayWindow {
  readonly size: number;
  readonly maxAuthors: number;
  /** Per author: the highest accepted sequence numbers, ascending, at most `size`. */
  private readonly authors = new Map<string, number[]>();

  constructor(options: { size?: number; maxAuthors?: number } = {}) {
    this.size = options.size ?? 64;
    this.maxAuthors = options.maxAuthors ?? 10_000;
  }

  /** What `seq` would be for `author` (a key such as room + author), without recording it. */
  check(author: string, seq: number): WindowVerdict {
    const w = this.authors.get(author);
    if (w === undefined) return 'new';
    if (w.length >= this.size && seq < (w[0] as number)) return 'too-old';
    return indexOf(w, seq) >= 0 ? 'seen' : 'new';
  }

  /** Records `seq` as accepted. */
  record(author: string, seq: number): void {
    let w = this.authors.get(author);
    if (w === undefined) {
      if (this.authors.size >= this.maxAuthors) {
        // Forget the least recently active author (the map is ordered by last activity).
        const oldest = this.authors.keys().next().value;
        if (oldest !== undefined) this.authors.delete(oldest);
      }
      w = [];
    } else {
      this.authors.delete(author);
    }
    this.authors.set(author, w);
    if (indexOf(w, seq) >= 0) return;
    if (w.length >= this.size && seq < (w[0] as number)) return;
    let i = w.length;
    while (i > 0 && (w[i - 1] as number) > seq) i--;
    w.splice(i, 0, seq);
    if (w.length > this.size) w.shift();
  }

  get authorCount(): number {
    return this.authors.size;
  }
}

function indexOf(sorted: number[], value: number): number {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const v = sorted[mid] as number;
    if (v === value) return mid;
    if (v < value) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}
