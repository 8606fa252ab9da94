/**
 * The sans-IO peer session's BEP 52 part, message by message: the v2 bit in our handshake, a
 * hybrid reached by its truncated v2 info-hash (answered with that hash), hash requests answered
 * from our piece layers (hashes that prove against the pieces root, or a hash reject), answers
 * handed to the torrent, and a malformed hash message a wire error (the connection closes).
 */
import { describe, expect, it } from 'vitest';
import { Bitfield } from '../src/bitfield';
import { rootFromPieceLayer } from '../src/metainfo/merkle';
import { PiecePicker } from '../src/picker';
import type { PeerOutput, PeerSessionHost } from '../src/session/peer-host';
import { DEFAULT_LIMITS } from '../src/session/peer-limits';
import { HASH_ANSWERS_PER_TICK, PeerSession } from '../src/session/peer-session';
import { hashesProven } from '../src/v2/hash-exchange';
import { PieceLayers } from '../src/v2/piece-layers';
import { torrentGeometry, WireDecoder, type WireFrame } from '../src/wire/decoder';
import { reservedBytes, supportsV2 } from '../src/wire/handshake';
import {
  decodeHashMessage,
  encodeHashMessage,
  type HashesMessage,
  type HashRejectMessage,
} from '../src/wire/hashes';
import { seededRandom } from './helpers';

const V1_HASH = new Uint8Array(20).fill(0x11);
const V2_HASH = new Uint8Array(20).fill(0x22);
const PIECE_LENGTH = 32_768;
const PIECES = 5;

