/**
 * BEP 52 base-layer hash requests (one hash per 16 KiB block): answered with the block hashes of
 * pieces we have, computed from their bytes, with uncles that prove them against the file's
 * `pieces root`; never rejected right after a block request in their range that we serve
 * ("Clients MUST NOT reject a hash request with a base layer of zero if it immediately follows a
 * request for one of the chunks in the requested range and the client services the chunk request
 * with a piece message"); bounded reads per peer otherwise.
 */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Bitfield } from '../src/bitfield';
import { MERKLE_BLOCK_LENGTH } from '../src/metainfo/merkle';
import { MerkleTree } from '../src/metainfo/merkle-tree';
import { PiecePicker } from '../src/picker';
import type { PeerOutput, PeerSessionHost } from '../src/session/peer-host';
import { DEFAULT_LIMITS } from '../src/session/peer-limits';
import { MAX_LEAF_HASH_READS, PeerSession } from '../src/session/peer-session';
import { hashesProven } from '../src/v2/hash-exchange';
import { answerLeafHashes, planLeafHashes } from '../src/v2/leaf-hashes';
import { PieceLayers } from '../src/v2/piece-layers';
import { torrentGeometry, WireDecoder, type WireFrame } from '../src/wire/decoder';
import { reservedBytes } from '../src/wire/handshake';
import { decodeHashMessage, encodeHashMessage, type HashRequestMessage } from '../src/wire/hashes';
import { encodeRequest } from '../src/wire/messages';
import { seededRandom } from './helpers';

const INFO_HASH = new Uint8Array(20).fill(0x44);
const hex = (hashes: readonly Uint8Array[]) => hashes.map((h) => Buffer.from(h).toString('hex'));

/** A one-file v2 torrent over `data`: its piece layers and full (model) merkle tree. */
function v2File(data: Uint8Array, pieceLength: number) {
  const perPiece = pieceLength / MERKLE_BLOCK_LENGTH;
  const pieces = Math.ceil(data.length / pieceLength);
  const tree = MerkleTree.ofData(data, pieces > 1 ? perPiece : 1);
  const pieceLayer = Math.log2(perPiece);
  const file = { offset: 0, length: data.length, piecesRoot: tree.root };
  const known = new Map<string, Uint8Array>();
  if (pieces > 1)
    known.set(Buffer.from(tree.root).toString('hex'), tree.layerNodes(pieceLayer, 0, pieces));
  const layers = new PieceLayers([file], pieceLength, known);
  const piece = (p: number) => data.subarray(p * pieceLength, (p + 1) * pieceLength);
  return { file, layers, tree, pieces, piece };
}

function setup(options: { have?: Bitfield; corrupt?: number } = {}) {
  const pieceLength = 4 * MERKLE_BLOCK_LENGTH;
  const data = randomBytes(6 * pieceLength - 5000);
  const { file, layers, tree, pieces, piece } = v2File(data, pieceLength);
  const sent: WireFrame[] = [];
  const decoder = new WireDecoder({ handshake: false });
  let handshakeSeen = false;
  /** Reads under way: finished by the test (`finishReads`). */
  const reads: (() => void)[] = [];
  const host: PeerSessionHost = {
    clock: { now: () => 0 },
    infoHash: INFO_HASH,
    v2: true,
    peerId: new Uint8Array(20).fill(1),
    listenPort: undefined,
    content: {
      picker: new PiecePicker({
        pieceCount: pieces,
        pieceLength,
        totalLength: data.length,
        random: seededRandom(1),
        sequential: false,
      }),
      have: options.have ?? Bitfield.full(pieces),
      geometry: torrentGeometry(data.length, pieceLength),
      pieceLayers: layers,
    },
    metadataSize: undefined,
    paused: false,
    limits: DEFAULT_LIMITS,
    clientName: 'test',
    acceptHandshake: () => true,
    onReady: () => undefined,
    onClosed: () => undefined,
    onPeerInterest: () => undefined,
    onBlock: () => undefined,
    onExtensionHandshake: () => undefined,
    onMetadataMessage: () => undefined,
    onPex: () => undefined,
    onAvailability: () => undefined,
  };
  const served: number[] = [];
  const out: PeerOutput = {
    send: (bytes) => {
      if (!handshakeSeen && bytes[0] === 19) {
        handshakeSeen = true;
        return;
      }
      sent.push(...decoder.decode(bytes));
    },
    serve: () => served.push(1),
    geometryKnown: () => undefined,
    stalledSince: () => undefined,
    close: () => undefined,
    readPieces: (indices, done) =>
      reads.push(() =>
        done(
          indices.map((p) => {
            const bytes = Uint8Array.from(piece(p));
            if (p === options.corrupt) bytes[7]! ^= 1;
            return bytes;
          }),
        ),
      ),
  };
  const session = new PeerSession(host, out, {
    id: 1,
    remoteAddress: { host: '127.0.0.1', port: 1 },
    outgoing: false,
  });
  session.start();
  session.receive({
    type: 'handshake',
    reserved: reservedBytes({ fast: true, v2: true }),
    infoHash: INFO_HASH,
    peerId: new Uint8Array(20).fill(2),
  });
  session.setChoking(false);
  const receive = (bytes: Uint8Array) => {
    for (const frame of new WireDecoder({ handshake: false }).decode(bytes)) session.receive(frame);
  };
  const hashFrames = () =>
    sent.flatMap((f) => (f.type === 'unknown' ? [decodeHashMessage(f.id, f.payload)] : []));
  const finishReads = () => {
    while (reads.length > 0) reads.shift()!();
  };
  // Proof layers enough to reach the root from any request.
  const request = (index: number, length: number): HashRequestMessage => ({
    type: 'hashRequest',
    piecesRoot: file.piecesRoot,
    baseLayer: 0,
    index,
    length,
    proofLayers: tree.height - 1,
  });
  return { session, receive, hashFrames, finishReads, request, tree, file, served, reads };
}

