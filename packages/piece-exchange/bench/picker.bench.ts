/**
 * The cost of one pick as the piece count grows (issue #22): the bucketed `PiecePicker` next to
 * the scanning picker it replaced (`scan-picker.ts`, kept as the reference), interleaved in the
 * same run, on 1,000 / 10,000 / 100,000 pieces of 16 KiB (one block each, so every picked
 * block starts a new piece: the worst case for the picker).
 *
 * Each round: 30 peers announce their pieces (25 seeds, 5 with a random half), then either
 * (fresh) nothing is verified, or (resumed) resume data marks a random half verified; then
 * `PICKS` blocks are picked 8 at a time, round-robin over the peers, each received and verified
 * at once, with a `have` from a partial peer every 4 picks. The table gives the time per picked
 * block (median of the rounds), for seeds and for the half-bitfield peers apart, and the per-piece cost of announcing and resuming, which are
 * linear by nature and should be flat per piece.
 */

import { fmt, report } from '@peerkit/dev-kit/bench';
import type { Random } from '@peerkit/transport';
import { PiecePicker, type PieceSet } from '../src/picker';
import { BLOCK_LENGTH } from '../src/wire/messages';
import { ScanPiecePicker } from './scan-picker';

const SIZES = (process.env.BENCH_PIECES ?? '1000,10000,100000').split(',').map(Number);
const PICKS = Number(process.env.BENCH_PICKS ?? 400);
const PEERS = 30;
const SEEDS = 25;

/** xorshift32, so every round of both pickers sees the same swarm. */
function seeded(seed: number): Random {
  let x = seed >>> 0 || 0x9e3779b9;
  const next = (): number => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
  return {
    bytes: (length) => Uint8Array.from({ length }, () => next() & 0xff),
    int: (max) => next() % max,
  };
}

type Picker = PiecePicker | ScanPiecePicker;
const IMPLS = {
  scan: (n: number, random: Random): Picker =>
    new ScanPiecePicker({
      pieceCount: n,
      pieceLength: BLOCK_LENGTH,
      totalLength: n * BLOCK_LENGTH,
      random,
    }),
  buckets: (n: number, random: Random): Picker =>
    new PiecePicker({
      pieceCount: n,
      pieceLength: BLOCK_LENGTH,
      totalLength: n * BLOCK_LENGTH,
      random,
    }),
};
type Impl = keyof typeof IMPLS;

interface Round {
  announceUsPerPiece: number;
  resumeUsPerPiece: number;
  /** µs per block picked for a seed. */
  seedUs: number;
  /** µs per block picked for a peer with a random half of the pieces. */
  halfUs: number;
}

function round(impl: Impl, n: number, resumed: boolean, seed: number): Round {
  const random = seeded(seed);
  const swarmRandom = seeded(seed + 1);
  const peers: Uint8Array[] = [];
  for (let p = 0; p < PEERS; p++) {
    const bits = new Uint8Array(n);
    for (let i = 0; i < n; i++) bits[i] = p < SEEDS || swarmRandom.int(2) === 0 ? 1 : 0;
    peers.push(bits);
  }
  const sets: PieceSet[] = peers.map((bits) => ({ has: (i) => bits[i] === 1 }));
  const picker = IMPLS[impl](n, random);

  let t = performance.now();
  for (const set of sets) picker.addAvailability(set);
  const announceUsPerPiece = ((performance.now() - t) * 1000) / (PEERS * n);

  t = performance.now();
  let resumedCount = 0;
  if (resumed) {
    for (let i = 0; i < n; i++) {
      if (swarmRandom.int(2) === 0) {
        picker.setHave(i);
        resumedCount++;
      }
    }
  }
  const resumeUsPerPiece = resumed ? ((performance.now() - t) * 1000) / resumedCount : 0;

  let picked = 0;
  let calls = 0;
  const ms = [0, 0];
  const blocksBy = [0, 0];
  while (picked < PICKS) {
    const peer = calls % PEERS;
    calls++;
    if (calls % 4 === 0) {
      const partialPeer = SEEDS + (calls % (PEERS - SEEDS));
      const piece = swarmRandom.int(n);
      if (peers[partialPeer]![piece] === 0) {
        peers[partialPeer]![piece] = 1;
        picker.incrementAvailability(piece);
      }
    }
    const kind = peer < SEEDS ? 0 : 1;
    t = performance.now();
    const blocks = picker.pick(peer, sets[peer]!, 8);
    ms[kind]! += performance.now() - t;
    blocksBy[kind]! += blocks.length;
    if (blocks.length === 0 && picker.isComplete) break;
    for (const b of blocks) {
      if (picker.received(peer, b.piece, b.offset).pieceComplete) picker.setHave(b.piece);
    }
    picked += blocks.length;
  }
  return {
    announceUsPerPiece,
    resumeUsPerPiece,
    seedUs: (ms[0]! * 1000) / blocksBy[0]!,
    halfUs: (ms[1]! * 1000) / blocksBy[1]!,
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

const rows: (string | number)[][] = [];
const raw: Record<string, Round[]> = {};
for (const n of SIZES) {
  const rounds = Math.max(3, Math.min(15, Math.round(30_000 / n)));
  for (const resumed of [false, true]) {
    for (let r = 0; r < rounds; r++) {
      // Interleaved: both pickers run each round on the same swarm before the next round.
      for (const impl of Object.keys(IMPLS) as Impl[]) {
        const key = `${n}/${resumed}/${impl}`;
        raw[key] ??= [];
        raw[key].push(round(impl, n, resumed, 1000 + r));
      }
    }
    const get = (impl: Impl, f: (x: Round) => number) =>
      median(raw[`${n}/${resumed}/${impl}`]!.map(f));
    const before = get('scan', (x) => x.seedUs);
    const after = get('buckets', (x) => x.seedUs);
    rows.push([
      n.toLocaleString('en-US'),
      resumed ? 'resumed (half verified)' : 'fresh',
      fmt(before),
      fmt(after),
      `${fmt(before / after)}x`,
      fmt(get('scan', (x) => x.halfUs)),
      fmt(get('buckets', (x) => x.halfUs)),
      fmt(get('buckets', (x) => x.announceUsPerPiece)),
      resumed ? fmt(get('buckets', (x) => x.resumeUsPerPiece)) : '-',
    ]);
  }
}

report({
  package: '@peerkit/piece-exchange',
  name: 'picker',
  title: `piece picker: time per picked block, 16 KiB pieces, ${PEERS} peers (${SEEDS} seeds), ${PICKS} blocks picked 8 at a time`,
  columns: [
    'pieces',
    'start',
    'seed: µs/block before (scan)',
    'seed: µs/block after (buckets)',
    'seed: speed-up',
    'half-bitfield peer: before',
    'half-bitfield peer: after',
    'after: announce µs/piece/peer',
    'after: resume µs/piece',
  ],
  rows,
  notes: [
    'Before = the scanning picker (bench/scan-picker.ts), after = the bucketed PiecePicker, interleaved round by round on the same seeded swarm; medians. Announce (a bitfield) and resume are O(pieces) once; a pick for a seed does not grow with the piece count. A peer with a random half of the pieces still skips the rarer pieces it lacks (here every piece only seeds have, 1/32 of them), as in libtorrent: that part stays proportional to the piece count.',
  ],
});
