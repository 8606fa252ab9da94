/**
 * BEP 52 merkle trees against a simple model: the root of a perfect binary tree over the leaves
 * padded with all-zero hashes to a power of two, built recursively. Any leaf count; proofs
 * (uncle hashes) verify for every node and fail for a changed node or uncle; the incremental
 * piece hasher and the hash-request answers agree with the tree.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nextPowerOfTwo, rootFromPieceLayer } from '../src/metainfo/merkle';
import {
  leafHashes,
  MerkleTree,
  rootFromProof,
  subtreeRoot,
  verifyProof,
} from '../src/metainfo/merkle-tree';
import { MerkleHasher } from '../src/storage/v2-verify';
import { answerHashRequest, hashesProven, pieceLayerRequest } from '../src/v2/hash-exchange';
import { PieceLayers } from '../src/v2/piece-layers';

const sha = (...parts: Uint8Array[]) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
};
const ZERO = new Uint8Array(32);

/** The model: BEP 52's tree, recursively, leaves beyond the given ones all zero. */
function modelRoot(leaves: readonly Uint8Array[], width: number): Uint8Array {
  if (width === 1) return leaves[0] ?? ZERO;
  const half = width / 2;
  return sha(modelRoot(leaves.slice(0, half), half), modelRoot(leaves.slice(half), half));
}

const arbLeaves = (max: number) =>
  fc.array(fc.uint8Array({ minLength: 32, maxLength: 32 }), { minLength: 1, maxLength: max });

const concat = (parts: readonly Uint8Array[]) => new Uint8Array(Buffer.concat(parts));