describe('BEP 52 base-layer hash requests', () => {
  it('a leaf-layer request after a served block is answered with hashes that verify against the piece layer', () => {
    const { receive, hashFrames, finishReads, request, tree, file, served } = setup();
    // Block 1 of piece 2, then the hashes of piece 2's four blocks.
    receive(encodeRequest(2, MERKLE_BLOCK_LENGTH, MERKLE_BLOCK_LENGTH));
    expect(served.length).toBe(1);
    receive(encodeHashMessage(request(8, 4)));
    finishReads();
    const [answer] = hashFrames();
    if (answer?.type !== 'hashes') throw new Error(`got ${answer?.type}`);
    expect(hashesProven(answer, file.piecesRoot)).toBe(true);
    expect(hex(answer.hashes)).toEqual(hex([8, 9, 10, 11].map((i) => tree.node(0, i))));
    // From piece 2's block subtree the uncles reach the root through the piece layer.
    expect(answer.uncles.length).toBe(tree.height - 2);
  });

  it('is never rejected after a served block in its range, even with every read busy; others are', () => {
    const { receive, hashFrames, finishReads, request, file } = setup();
    for (let i = 0; i < MAX_LEAF_HASH_READS; i++) receive(encodeHashMessage(request(0, 4)));
    // Busy: a request out of the blue is rejected at once...
    receive(encodeHashMessage(request(4, 4)));
    expect(hashFrames().map((m) => m.type)).toEqual(['hashReject']);
    // ...one that follows a block request in its range waits for a read.
    receive(encodeRequest(5, 0, MERKLE_BLOCK_LENGTH));
    receive(encodeHashMessage(request(20, 4)));
    // A block request outside the range does not count.
    receive(encodeRequest(0, 0, MERKLE_BLOCK_LENGTH));
    receive(encodeHashMessage(request(16, 4)));
    expect(hashFrames().map((m) => m.type)).toEqual(['hashReject', 'hashReject']);
    finishReads();
    const answers = hashFrames().slice(2);
    expect(answers.map((m) => m.type)).toEqual(['hashes', 'hashes', 'hashes']);
    expect(answers.map((m) => m.index)).toEqual([0, 0, 20]);
    for (const m of answers)
      if (m.type === 'hashes') expect(hashesProven(m, file.piecesRoot)).toBe(true);
  });

  it('rejects pieces we do not have, a range past the file, and bytes that changed on disk', () => {
    const have = Bitfield.full(6);
    have.clear(3);
    const a = setup({ have });
    a.receive(encodeHashMessage(a.request(12, 4))); // piece 3
    a.receive(encodeHashMessage(a.request(8, 8))); // pieces 2 and 3
    a.receive(encodeHashMessage(a.request(32, 2))); // past the file's 8 pieces of padding
    a.receive(encodeHashMessage(a.request(0, 4)));
    a.finishReads();
    expect(a.hashFrames().map((m) => m.type)).toEqual([
      'hashReject',
      'hashReject',
      'hashReject',
      'hashes',
    ]);
    const b = setup({ corrupt: 1 });
    b.receive(encodeRequest(1, 0, MERKLE_BLOCK_LENGTH));
    b.receive(encodeHashMessage(b.request(4, 4)));
    b.finishReads();
    // Never hashes that fail: the piece no longer matches its piece-layer hash.
    expect(b.hashFrames().map((m) => m.type)).toEqual(['hashReject']);
  });

  it("any request over any file: the answer is the model tree's leaves, proven to the root", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 300_000 }),
        fc.nat(),
        fc.nat(),
        fc.nat(),
        (pieceShift, length, lengthPick, indexPick, proofPick) => {
          const pieceLength = MERKLE_BLOCK_LENGTH << pieceShift;
          const data = new Uint8Array(length).map((_, i) => (i * 31 + length) & 0xff);
          const { file, layers, tree, pieces, piece } = v2File(data, pieceLength);
          const perPiece = 2 ** layers.pieceLayer;
          const width = tree.leafCount;
          if (width < 2) return;
          const count = 2 ** (1 + (lengthPick % Math.min(9, Math.log2(width))));
          const index = (indexPick % (width / count)) * count;
          const proofLayers = proofPick % (tree.height + 1);
          const request: HashRequestMessage = {
            type: 'hashRequest',
            piecesRoot: file.piecesRoot,
            baseLayer: 0,
            index,
            length: count,
            proofLayers,
          };
          const plan = planLeafHashes(layers, Bitfield.full(pieces), request);
          const past = index >= Math.ceil(data.length / pieceLength) * perPiece && pieces > 1;
          if (plan === undefined) {
            expect(past).toBe(true);
            return;
          }
          const answer = answerLeafHashes(
            layers,
            request,
            plan,
            plan.pieces.map((p) => piece(p)),
          );
          if (answer === undefined) throw new Error('no answer');
          expect(hex(answer.hashes)).toEqual(
            hex(Array.from({ length: count }, (_, i) => tree.node(0, index + i))),
          );
          const full = tree.proof(Math.log2(count), index / count);
          expect(hex(answer.uncles)).toEqual(
            hex(full.slice(0, Math.max(0, proofLayers - (Math.log2(count) - 1)))),
          );
          if (answer.uncles.length === full.length)
            expect(hashesProven(answer, file.piecesRoot)).toBe(true);
        },
      ),
      { numRuns: 150 },
    );
  });
});
