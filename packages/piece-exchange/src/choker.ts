/**
 * The choker (BEP 3, "Choking and optimistic unchoking").
 *
 * One pure function, `rechoke`, over a list of peers, called every `RECHOKE_INTERVAL_MS`
 * (10 s, so that choke states do not fibrillate) and when a peer joins or leaves:
 *
 * - while leeching, the peers we download fastest from get the regular unchoke slots
 *   (reciprocation); while seeding, the peers we upload fastest to;
 * - there are `regularSlots` (4) slots for interested peers; the optimistic unchoke, when it is
 *   interested, counts as one of them;
 * - peers that are not interested but rate better than the slowest unchoked downloader are
 *   unchoked too, so they can start at once if they become interested;
 * - one optimistic unchoke, regardless of rate, rotates every `OPTIMISTIC_INTERVAL_MS` (30 s);
 *   newly connected peers are three times as likely to be chosen;
 * - snubbed peers (they sent us nothing for a minute) get no regular slot while leeching.
 */
import type { Random } from '@peerkit/transport';

export const RECHOKE_INTERVAL_MS = 10_000;
export const OPTIMISTIC_INTERVAL_MS = 30_000;
export const REGULAR_UNCHOKE_SLOTS = 4;
/** A peer connected for less than this is "newly connected" (3x optimistic weight). */
export const NEW_PEER_MS = 60_000;

export interface ChokerPeer {
  readonly id: number;
  /** The peer is interested in our pieces. */
  readonly interested: boolean;
  /** Bytes/s we receive from the peer (rolling average). */
  readonly downloadRate: number;
  /** Bytes/s we send to the peer (rolling average). */
  readonly uploadRate: number;
  /** Virtual/real time the peer connected at. */
  readonly connectedAt: number;
  readonly snubbed: boolean;
  /** Peers that cannot take data (they are seeds, or we are not allowed to upload). */
  readonly isSeed: boolean;
}

export interface ChokerState {
  /** The current optimistic unchoke. */
  readonly optimistic: number | undefined;
  /** When it was chosen. */
  readonly optimisticSince: number;
}

export interface RechokeInput {
  readonly peers: readonly ChokerPeer[];
  /** We have every piece: rank by upload rate. */
  readonly seeding: boolean;
  readonly now: number;
  readonly state: ChokerState;
  readonly random: Random;
  readonly regularSlots?: number;
}

export interface RechokeResult {
  /** Peers to unchoke (every other peer gets choked). */
  readonly unchoked: ReadonlySet<number>;
  /** The regular (rate-ranked) interested unchokes. */
  readonly downloaders: readonly number[];
  readonly state: ChokerState;
}

export const initialChokerState: ChokerState = { optimistic: undefined, optimisticSince: 0 };

/** Decides who is unchoked. Pure: the same input gives the same output. */
export function rechoke(input: RechokeInput): RechokeResult {
  const { peers, seeding, now, random } = input;
  const slots = input.regularSlots ?? REGULAR_UNCHOKE_SLOTS;
  const rate = (p: ChokerPeer): number => (seeding ? p.uploadRate : p.downloadRate);
  const candidates = peers.filter((p) => !p.isSeed);

  // Optimistic unchoke: keep it for 30 s while it is still here, then rotate.
  let optimistic = input.state.optimistic;
  let optimisticSince = input.state.optimisticSince;
  const current = candidates.find((p) => p.id === optimistic);
  if (!current?.interested || now - optimisticSince >= OPTIMISTIC_INTERVAL_MS) {
    const pool = candidates.filter((p) => p.interested && p.id !== optimistic);
    const pick = weightedPick(pool, now, random);
    if (pick !== undefined) {
      optimistic = pick;
      optimisticSince = now;
    } else if (!current?.interested) {
      optimistic = undefined;
    }
  }
  const optimisticPeer = candidates.find((p) => p.id === optimistic);
  const regular = optimisticPeer?.interested ? slots - 1 : slots;

  // Regular slots: the best rates among interested peers (snubbed peers excluded while leeching).
  const ranked = candidates
    .filter((p) => p.id !== optimistic)
    .sort((a, b) => rate(b) - rate(a) || a.id - b.id);
  const unchoked = new Set<number>();
  const downloaders: number[] = [];
  for (const p of ranked) {
    if (downloaders.length >= regular) break;
    if (!p.interested) {
      // Better than every downloader so far: unchoke it so it can start when interested.
      unchoked.add(p.id);
      continue;
    }
    if (!seeding && p.snubbed) continue;
    downloaders.push(p.id);
    unchoked.add(p.id);
  }
  if (optimistic !== undefined) unchoked.add(optimistic);
  return { unchoked, downloaders, state: { optimistic, optimisticSince } };
}

/** Uniform pick, but peers connected less than `NEW_PEER_MS` ago weigh three times (BEP 3). */
function weightedPick(
  pool: readonly ChokerPeer[],
  now: number,
  random: Random,
): number | undefined {
  if (pool.length === 0) return undefined;
  const weight = (p: ChokerPeer): number => (now - p.connectedAt < NEW_PEER_MS ? 3 : 1);
  let total = 0;
  for (const p of pool) total += weight(p);
  let r = random.int(total);
  for (const p of pool) {
    r -= weight(p);
    if (r < 0) return p.id;
  }
  return pool[pool.length - 1]!.id;
}