describe('BEP 52 merkle tree', () => {
  it('has the model root for any number of leaves, padded to a power of two', () => {
    fc.assert(
      fc.property(arbLeaves(300), fc.nat(3), (leaves, extra) => {
        const width = nextPowerOfTwo(leaves.length) * 2 ** extra;
        const tree = new MerkleTree(concat(leaves), width);
        expect(Buffer.from(tree.root)).toEqual(Buffer.from(modelRoot(leaves, width)));
      }),
      { numRuns: 200 },
    );
  });

  it('every node of every layer is the model root of its subtree', () => {
    fc.assert(
      fc.property(arbLeaves(40), (leaves) => {
        const tree = new MerkleTree(concat(leaves));
        for (let layer = 0; layer <= tree.height; layer++) {
          const span = 2 ** layer;
          for (let i = 0; i < tree.width(layer); i++) {
            const model = modelRoot(leaves.slice(i * span, (i + 1) * span), span);
            expect(Buffer.from(tree.node(layer, i))).toEqual(Buffer.from(model));
          }
        }
      }),
      { numRuns: 100 },
    );
  });

  it('the uncle hashes of any node prove it, and a changed node or uncle does not', () => {
    fc.assert(
      fc.property(arbLeaves(100), fc.nat(), fc.nat(), fc.nat(), (leaves, l, n, flip) => {
        const tree = new MerkleTree(concat(leaves));
        const layer = l % (tree.height + 1);
        const index = n % tree.width(layer);
        const node = tree.node(layer, index);
        const uncles = tree.proof(layer, index);
        expect(uncles.length).toBe(tree.height - layer);
        expect(verifyProof(node, index, uncles, tree.root)).toBe(true);
        const changed = Uint8Array.from(node);
        changed[flip % 32]! ^= 1;
        expect(verifyProof(changed, index, uncles, tree.root)).toBe(false);
        if (uncles.length > 0) {
          const bad = uncles.map((u) => Uint8Array.from(u));
          bad[flip % bad.length]![flip % 32]! ^= 0x80;
          expect(verifyProof(node, index, bad, tree.root)).toBe(false);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('a piece layer hashes up to the root (rootFromPieceLayer)', () => {
    fc.assert(
      fc.property(arbLeaves(130), fc.integer({ min: 0, max: 3 }), (leaves, pieceLayer) => {
        const pieceBlocks = 2 ** pieceLayer;
        const width = Math.max(nextPowerOfTwo(leaves.length), pieceBlocks);
        const tree = new MerkleTree(concat(leaves), width);
        const pieces = Math.ceil(leaves.length / pieceBlocks);
        const layer = tree.layerNodes(pieceLayer, 0, pieces);
        const root = rootFromPieceLayer(layer, pieceBlocks * 16384);
        expect(Buffer.from(root)).toEqual(Buffer.from(tree.root));
      }),
      { numRuns: 200 },
    );
  });

  it('MerkleHasher gives the tree root of the data, whatever the chunking and padding', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 9 * 16384 + 100 }),
        fc.array(fc.integer({ min: 1, max: 40_000 }), { minLength: 1, maxLength: 8 }),
        fc.nat(2),
        fc.nat(5000),
        (length, cuts, extra, padding) => {
          const data = new Uint8Array(length).map((_, i) => (i * 31 + length) & 0xff);
          const blocks = Math.ceil(length / 16384);
          const width = nextPowerOfTwo(blocks) * 2 ** extra;
          const hasher = new MerkleHasher(length, width);
          const fed = concat([data, new Uint8Array(padding)]);
          for (let at = 0, i = 0; at < fed.length; i++) {
            const take = cuts[i % cuts.length]!;
            hasher.update(fed.subarray(at, at + take));
            at += take;
          }
          const leaves = leafHashes(data);
          for (let b = 0; b < blocks; b++) {
            const block = data.subarray(b * 16384, (b + 1) * 16384);
            expect(Buffer.from(leaves.subarray(b * 32, b * 32 + 32))).toEqual(
              Buffer.from(sha(block)),
            );
          }
          const tree = new MerkleTree(leaves, width);
          expect(Buffer.from(hasher.digest())).toEqual(Buffer.from(tree.root));
        },
      ),
      { numRuns: 100 },
    );
  });

  it('hash request answers prove against the pieces root; tampered answers do not', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 1500 }),
        fc.nat(),
        fc.nat(),
        fc.nat(31),
        (pieces, chunk, proof, flip) => {
          const pieceLength = 4 * 16384;
          const layer = concat(
            Array.from({ length: pieces }, (_, i) => sha(new Uint8Array([i & 0xff, i >> 8]))),
          );
          const root = rootFromPieceLayer(layer, pieceLength);
          const file = { offset: 0, length: pieces * pieceLength, piecesRoot: root };
          const known = new Map([[Buffer.from(root).toString('hex'), layer]]);
          const layers = new PieceLayers([file], pieceLength, known);
          const first = pieceLayerRequest(layers, file, 0);
          const chunks = Math.ceil(pieces / first.length);
          const index = (chunk % chunks) * first.length;
          const request = { type: 'hashRequest' as const, ...first, index };
          const answer = answerHashRequest(layers, request);
          if (answer.type !== 'hashes') throw new Error('rejected');
          expect(hashesProven(answer, root)).toBe(true);
          for (let i = 0; i < answer.length && index + i < pieces; i++) {
            const expected = layer.subarray((index + i) * 32, (index + i + 1) * 32);
            expect(Buffer.from(answer.hashes[i]!)).toEqual(Buffer.from(expected));
          }
          const bad = { ...answer, hashes: answer.hashes.map((h) => Uint8Array.from(h)) };
          bad.hashes[proof % bad.hashes.length]![flip]! ^= 1;
          expect(hashesProven(bad, root)).toBe(false);
          // An empty fresh PieceLayers fetches the whole layer from such answers.
          const fresh = new PieceLayers([file], pieceLength);
          expect(fresh.missing()).toHaveLength(1);
          expect(fresh.add(file, layer)).toBe(true);
          expect(fresh.missing()).toHaveLength(0);
          // A request outside the tree or for a file we do not know is rejected.
          const far = { ...request, index: 1 << 30 };
          expect(answerHashRequest(layers, far).type).toBe('hashReject');
          const other = { ...request, piecesRoot: new Uint8Array(32) };
          expect(answerHashRequest(layers, other).type).toBe('hashReject');
        },
      ),
      { numRuns: 40 },
    );
  });

  it('subtreeRoot and rootFromProof compose to the tree root', () => {
    fc.assert(
      fc.property(arbLeaves(64), fc.nat(6), fc.nat(), (leaves, k, n) => {
        const tree = new MerkleTree(concat(leaves));
        const size = 2 ** Math.min(k, tree.height);
        const index = (n % (tree.width(0) / size)) * size;
        const nodes = tree.layerNodes(0, index, size);
        const top = Math.log2(size);
        const root = rootFromProof(subtreeRoot(nodes), index / size, tree.proof(top, index / size));
        expect(Buffer.from(root)).toEqual(Buffer.from(tree.root));
      }),
      { numRuns: 200 },
    );
  });
});
