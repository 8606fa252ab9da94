/**
 * Model-based test of the peer session state machine (`PeerSession`), with no sockets: random
 * sequences of remote messages, torrent calls and clock ticks drive a session and a simple
 * reference model of BEP 3 and BEP 6, and after every step the session's sent messages and state
 * must agree with the rules:
 *
 * - no `request` while the peer chokes us, unless the fast extension is on and the piece is in
 *   the peer's allowed-fast set (BEP 6); a `reject` never triggers an immediate re-request;
 * - a `choke` without the fast extension drops every outstanding request (BEP 3), and what is
 *   outstanding in the picker is always exactly what was requested on the wire and not yet
 *   answered, rejected, cancelled or dropped;
 * - when we choke under the fast extension, every queued request outside our allowed-fast grants
 *   is rejected (BEP 6), and a request we may not serve is rejected, never queued;
 * - interest follows availability: interested exactly while the peer has a piece we do not, and
 *   the last interested / not interested sent says so (BEP 3);
 * - the allowed-fast and suggest sets hold what the peer granted or suggested, minus what we have.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Bitfield } from '../src/bitfield';
import { PiecePicker } from '../src/picker';
import type { PeerOutput, PeerSessionHost } from '../src/session/peer-host';
import { DEFAULT_LIMITS } from '../src/session/peer-limits';
import { PeerSession } from '../src/session/peer-session';
import { allowedFastSet } from '../src/wire/allowed-fast';
import { torrentGeometry, WireDecoder, type WireFrame } from '../src/wire/decoder';
import { reservedBytes } from '../src/wire/handshake';
import { BLOCK_LENGTH } from '../src/wire/messages';
import { seededRandom } from './helpers';

// More pieces than the BEP 6 allowed-fast set (10), so that some requests are not granted.
const PIECES = 16;
const PIECE_LENGTH = 2 * BLOCK_LENGTH;
const TOTAL = PIECES * PIECE_LENGTH - 1000; // a short last piece
const INFO_HASH = new Uint8Array(20).fill(0xab);
const REMOTE = { host: '127.0.0.1', port: 6881 };

const pieceSize = (i: number) => (i === PIECES - 1 ? TOTAL - i * PIECE_LENGTH : PIECE_LENGTH);
const blockLength = (i: number, b: number) =>
  Math.min(BLOCK_LENGTH, pieceSize(i) - b * BLOCK_LENGTH);
const key = (piece: number, offset: number) => `${piece}/${offset}`;

interface Queued {
  index: number;
  begin: number;
  length: number;
}

interface Model {
  fast: boolean;
  peerChoking: boolean;
  amChoking: boolean;
  peerHas: Set<number>;
  weHave: Set<number>;
  allowedFast: Set<number>;
  granted: Set<number>;
  suggested: Set<number>;
  /** Requests sent and not answered, rejected, cancelled or dropped. */
  outstanding: Map<string, { piece: number; offset: number }>;
  queued: Queued[];
  now: number;
  lastReceivedAt: number;
  closed: boolean;
}

interface Real {
  session: PeerSession;
  picker: PiecePicker;
  have: Bitfield;
  clock: { t: number };
  /** Frames sent since the last step. */
  sent: WireFrame[];
  lastInterest: boolean | undefined;
  serveCalls: number;
  /** Pieces whose last block arrived in this step (verified by the "torrent" after the step). */
  completed: number[];
}

/** Feeds a frame as if the remote peer sent it. */
function receive(model: Model, real: Real, frame: WireFrame): void {
  model.lastReceivedAt = model.now;
  real.session.receive(frame);
}

/** The "torrent" verifies the pieces whose last block arrived and tells the session (`have`). */
function verifyCompleted(model: Model, real: Real): void {
  for (const piece of real.completed.splice(0)) {
    real.have.set(piece);
    real.picker.setHave(piece);
    model.weHave.add(piece);
    model.allowedFast.delete(piece);
    model.suggested.delete(piece);
    real.session.sendHave(piece);
  }
}

