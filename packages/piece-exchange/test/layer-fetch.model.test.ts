/**
 * Model-based test (fc.commands) of `PieceLayerFetcher`, the pure core that fetches a v2
 * magnet's piece layers chunk by chunk: whatever peers ask, answer, reject, lie about or leave,
 * and however time passes, a chunk is asked of one peer at a time (until its request times out),
 * never of a peer that failed it, never once received; `next` says nothing only when nothing is
 * askable; a layer is taken only from proven answers, and the fetch completes exactly when every
 * chunk has been proven.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rootFromPieceLayer } from '../src/metainfo/merkle';
import { answerHashRequest, PieceLayerFetcher } from '../src/v2/hash-exchange';
import { PieceLayers, type V2File } from '../src/v2/piece-layers';
import type { HashRequestFields } from '../src/wire/hashes';

const PIECE_LENGTH = 32_768;
const TIMEOUT = 1000;
const PEERS = 2;

function fileOf(pieces: number, seed: number): { file: V2File; layer: Uint8Array } {
  const layer = new Uint8Array(
    Buffer.concat(
      Array.from({ length: pieces }, (_, i) =>
        createHash('sha256').update(`${seed}/${i}`).digest(),
      ),
    ),
  );
  const piecesRoot = rootFromPieceLayer(layer, PIECE_LENGTH);
  return { file: { offset: 0, length: pieces * PIECE_LENGTH, piecesRoot }, layer };
}

// Two chunks of 512 hashes, one of 4, one file of one piece (needs no layer).
const FILES = [fileOf(700, 1), fileOf(3, 2), fileOf(1, 3)];
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const key = (root: Uint8Array, index: number) => `${hex(root)}:${index}`;
/** Every chunk the fetch needs. */
const CHUNKS = FILES.filter((f) => f.file.length > PIECE_LENGTH).flatMap(({ file }) => {
  const pieces = file.length / PIECE_LENGTH;
  const length = Math.min(512, 2 ** Math.ceil(Math.log2(pieces)));
  return Array.from({ length: Math.ceil(pieces / length) }, (_, i) => ({
    file,
    index: i * length,
  }));
});

interface Model {
  now: number;
  received: Set<string>;
  pending: Map<string, { peer: number; at: number }>;
  failed: Map<string, Set<number>>;
}
interface Real {
  fetcher: PieceLayerFetcher;
  layers: PieceLayers;
  /** An honest peer's tree of every file. */
  truth: PieceLayers;
}

const askable = (m: Model, peer: number, k: string) => {
  const p = m.pending.get(k);
  return (
    !m.received.has(k) &&
    (p === undefined || m.now - p.at >= TIMEOUT) &&
    !m.failed.get(k)?.has(peer)
  );
};

class Next implements fc.Command<Model, Real> {
  constructor(readonly peer: number) {}
  check = () => true;
  run(m: Model, r: Real): void {
    const request = r.fetcher.next(this.peer, m.now);
    if (request === undefined) {
      for (const c of CHUNKS)
        expect(askable(m, this.peer, key(c.file.piecesRoot, c.index))).toBe(false);
      return;
    }
    const k = key(request.piecesRoot, request.index);
    expect(askable(m, this.peer, k)).toBe(true);
    expect(request.baseLayer).toBe(1);
    m.pending.set(k, { peer: this.peer, at: m.now });
  }
  toString = () => `next(${this.peer})`;
}