function setup(outgoing = false) {
  const layer = new Uint8Array(PIECES * 32).map((_, i) => (i * 7) & 0xff);
  const piecesRoot = rootFromPieceLayer(layer, PIECE_LENGTH);
  const file = { offset: 0, length: PIECES * PIECE_LENGTH - 100, piecesRoot };
  const layers = new PieceLayers(
    [file],
    PIECE_LENGTH,
    new Map([[Buffer.from(piecesRoot).toString('hex'), layer]]),
  );
  const total = file.length;
  const sent: WireFrame[] = [];
  const decoder = new WireDecoder({ handshake: false });
  let handshakeSeen = false;
  const answers: (HashesMessage | HashRejectMessage)[] = [];
  const host: PeerSessionHost = {
    clock: { now: () => 0 },
    infoHash: V1_HASH,
    altInfoHash: V2_HASH,
    v2: true,
    peerId: new Uint8Array(20).fill(1),
    listenPort: undefined,
    content: {
      picker: new PiecePicker({
        pieceCount: PIECES,
        pieceLength: PIECE_LENGTH,
        totalLength: total,
        random: seededRandom(1),
        sequential: false,
      }),
      have: Bitfield.full(PIECES),
      geometry: torrentGeometry(total, PIECE_LENGTH),
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
    onHashes: (_peer, message) => answers.push(message),
  };
  const handshakes: Uint8Array[] = [];
  const out: PeerOutput = {
    send: (bytes) => {
      if (!handshakeSeen && bytes[0] === 19) {
        handshakeSeen = true;
        handshakes.push(bytes);
        return;
      }
      sent.push(...decoder.decode(bytes));
    },
    serve: () => undefined,
    geometryKnown: () => undefined,
    stalledSince: () => undefined,
    close: () => undefined,
  };
  const session = new PeerSession(host, out, {
    id: 1,
    remoteAddress: { host: '127.0.0.1', port: 1 },
    outgoing,
  });
  session.start();
  const hashFrames = () =>
    sent.flatMap((f) => (f.type === 'unknown' ? [decodeHashMessage(f.id, f.payload)] : []));
  const receiveHash = (bytes: Uint8Array) => {
    const frame = new WireDecoder({ handshake: false }).decode(bytes)[0]!;
    session.receive(frame);
  };
  return { session, handshakes, hashFrames, receiveHash, answers, piecesRoot, layer };
}

describe('PeerSession and BEP 52', () => {
  it('answers a handshake on the truncated v2 info-hash with that hash and the v2 bit', () => {
    const { session, handshakes } = setup();
    session.receive({
      type: 'handshake',
      reserved: reservedBytes({ extended: true, fast: true, v2: true }),
      infoHash: V2_HASH,
      peerId: new Uint8Array(20).fill(2),
    });
    expect(session.isOpen).toBe(true);
    expect(session.supportsV2).toBe(true);
    const ours = handshakes[0]!;
    expect(Buffer.from(ours.subarray(28, 48))).toEqual(Buffer.from(V2_HASH));
    expect(supportsV2(ours.subarray(20, 28))).toBe(true);
  });

  it('refuses a handshake for another info-hash', () => {
    const { session } = setup();
    expect(() =>
      session.receive({
        type: 'handshake',
        reserved: reservedBytes({}),
        infoHash: new Uint8Array(20).fill(0x33),
        peerId: new Uint8Array(20).fill(2),
      }),
    ).toThrow(/another torrent/);
  });

  it('answers hash requests from the piece layers, and rejects what it cannot serve', () => {
    const { session, hashFrames, receiveHash, piecesRoot, layer } = setup();
    session.receive({
      type: 'handshake',
      reserved: reservedBytes({ fast: true, v2: true }),
      infoHash: V1_HASH,
      peerId: new Uint8Array(20).fill(2),
    });
    const base = { piecesRoot, baseLayer: 1, index: 0, length: 8, proofLayers: 2 };
    receiveHash(encodeHashMessage({ type: 'hashRequest', ...base }));
    receiveHash(encodeHashMessage({ type: 'hashRequest', ...base, baseLayer: 0 }));
    receiveHash(encodeHashMessage({ type: 'hashRequest', ...base, index: 8 }));
    const [answer, leaves, outside] = hashFrames();
    if (answer?.type !== 'hashes') throw new Error(`got ${answer?.type}`);
    expect(hashesProven(answer, piecesRoot)).toBe(true);
    expect(Buffer.concat(answer.hashes.slice(0, PIECES))).toEqual(Buffer.from(layer));
    // This output cannot read pieces, so no leaf hashes (test/leaf-hashes.test.ts has them),
    // and piece 8+ is beyond the tree.
    expect(leaves?.type).toBe('hashReject');
    expect(outside?.type).toBe('hashReject');
  });

  it('hands hashes and hash rejects to the torrent; a malformed one is a wire error', () => {
    const { session, receiveHash, answers, piecesRoot } = setup();
    session.receive({
      type: 'handshake',
      reserved: reservedBytes({ v2: true }),
      infoHash: V1_HASH,
      peerId: new Uint8Array(20).fill(2),
    });
    const fields = { piecesRoot, baseLayer: 1, index: 0, length: 2, proofLayers: 0 };
    receiveHash(encodeHashMessage({ type: 'hashReject', ...fields }));
    const hashes = [new Uint8Array(32), new Uint8Array(32).fill(1)];
    receiveHash(encodeHashMessage({ type: 'hashes', ...fields, hashes, uncles: [] }));
    expect(answers.map((a) => a.type)).toEqual(['hashReject', 'hashes']);
    const bad = encodeHashMessage({ type: 'hashReject', ...fields });
    bad[4 + 1 + 43] = 3; // length 3: not a power of two
    expect(() => receiveHash(bad)).toThrow(/power of two/);
  });

  it('a flood of hash requests gets rejects past the per-tick budget, answers again after a tick', () => {
    const { session, hashFrames, receiveHash, piecesRoot } = setup();
    session.receive({
      type: 'handshake',
      reserved: reservedBytes({ v2: true }),
      infoHash: V1_HASH,
      peerId: new Uint8Array(20).fill(2),
    });
    const request = encodeHashMessage({
      type: 'hashRequest',
      piecesRoot,
      baseLayer: 1,
      index: 0,
      length: 8,
      proofLayers: 2,
    });
    const flood = HASH_ANSWERS_PER_TICK / 8 + 10;
    for (let i = 0; i < flood; i++) receiveHash(request);
    const types = hashFrames().map((m) => m.type);
    expect(types).toHaveLength(flood);
    expect(types.filter((t) => t === 'hashes')).toHaveLength(HASH_ANSWERS_PER_TICK / 8);
    expect(types.slice(-10)).toEqual(Array(10).fill('hashReject'));
    session.tick(1);
    receiveHash(request);
    expect(hashFrames().at(-1)?.type).toBe('hashes');
  });
});
