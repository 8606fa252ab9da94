/**
 * The choker applied to one torrent's connections (BEP 3 "choking"): `rechoke` (./choker.ts)
 * decides from the open peers' rates; this sets each connection's choke state from the decision,
 * cut to the upload slots a `TorrentClient` gives the torrent when it runs with others
 * (./client/limits.ts `capUnchoked`).
 */
import type { Random } from '@peerkit/transport';
import { type ChokerState, rechoke } from './choker';
import { capUnchoked } from './client/limits';
import { chokerPeer } from './session/peer-report';
import type { PeerSession } from './session/peer-session';

/** Below this many unchoked interested peers, a newly interested peer triggers a rechoke. */
const UPLOAD_SLOTS_FILLED = 4;

export interface ChokeInput {
  readonly now: number;
  /** We have every piece: the choker ranks peers by upload rate. */
  readonly seeding: boolean;
  /** Paused, or no content yet (a magnet before its metadata): every peer is choked. */
  readonly chokeAll: boolean;
  readonly state: ChokerState;
  readonly random: Random;
  /** The client's upload slots for this torrent (undefined: a torrent on its own). */
  readonly slots: number | undefined;
}

/** Runs the choker over the open peers and applies its decision; returns the choker's state. */
export function applyRechoke(peers: Iterable<PeerSession>, input: ChokeInput): ChokerState {
  const open = [...peers].filter((p) => p.isOpen);
  if (input.chokeAll) {
    for (const p of open) p.setChoking(true);
    return input.state;
  }
  const { now } = input;
  const result = rechoke({
    peers: open.map((p) => chokerPeer(p, now)),
    seeding: input.seeding,
    now,
    state: input.state,
    random: input.random,
  });
  const unchoked = input.slots !== undefined ? capUnchoked(result, input.slots) : result.unchoked;
  for (const p of open) p.setChoking(!unchoked.has(p.id));
  return result.state;
}

/** Whether an upload slot is free: a newly interested peer is then unchoked at once. */
export function uploadSlotFree(peers: Iterable<PeerSession>): boolean {
  let unchokedInterested = 0;
  for (const p of peers) if (p.isOpen && !p.amChoking && p.peerInterested) unchokedInterested++;
  return unchokedInterested < UPLOAD_SLOTS_FILLED;
}