class Answer implements fc.Command<Model, Real> {
  constructor(
    readonly peer: number,
    readonly kind: 'good' | 'bad' | 'reject',
    readonly pick: number,
  ) {}
  check = () => true;
  run(m: Model, r: Real): void {
    // Mostly a chunk this peer was asked for; else any chunk (an answer nobody asked for).
    const mine = CHUNKS.filter(
      (c) => m.pending.get(key(c.file.piecesRoot, c.index))?.peer === this.peer,
    );
    const from = mine.length > 0 && this.pick % 4 !== 0 ? mine : CHUNKS;
    const chunk = from[this.pick % from.length]!;
    const k = key(chunk.file.piecesRoot, chunk.index);
    const fields: HashRequestFields = {
      piecesRoot: chunk.file.piecesRoot,
      baseLayer: 1,
      index: chunk.index,
      length: Math.min(512, 2 ** Math.ceil(Math.log2(chunk.file.length / PIECE_LENGTH))),
      proofLayers: Math.max(0, Math.ceil(Math.log2(chunk.file.length / PIECE_LENGTH)) - 1),
    };
    let message = answerHashRequest(r.truth, { type: 'hashRequest', ...fields });
    if (message.type !== 'hashes') throw new Error('the honest tree rejected a request');
    if (this.kind === 'reject') message = { type: 'hashReject', ...fields } as never;
    if (this.kind === 'bad') {
      const hashes = message.hashes.map((h) => Uint8Array.from(h));
      hashes[0]![0]! ^= 1;
      message = { ...message, hashes };
    }
    const result = r.fetcher.receive(this.peer, message);
    const pending = m.pending.get(k);
    if (pending?.peer !== this.peer) {
      expect(result).toBe('unexpected');
      return;
    }
    m.pending.delete(k);
    if (this.kind === 'good') {
      expect(result).toBe('proven');
      m.received.add(k);
    } else {
      expect(result).toBe(this.kind === 'bad' ? 'bad' : 'rejected');
      const failed = m.failed.get(k) ?? new Set<number>();
      m.failed.set(k, failed.add(this.peer));
    }
  }
  toString = () => `answer(${this.peer}, ${this.kind}, ${this.pick})`;
}

class Forget implements fc.Command<Model, Real> {
  constructor(readonly peer: number) {}
  check = () => true;
  run(m: Model, r: Real): void {
    r.fetcher.forget(this.peer);
    for (const [k, p] of m.pending) if (p.peer === this.peer) m.pending.delete(k);
  }
  toString = () => `forget(${this.peer})`;
}

class Wait implements fc.Command<Model, Real> {
  constructor(readonly ms: number) {}
  check = () => true;
  run(m: Model): void {
    m.now += this.ms;
  }
  toString = () => `wait(${this.ms})`;
}

/** After every step: complete exactly when every chunk is proven; layers only from proofs. */
function invariant(m: Model, r: Real): void {
  expect(r.fetcher.complete).toBe(
    CHUNKS.every((c) => m.received.has(key(c.file.piecesRoot, c.index))),
  );
  for (const { file, layer } of FILES) {
    if (file.length <= PIECE_LENGTH) continue;
    const done = CHUNKS.filter((c) => c.file === file).every((c) =>
      m.received.has(key(c.file.piecesRoot, c.index)),
    );
    expect(r.layers.complete(file)).toBe(done);
    if (done) expect(hex(r.layers.known().get(hex(file.piecesRoot))!)).toBe(hex(layer));
  }
}

describe('PieceLayerFetcher model', () => {
  it('asks each chunk of one peer at a time, never twice of a liar, completes on proofs only', () => {
    const peer = fc.nat(PEERS - 1);
    const commands = [
      peer.map((p) => new Next(p)),
      fc
        .tuple(
          peer,
          fc.constantFrom('good', 'good', 'bad', 'reject') as fc.Arbitrary<
            'good' | 'bad' | 'reject'
          >,
          fc.nat(),
        )
        .map(([p, kind, pick]) => new Answer(p, kind, pick)),
      peer.map((p) => new Forget(p)),
      fc.integer({ min: 1, max: 1500 }).map((ms) => new Wait(ms)),
    ];
    fc.assert(
      fc.property(fc.commands(commands, { maxCommands: 60 }), (cmds) => {
        const files = FILES.map((f) => f.file);
        const layers = new PieceLayers(files, PIECE_LENGTH);
        const truth = new PieceLayers(
          files,
          PIECE_LENGTH,
          new Map(FILES.map((f) => [hex(f.file.piecesRoot), f.layer])),
        );
        const real: Real = { fetcher: new PieceLayerFetcher(layers, TIMEOUT), layers, truth };
        const model: Model = { now: 0, received: new Set(), pending: new Map(), failed: new Map() };
        fc.modelRun(
          () => ({ model, real }),
          [...cmds].map((c) => ({
            check: (m: Readonly<Model>) => c.check(m),
            run: (m: Model, r: Real) => {
              c.run(m, r);
              invariant(m, r);
            },
            toString: () => c.toString(),
          })),
        );
      }),
      { numRuns: 150 },
    );
  });
});