/** Applies what the session sent in this step to the model, checking each frame. */
function absorbSent(
  model: Model,
  real: Real,
  step: { choke?: boolean; reject?: boolean },
): Queued[] {
  const rejects: Queued[] = [];
  for (const f of real.sent.splice(0)) {
    switch (f.type) {
      case 'request': {
        // BEP 3 / BEP 6: requests only while unchoked, or for allowed-fast pieces.
        if (model.peerChoking) {
          expect(model.fast, 'request while choked without the fast extension').toBe(true);
          expect(model.allowedFast.has(f.index), `request for ${f.index} while choked`).toBe(true);
        }
        expect(step.choke, 'a choke triggered a request').not.toBe(true);
        expect(step.reject, 'a reject triggered an immediate re-request').not.toBe(true);
        expect(model.peerHas.has(f.index), 'request for a piece the peer lacks').toBe(true);
        expect(model.weHave.has(f.index), 'request for a piece we have').toBe(false);
        expect(model.outstanding.has(key(f.index, f.begin)), 'duplicate request').toBe(false);
        expect(f.length).toBe(blockLength(f.index, f.begin / BLOCK_LENGTH));
        model.outstanding.set(key(f.index, f.begin), { piece: f.index, offset: f.begin });
        break;
      }
      case 'cancel':
        expect(model.outstanding.delete(key(f.index, f.begin)), 'cancel of nothing').toBe(true);
        break;
      case 'reject':
        rejects.push({ index: f.index, begin: f.begin, length: f.length });
        break;
      case 'interested':
      case 'notInterested':
        real.lastInterest = f.type === 'interested';
        if (f.type === 'notInterested') model.outstanding.clear(); // requests given back
        break;
      default:
        break;
    }
  }
  return rejects;
}

/** The invariants that hold after every step. */
function checkInvariants(model: Model, real: Real): void {
  const s = real.session;
  if (model.closed) return;
  expect(s.peerChoking).toBe(model.peerChoking);
  expect(s.amChoking).toBe(model.amChoking);
  // Interest follows availability (BEP 3).
  const wanted = [...model.peerHas].some((i) => !model.weHave.has(i));
  expect(s.amInterested, 'interest follows availability').toBe(wanted);
  expect(real.lastInterest ?? false, 'the last interest message agrees').toBe(wanted);
  // The wire and the picker agree on what is outstanding.
  const inPicker = real.picker.requestsOf(s.id).map((r) => key(r.piece, r.offset));
  expect(new Set(inPicker)).toEqual(new Set(model.outstanding.keys()));
  expect(new Set(s.allowedFast)).toEqual(model.allowedFast);
  expect(new Set(s.suggested)).toEqual(model.suggested);
  expect(s.queuedUploads).toBe(model.queued.length);
}

type Cmd = fc.Command<Model, Real>;

function step(
  name: string,
  run: (
    model: Model,
    real: Real,
  ) => { choke?: boolean; reject?: boolean; rejects?: (q: Queued[]) => void } | undefined,
): Cmd {
  return {
    check: (model) => !model.closed,
    run(model, real) {
      const flags = run(model, real) ?? {};
      const rejects = absorbSent(model, real, flags);
      verifyCompleted(model, real);
      absorbSent(model, real, {});
      if (flags.rejects) flags.rejects(rejects);
      else expect(rejects, 'unexpected reject').toEqual([]);
      if (real.session.isClosed) model.closed = true;
      checkInvariants(model, real);
    },
    toString: () => name,
  };
}

