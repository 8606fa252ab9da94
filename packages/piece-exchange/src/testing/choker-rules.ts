/**
 * The BEP 3 choking rules as a checker plus a fast-check arbitrary of peer lists, so that any
 * choker (peerkit's `rechoke` or another implementation's) can be tested with the same
 * properties. Exported from `@peerkit/piece-exchange/testing`.
 */
import fc from 'fast-check';
import type { ChokerPeer } from '../choker';

export interface ChokeDecision {
  /** Every unchoked peer. */
  readonly unchoked: ReadonlySet<number>;
  /** The rate-ranked interested unchokes (without the optimistic one). */
  readonly downloaders: readonly number[];
  readonly optimistic: number | undefined;
}

/** Peers with ids 0..n-1, random interest, rates, age, snub and seed flags. */
export function arbChokerPeers(maxPeers = 14): fc.Arbitrary<ChokerPeer[]> {
  return fc.integer({ min: 0, max: maxPeers }).chain((n) =>
    fc.tuple(
      ...Array.from({ length: n }, (_, id) =>
        fc.record({
          id: fc.constant(id),
          interested: fc.boolean(),
          downloadRate: fc.nat(1000),
          uploadRate: fc.nat(1000),
          connectedAt: fc.nat(200_000),
          snubbed: fc.boolean(),
          isSeed: fc.boolean(),
        }),
      ),
    ),
  );
}

/**
 * The BEP 3 rules a choke decision must satisfy; returns the violated ones (empty: all hold).
 * Rules: seeds are never unchoked; at most `slots` interested peers are unchoked, the optimistic
 * one included, and all slots are used when enough peers want them; the optimistic unchoke is
 * interested; regular downloaders rate at least as well as every choked candidate (download rate
 * while leeching, upload rate while seeding; snubbed peers are no candidates while leeching);
 * uninterested peers that rate better than the slowest downloader are unchoked; no other
 * interested peer is unchoked.
 */
export function chokerRuleViolations(
  peers: readonly ChokerPeer[],
  seeding: boolean,
  decision: ChokeDecision,
  /** BEP 3: "unchoking the four peers which it has the best download rates from". */
  slots = 4,
): string[] {
  const out: string[] = [];
  const rate = (p: ChokerPeer) => (seeding ? p.uploadRate : p.downloadRate);
  const byId = new Map(peers.map((p) => [p.id, p]));
  const { unchoked, downloaders, optimistic } = decision;
  for (const id of unchoked) {
    const p = byId.get(id);
    if (p === undefined) out.push(`unknown peer ${id} unchoked`);
    else if (p.isSeed) out.push(`seed ${id} unchoked`);
  }
  const interestedUnchoked = [...unchoked].filter((id) => byId.get(id)?.interested);
  if (interestedUnchoked.length > slots)
    out.push(`${interestedUnchoked.length} interested peers unchoked`);
  if (optimistic !== undefined) {
    if (!unchoked.has(optimistic)) out.push('optimistic unchoke is choked');
    if (!byId.get(optimistic)?.interested) out.push('optimistic unchoke is not interested');
  }
  const candidates = peers.filter(
    (p) => !p.isSeed && p.interested && p.id !== optimistic && (seeding || !p.snubbed),
  );
  const want = candidates.length + (optimistic !== undefined ? 1 : 0);
  if (interestedUnchoked.length !== Math.min(slots, want)) {
    out.push(`${interestedUnchoked.length} interested unchoked, expected ${Math.min(slots, want)}`);
  }
  const regular = downloaders.map((id) => byId.get(id)).filter((p) => p !== undefined);
  for (const d of regular)
    if (!d.interested || d.isSeed) out.push(`downloader ${d.id} is not a candidate`);
  for (const p of candidates) {
    if (unchoked.has(p.id)) continue;
    for (const d of regular) {
      if (rate(d) < rate(p)) out.push(`choked ${p.id} rates better than downloader ${d.id}`);
    }
  }
  if (regular.length > 0) {
    const slowest = Math.min(...regular.map(rate));
    for (const p of peers) {
      if (!p.isSeed && !p.interested && rate(p) > slowest && !unchoked.has(p.id)) {
        out.push(`uninterested ${p.id} rates better than the slowest downloader but is choked`);
      }
    }
  }
  for (const id of interestedUnchoked) {
    if (id !== optimistic && !downloaders.includes(id))
      out.push(`interested ${id} unchoked outside the slots`);
  }
  return out;
}
