/**
 * The iterative Kademlia lookup as a pure state machine (no I/O, no timers): the DHT node
 * asks it which nodes to query next and feeds it the answers.
 *
 * - Candidates are kept sorted by XOR distance to the target.
 * - At most `alpha` (3) queries are in flight; each goes to the closest candidate not yet queried
 *   among the `k` closest candidates that have not failed ("closest-first").
 * - The lookup is done when the `k` closest candidates that have not failed have all answered
 *   (or when nothing is left to ask). Its result is those `k` nodes.
 *
 * Each candidate remembers its hop: seeds are hop 1, nodes learned from a hop-h answer are hop
 * h + 1; `rounds` is the deepest hop queried, the classic "number of rounds" of a lookup.
 */
import type { Contact } from './compact';
import { DEFAULT_ALPHA, DEFAULT_K } from './defaults';
import { compareDistance, idEquals, type NodeId, toHex } from './node-id';

export type CandidateState = 'new' | 'querying' | 'responded' | 'failed';

export interface Candidate {
  readonly contact: Contact;
  state: CandidateState;
  hop: number;
  /** Write token it returned (get_peers / get), for announce / put. */
  token?: Uint8Array;
  /** Still querying but past its first timeout: no longer holds one of the alpha slots. */
  slow?: boolean;
}

export interface LookupOptions {
  /** Result size and the width of the closest set (default 8). */
  k?: number;
  /** Queries in flight (default 3). */
  alpha?: number;
  /** Candidates remembered (the farthest are forgotten beyond this); default 20 * k. */
  maxCandidates?: number;
}

export class Lookup {
  readonly target: NodeId;
  readonly k: number;
  readonly alpha: number;
  private readonly maxCandidates: number;
  private readonly candidates: Candidate[] = [];
  private readonly known = new Map<string, Candidate>();
  private inFlight = 0;
  /** Queries started, answered, failed. */
  queried = 0;
  responded = 0;
  failed = 0;
  rounds = 0;

  constructor(target: NodeId, seeds: readonly Contact[], options: LookupOptions = {}) {
    this.target = target;
    this.k = options.k ?? DEFAULT_K;
    this.alpha = options.alpha ?? DEFAULT_ALPHA;
    this.maxCandidates = options.maxCandidates ?? 20 * this.k;
    this.add(seeds, 0);
  }

  /** Adds contacts learned at hop `fromHop` (they become hop `fromHop + 1`); ignores known ids. */
  add(contacts: readonly Contact[], fromHop: number): void {
    for (const contact of contacts) {
      const key = toHex(contact.id);
      if (this.known.has(key)) continue;
      const c: Candidate = { contact, state: 'new', hop: fromHop + 1 };
      this.known.set(key, c);
      this.insertSorted(c);
    }
    // Forget the farthest never-queried candidates beyond the cap.
    for (
      let i = this.candidates.length - 1;
      i >= 0 && this.candidates.length > this.maxCandidates;
      i--
    ) {
      const c = this.candidates[i]!;
      if (c.state === 'new' || c.state === 'failed') this.candidates.splice(i, 1);
    }
  }

  /** The candidates to query now (marked `querying`), closest first; may be empty. */
  next(): Candidate[] {
    const out: Candidate[] = [];
    if (this.done) return out;
    let seen = 0;
    for (const c of this.candidates) {
      if (this.inFlight >= this.alpha || seen >= this.k) break;
      if (c.state === 'failed') continue;
      seen++;
      if (c.state !== 'new') continue;
      c.state = 'querying';
      this.inFlight++;
      this.queried++;
      this.rounds = Math.max(this.rounds, c.hop);
      out.push(c);
    }
    return out;
  }

  /** `id` answered, telling us about `contacts`. */
  respond(id: NodeId, contacts: readonly Contact[], token?: Uint8Array): void {
    const c = this.get(id);
    if (c?.state !== 'querying') return;
    c.state = 'responded';
    if (token) c.token = token;
    if (!c.slow) this.inFlight--;
    this.responded++;
    this.add(
      contacts.filter((n) => !idEquals(n.id, id)),
      c.hop,
    );
  }

  /** The query to `id` failed (timeout or error). */
  fail(id: NodeId): void {
    const c = this.get(id);
    if (c?.state !== 'querying') return;
    c.state = 'failed';
    if (!c.slow) this.inFlight--;
    this.failed++;
  }

  /**
   * `id` has not answered within one timeout: it keeps its place but frees its alpha slot, so a
   * dead node delays the lookup by one timeout instead of all its retries (as libtorrent does).
   */
  slow(id: NodeId): void {
    const c = this.get(id);
    if (c?.state !== 'querying' || c.slow) return;
    c.slow = true;
    this.inFlight--;
  }

  get(id: NodeId): Candidate | undefined {
    return this.known.get(toHex(id));
  }

  get pending(): number {
    return this.inFlight;
  }

  /**
   * True once the k closest non-failed candidates all answered, or nothing is left to ask
   * (slow queries outside the k closest are not waited for).
   */
  get done(): boolean {
    let seen = 0;
    for (const c of this.candidates) {
      if (seen >= this.k) break;
      if (c.state === 'failed') continue;
      seen++;
      if (c.state !== 'responded') return false;
    }
    return this.inFlight === 0;
  }

  /** The k closest candidates that answered, closest first (with their tokens). */
  closest(): Candidate[] {
    return this.candidates.filter((c) => c.state === 'responded').slice(0, this.k);
  }

  private insertSorted(c: Candidate) {
    let lo = 0;
    let hi = this.candidates.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (compareDistance(this.target, this.candidates[mid]!.contact.id, c.contact.id) < 0)
        lo = mid + 1;
      else hi = mid;
    }
    this.candidates.splice(lo, 0, c);
  }
}