const commands = [
  fc.constant(
    step('choke', (m, r) => {
      m.peerChoking = true;
      receive(m, r, { type: 'choke' });
      // BEP 3: without the fast extension a choke drops every outstanding request.
      if (!m.fast) {
        m.outstanding.clear();
        expect(r.picker.outstanding(r.session.id)).toBe(0);
      }
      return { choke: true };
    }),
  ),
  fc.constant(
    step('unchoke', (m, r) => {
      m.peerChoking = false;
      receive(m, r, { type: 'unchoke' });
      return undefined;
    }),
  ),
  fc.nat(PIECES - 1).map((index) =>
    step(`have ${index}`, (m, r) => {
      m.peerHas.add(index);
      receive(m, r, { type: 'have', index });
      return undefined;
    }),
  ),
  fc.array(fc.boolean(), { minLength: PIECES, maxLength: PIECES }).map((bits) =>
    step(`bitfield ${bits.map(Number).join('')}`, (m, r) => {
      const field = new Bitfield(PIECES);
      for (const [i, b] of bits.entries()) if (b) field.set(i);
      // The old set's outstanding requests stay with the picker; availability is replaced.
      m.peerHas = new Set(field.indices());
      receive(m, r, { type: 'bitfield', bitfield: field.bytes });
      return undefined;
    }),
  ),
  fc.boolean().map((all) =>
    step(all ? 'have all' : 'have none', (m, r) => {
      m.peerHas = new Set(all ? Array.from({ length: PIECES }, (_, i) => i) : []);
      receive(m, r, { type: all ? 'haveAll' : 'haveNone' });
      return undefined;
    }),
  ),
  fc.nat(PIECES - 1).map((index) =>
    step(`allowed fast ${index}`, (m, r) => {
      if (!m.weHave.has(index)) m.allowedFast.add(index);
      receive(m, r, { type: 'allowedFast', index });
      return undefined;
    }),
  ),
  fc.nat(PIECES - 1).map((index) =>
    step(`suggest ${index}`, (m, r) => {
      if (!m.weHave.has(index)) m.suggested.add(index);
      receive(m, r, { type: 'suggest', index });
      return undefined;
    }),
  ),
  fc.nat().map((n) =>
    step(`reject outstanding #${n}`, (m, r) => {
      const all = [...m.outstanding.values()];
      if (all.length === 0) return undefined;
      const o = all[n % all.length]!;
      m.outstanding.delete(key(o.piece, o.offset));
      if (m.peerChoking) m.allowedFast.delete(o.piece);
      const length = blockLength(o.piece, o.offset / BLOCK_LENGTH);
      receive(m, r, { type: 'reject', index: o.piece, begin: o.offset, length });
      return { reject: true };
    }),
  ),
  fc.nat().map((n) =>
    step(`piece for outstanding #${n}`, (m, r) => {
      const all = [...m.outstanding.values()];
      if (all.length === 0) return undefined;
      const o = all[n % all.length]!;
      m.outstanding.delete(key(o.piece, o.offset));
      const block = new Uint8Array(blockLength(o.piece, o.offset / BLOCK_LENGTH));
      receive(m, r, { type: 'piece', index: o.piece, begin: o.offset, block });
      return undefined;
    }),
  ),
  fc.record({ index: fc.nat(PIECES - 1), block: fc.nat(1) }).map(({ index, block }) =>
    step(`request ${index}/${block}`, (m, r) => {
      const begin = block * BLOCK_LENGTH;
      const length = blockLength(index, block);
      const allowed = !m.amChoking || m.granted.has(index);
      const ok = m.weHave.has(index) && allowed;
      const before = r.serveCalls;
      receive(m, r, { type: 'request', index, begin, length });
      if (ok) {
        m.queued.push({ index, begin, length });
        expect(r.serveCalls, 'a queued request is served').toBeGreaterThan(before);
      }
      return {
        rejects: (rejects) =>
          // BEP 6: a request we will not serve is rejected under the fast extension.
          expect(rejects).toEqual(!ok && m.fast ? [{ index, begin, length }] : []),
      };
    }),
  ),
  fc.nat().map((n) =>
    step(`cancel queued #${n}`, (m, r) => {
      if (m.queued.length === 0) return undefined;
      const q = m.queued[n % m.queued.length]!;
      m.queued = m.queued.filter((x) => !(x.index === q.index && x.begin === q.begin));
      receive(m, r, { type: 'cancel', ...q });
      return undefined;
    }),
  ),
  fc.boolean().map((choke) =>
    step(choke ? 'we choke' : 'we unchoke', (m, r) => {
      const changed = m.amChoking !== choke;
      m.amChoking = choke;
      let dropped: Queued[] = [];
      if (changed && choke) {
        dropped = m.queued.filter((q) => !m.granted.has(q.index));
        m.queued = m.queued.filter((q) => m.granted.has(q.index));
      }
      r.session.setChoking(choke);
      return {
        rejects: (rejects) =>
          // BEP 6: requests dropped by our choke are rejected, those granted fast are kept.
          expect(rejects).toEqual(m.fast ? dropped : []),
      };
    }),
  ),
  fc.integer({ min: 1, max: 4 }).map((max) =>
    step(`serve up to ${max}`, (m, r) => {
      const group = r.session.takeUploadGroup(max);
      // The next `max` queued requests in order, whatever their pieces (issue #22: one write).
      const expected: Queued[] = m.queued.slice(0, max);
      m.queued = m.queued.slice(expected.length);
      expect(
        (group ?? []).map((g) => ({ index: g.index, begin: g.begin, length: g.length })),
      ).toEqual(expected);
      return undefined;
    }),
  ),
  fc.integer({ min: 0, max: 25_000 }).map((ms) =>
    step(`tick +${ms} ms`, (m, r) => {
      m.now += ms;
      r.clock.t = m.now;
      r.session.tick(m.now);
      if (m.now - m.lastReceivedAt >= DEFAULT_LIMITS.idleTimeoutMs) {
        expect(r.session.isClosed, 'idle peer closed').toBe(true);
      }
      return undefined;
    }),
  ),
];

