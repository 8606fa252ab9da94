/**
 * The cost of checking a piece with BEP 52 merkle hashing next to BEP 3 SHA-1, in the same run:
 * a 256 KiB piece fed in 16 KiB blocks (as they arrive from peers) to the v1 hash (SHA-1), the
 * v2 hash (`MerkleHasher`: one SHA-256 per 16 KiB leaf, then 15 interior nodes) and a hybrid's
 * two, with plain SHA-256 over the same bytes as the reference (the floor any v2 check pays).
 * Rounds interleave the cases; the table gives each case's median MiB/s.
 */
import { createHash } from 'node:crypto';
import { fmt, rate, report } from '@peerkit/dev-kit/bench';
import { MerkleHasher } from '../src/storage/v2-verify';

const PIECE = 256 * 1024;
const BLOCK = 16 * 1024;
const data = new Uint8Array(PIECE).map((_, i) => (i * 131) & 0xff);
const blocks = Array.from({ length: PIECE / BLOCK }, (_, i) =>
  data.subarray(i * BLOCK, (i + 1) * BLOCK),
);

function feed(hash: { update(b: Uint8Array): unknown }): void {
  for (const b of blocks) hash.update(b);
}

const cases: [string, () => unknown][] = [
  ['SHA-256 of the piece (reference)', () => createHash('sha256').update(data).digest()],
  [
    'v1: SHA-1, block by block',
    () => {
      const h = createHash('sha1');
      feed(h);
      return h.digest();
    },
  ],
  [
    'v2: MerkleHasher, block by block',
    () => {
      const h = new MerkleHasher(PIECE, PIECE / BLOCK);
      feed(h);
      return h.digest();
    },
  ],
  [
    'hybrid: both',
    () => {
      const a = createHash('sha1');
      const b = new MerkleHasher(PIECE, PIECE / BLOCK);
      for (const block of blocks) {
        a.update(block);
        b.update(block);
      }
      return [a.digest(), b.digest()];
    },
  ],
];

// Interleaved rounds, median per case: the machine's load changes during a run.
const ROUNDS = 7;
const samples = cases.map(() => [] as number[]);
for (let round = 0; round < ROUNDS; round++) {
  for (const [c, [, fn]] of cases.entries()) {
    samples[c]!.push((rate(fn, 300) * PIECE) / (1024 * 1024));
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const reference = median(samples[0]!);
const rows = cases.map(([name], c) => {
  const mibs = median(samples[c]!);
  return [name, fmt(mibs), `${fmt(mibs / reference, 2)}×`];
});
report({
  package: '@peerkit/piece-exchange',
  name: 'v2-hashing',
  title: 'piece verification throughput, 256 KiB pieces in 16 KiB blocks',
  columns: ['hash', 'MiB/s', 'vs SHA-256'],
  rows,
});
