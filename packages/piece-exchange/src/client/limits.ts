/**
 * The shared limits of a `TorrentClient` (many torrents in one process), as pure policy:
 *
 * - `ConnectionBudget`: connections across every torrent (dialled, accepted, still in their
 *   handshake) never exceed `max`; the client asks it before each dial and each accepted stream.
 * - `allocateUploadSlots`: the client's unchoke slots (libtorrent's `unchoke_slots_limit`)
 *   shared among the torrents that have interested peers: max-min fair, the slots that do not
 *   divide evenly rotating from one round to the next, so that with more torrents than slots
 *   each gets its turn.
 * - `UploadSlots`: the slots granted to each torrent, never more than `uploadSlots` in all.
 * - `capUnchoked`: what one torrent's choker decided (BEP 3), cut to the slots it was given.
 *
 * No I/O, no clock: the model test (test/client-limits.model.test.ts) drives them with
 * `fc.commands`.
 */

/** Connections counted per torrent (its key), never more than `max` in all. */
export class ConnectionBudget<K> {
  readonly max: number;
  readonly #byKey = new Map<K, number>();
  #total = 0;

  constructor(max: number) {
    if (!Number.isInteger(max) || max < 0) throw new RangeError('max must be an integer >= 0');
    this.max = max;
  }

  /** Takes a connection for `key`: false (nothing taken) when every one is in use. */
  tryOpen(key: K): boolean {
    if (this.#total >= this.max) return false;
    this.#total++;
    this.#byKey.set(key, (this.#byKey.get(key) ?? 0) + 1);
    return true;
  }

  /** Gives back a connection `tryOpen(key)` took (a closed stream). */
  release(key: K): void {
    const n = this.#byKey.get(key) ?? 0;
    if (n === 0) return;
    this.#total--;
    if (n === 1) this.#byKey.delete(key);
    else this.#byKey.set(key, n - 1);
  }

  /** Moves one connection from `from` to `to` (an accepted stream found its torrent). */
  transfer(from: K, to: K): void {
    const n = this.#byKey.get(from) ?? 0;
    if (n === 0) return;
    if (n === 1) this.#byKey.delete(from);
    else this.#byKey.set(from, n - 1);
    this.#byKey.set(to, (this.#byKey.get(to) ?? 0) + 1);
  }

  get total(): number {
    return this.#total;
  }

  of(key: K): number {
    return this.#byKey.get(key) ?? 0;
  }
}

/**
 * Shares `total` upload slots among torrents wanting `demands[i]` each (their interested peers):
 * max-min fair (no torrent gets more than it wants, none gets more than one slot above another
 * that wants more); the slots left after an even share go to the torrents from `start` on
 * (mod n), so that a caller that advances `start` each round rotates them. The sum never
 * exceeds `total`.
 */
export function allocateUploadSlots(
  total: number,
  demands: readonly number[],
  start = 0,
): number[] {
  const n = demands.length;
  const out = new Array<number>(n).fill(0);
  if (n === 0 || total <= 0) return out;
  let left = total;
  let wanting = demands.filter((d) => d > 0).length;
  // Whole rounds of an even share, each bounded by the smallest remaining demand.
  while (wanting > 0 && left >= wanting) {
    const share = Math.floor(left / wanting);
    let minGap = Number.POSITIVE_INFINITY;
    for (let i = 0; i < n; i++) {
      const gap = demands[i]! - out[i]!;
      if (gap > 0) minGap = Math.min(minGap, gap);
    }
    const step = Math.min(share, minGap);
    wanting = 0;
    for (let i = 0; i < n; i++) {
      if (demands[i]! - out[i]! <= 0) continue;
      out[i]! += step;
      left -= step;
      if (demands[i]! - out[i]! > 0) wanting++;
    }
  }
  // Fewer slots than torrents still wanting: one each, in turn from `start`.
  const first = ((start % n) + n) % n;
  for (let k = 0; k < n && left > 0; k++) {
    const i = (first + k) % n;
    if (demands[i]! - out[i]! > 0) {
      out[i]!++;
      left--;
    }
  }
  return out;
}

/**
 * The upload slots as granted, torrent by torrent: each torrent may unchoke up to what it was
 * granted, and the grants never sum to more than `total`. The client sets each torrent's fair
 * `share` once per tick (`allocateUploadSlots`); between ticks, a torrent that rechokes (a peer
 * became interested) is granted its share or, when other torrents leave slots unused, up to its
 * demand: no interested peer waits for the next tick while a slot is free.
 */
export class UploadSlots<K> {
  readonly total: number;
  readonly #shares = new Map<K, number>();
  readonly #granted = new Map<K, number>();
  #sum = 0;

  constructor(total: number) {
    if (!Number.isInteger(total) || total < 0) throw new RangeError('total must be >= 0');
    this.total = total;
  }

  /** The torrent's fair share from the last allocation (0 before the first). */
  share(key: K): number {
    return this.#shares.get(key) ?? 0;
  }

  setShare(key: K, share: number): void {
    this.#shares.set(key, share);
  }

  /** What `key` may unchoke now, as last granted. */
  granted(key: K): number {
    return this.#granted.get(key) ?? 0;
  }

  /** The grants' sum (never above `total`). */
  get sum(): number {
    return this.#sum;
  }

  /**
   * Grants `key` slots for a rechoke, given its `demand` (interested peers): up to its demand,
   * from the slots no other torrent holds; `atShare` cuts it to its share at most (the tick
   * takes back what a torrent borrowed beyond its share). The torrent must then unchoke no more
   * than this.
   */
  grant(key: K, demand: number, atShare = false): number {
    const before = this.#granted.get(key) ?? 0;
    const free = this.total - (this.#sum - before);
    const share = this.#shares.get(key) ?? 0;
    const want = atShare ? Math.min(share, demand) : demand;
    const granted = Math.max(0, Math.min(free, want));
    this.#granted.set(key, granted);
    this.#sum += granted - before;
    return granted;
  }

  /** The torrent left: its grant is free again. */
  remove(key: K): void {
    this.#sum -= this.#granted.get(key) ?? 0;
    this.#granted.delete(key);
    this.#shares.delete(key);
  }
}

/**
 * One torrent's choker decision cut to `slots` unchoked peers: its regular downloaders first
 * (in rank order), then the optimistic unchoke, then the others it unchoked (peers that are not
 * interested yet).
 */
export function capUnchoked(
  decision: {
    readonly unchoked: ReadonlySet<number>;
    readonly downloaders: readonly number[];
    readonly state: { readonly optimistic: number | undefined };
  },
  slots: number,
): Set<number> {
  const out = new Set<number>();
  const add = (id: number | undefined) => {
    if (id !== undefined && out.size < slots && decision.unchoked.has(id)) out.add(id);
  };
  for (const id of decision.downloaders) add(id);
  add(decision.state.optimistic);
  for (const id of decision.unchoked) add(id);
  return out;
}