function setup(
  fast: boolean,
  initialHave: readonly boolean[],
  seed: number,
): { model: Model; real: Real } {
  const have = new Bitfield(PIECES);
  for (const [i, b] of initialHave.entries()) if (b) have.set(i);
  const picker = new PiecePicker({
    pieceCount: PIECES,
    pieceLength: PIECE_LENGTH,
    totalLength: TOTAL,
    random: seededRandom(seed),
    sequential: false,
  });
  for (const i of have.indices()) picker.setHave(i);
  const geometry = torrentGeometry(TOTAL, PIECE_LENGTH);
  const clock = { t: 0 };
  const decoder = new WireDecoder({ torrent: geometry });
  const real = {
    sent: [] as WireFrame[],
    lastInterest: undefined as boolean | undefined,
    serveCalls: 0,
    completed: [] as number[],
    clock,
    picker,
    have,
  } as Real;
  const host: PeerSessionHost = {
    clock: { now: () => clock.t },
    infoHash: INFO_HASH,
    peerId: new Uint8Array(20).fill(1),
    listenPort: undefined,
    content: { picker, have, geometry },
    metadataSize: undefined,
    paused: false,
    limits: DEFAULT_LIMITS,
    clientName: 'model',
    acceptHandshake: () => true,
    onReady: () => undefined,
    onClosed: () => undefined,
    onPeerInterest: () => undefined,
    onBlock: (peer, piece, offset) => {
      const result = picker.received(peer.id, piece, offset);
      if (result.pieceComplete) real.completed.push(piece);
    },
    onExtensionHandshake: () => undefined,
    onMetadataMessage: () => undefined,
    onPex: () => undefined,
    onAvailability: () => undefined,
  };
  const out: PeerOutput = {
    send: (bytes) => {
      for (const frame of decoder.decode(bytes))
        if (frame.type !== 'handshake') real.sent.push(frame);
    },
    serve: () => {
      real.serveCalls++;
    },
    geometryKnown: () => undefined,
    stalledSince: () => undefined,
    close: () => undefined,
  };
  real.session = new PeerSession(host, out, { id: 1, remoteAddress: REMOTE, outgoing: false });
  real.session.start();
  real.session.receive({
    type: 'handshake',
    reserved: reservedBytes({ fast }),
    infoHash: INFO_HASH,
    peerId: new Uint8Array(20).fill(2),
  });
  const granted = fast
    ? new Set(allowedFastSet(INFO_HASH, REMOTE.host, PIECES).filter((i) => have.has(i)))
    : new Set<number>();
  const model: Model = {
    fast,
    peerChoking: true,
    amChoking: true,
    peerHas: new Set(),
    weHave: new Set(have.indices()),
    allowedFast: new Set(),
    granted,
    suggested: new Set(),
    outstanding: new Map(),
    queued: [],
    now: 0,
    lastReceivedAt: 0,
    closed: false,
  };
  // What a session announces after the handshake: our pieces and, with BEP 6, our grants.
  const announced = real.sent.splice(0);
  const grants = announced.filter((f) => f.type === 'allowedFast').map((f) => f.index);
  expect(new Set(grants)).toEqual(granted);
  expect(new Set(real.session.grantedFast)).toEqual(granted);
  return { model, real };
}

describe('PeerSession (model-based, no sockets)', () => {
  it('follows the BEP 3 / BEP 6 choke, interest, request and reject rules', () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.array(fc.boolean(), { minLength: PIECES, maxLength: PIECES }),
        fc.nat(),
        fc.commands(commands, { maxCommands: 200, size: 'large' }),
        (fast, initialHave, seed, cmds) => {
          const { model, real } = setup(fast, initialHave, seed);
          fc.modelRun(() => ({ model, real }), cmds);
        },
      ),
      { numRuns: 100 },
    );
  });
});
