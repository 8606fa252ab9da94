/**
 * The BEP 9 metadata exchange against liars, on its own (no sockets, fake peers): a peer that
 * never answers is asked no more and others get its pieces; a wrong `metadata_size` is outvoted
 * and forgotten when its peer leaves; a single source of a dictionary that fails the info-hash is
 * disconnected.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  METADATA_MAX_TIMEOUTS,
  METADATA_REQUEST_TIMEOUT_MS,
  MetadataExchange,
} from '../src/session/metadata-exchange';
import type { PeerSession } from '../src/session/peer-session';
import { decodeMetadataMessage, METADATA_PIECE_LENGTH } from '../src/wire/metadata';

const INFO = new Uint8Array(40_000).map((_, i) => (i * 7) & 0xff);
const INFO_HASH = new Uint8Array(createHash('sha1').update(INFO).digest());

interface FakePeer {
  session: PeerSession;
  /** Pieces this peer was asked for. */
  asked: number[];
  closed: boolean;
}

function fakePeer(id: number, metadataSize: number): FakePeer {
  const fake: FakePeer = { asked: [], closed: false, session: undefined as never };
  fake.session = {
    id,
    supports: (name: string) => name === 'ut_metadata',
    extensionHandshake: { m: { ut_metadata: 3 }, metadataSize },
    sendExtended: (_name: string, payload: Uint8Array) => {
      const m = decodeMetadataMessage(payload);
      if (m.type === 'request') fake.asked.push(m.piece);
      return true;
    },
    close: () => {
      fake.closed = true;
    },
  } as unknown as PeerSession;
  return fake;
}

/** `peer` answers every request it got with the true bytes (or `lie`s). */
function answer(ex: MetadataExchange, peer: FakePeer, now: number, lie = false) {
  let result: Uint8Array | undefined;
  for (const piece of peer.asked.splice(0)) {
    const start = piece * METADATA_PIECE_LENGTH;
    const data = INFO.slice(start, start + METADATA_PIECE_LENGTH);
    if (lie) data.fill(0x41);
    const size = peer.session.extensionHandshake?.metadataSize ?? 0;
    result ??= ex.onMessage(peer.session, { type: 'data', piece, totalSize: size, data }, now);
  }
  return result;
}

describe('MetadataExchange against liars', () => {
  it('a peer that never answers is asked no more; another gets its pieces', () => {
    const ex = new MetadataExchange(INFO_HASH, 1 << 24);
    const silent = fakePeer(1, INFO.length);
    const honest = fakePeer(2, INFO.length);
    ex.request(silent.session, 0);
    expect(silent.asked.length).toBeGreaterThan(0);
    let now = 0;
    for (let i = 0; i < METADATA_MAX_TIMEOUTS + 1; i++) {
      now += METADATA_REQUEST_TIMEOUT_MS;
      silent.asked = [];
      ex.request(silent.session, now);
    }
    expect(silent.asked).toEqual([]); // refused: asked no more
    ex.request(honest.session, now);
    let info: Uint8Array | undefined;
    for (let i = 0; i < 10 && info === undefined; i++) info = answer(ex, honest, now);
    expect(info).toEqual(INFO);
  });

  it('a wrong metadata_size is outvoted, and forgotten when its peer leaves', () => {
    const ex = new MetadataExchange(INFO_HASH, 1 << 24);
    const liar = fakePeer(1, 123_456);
    ex.request(liar.session, 0);
    expect(liar.asked.length).toBeGreaterThan(0); // alone, its size is the consensus
    ex.forget(liar.session.id); // it leaves: its size no longer counts
    const honest = fakePeer(2, INFO.length);
    ex.request(honest.session, 0);
    let info: Uint8Array | undefined;
    for (let i = 0; i < 10 && info === undefined; i++) info = answer(ex, honest, 0);
    expect(info).toEqual(INFO);

    // Two honest peers outvote a liar that stays.
    const ex2 = new MetadataExchange(INFO_HASH, 1 << 24);
    const stay = fakePeer(1, 99_999);
    const a = fakePeer(2, INFO.length);
    const b = fakePeer(3, INFO.length);
    for (const p of [stay, a, b]) ex2.request(p.session, 0);
    stay.asked = [];
    ex2.request(stay.session, 0);
    expect(stay.asked).toEqual([]);
    let info2: Uint8Array | undefined;
    for (let i = 0; i < 10 && info2 === undefined; i++) {
      info2 = answer(ex2, a, 0) ?? answer(ex2, b, 0);
      ex2.request(a.session, 0);
      ex2.request(b.session, 0);
    }
    expect(info2).toEqual(INFO);
  });

  it('the single source of a dictionary that fails the info-hash is disconnected', () => {
    const ex = new MetadataExchange(INFO_HASH, 1 << 24);
    const liar = fakePeer(1, INFO.length);
    ex.request(liar.session, 0);
    for (let i = 0; i < 10 && !liar.closed; i++) answer(ex, liar, 0, true);
    expect(liar.closed).toBe(true);
    liar.asked = [];
    ex.request(liar.session, 0);
    expect(liar.asked).toEqual([]);
  });

  it('a request left unanswered for one timeout goes to another peer first (the order the torrent asks in)', () => {
    const ex = new MetadataExchange(INFO_HASH, 1 << 24);
    const silent = fakePeer(1, INFO.length);
    const honest = fakePeer(2, INFO.length);
    ex.request(silent.session, 0);
    const first = [...silent.asked];
    expect(first.length).toBeGreaterThan(0);
    // Every peer was asked while the silent one held all the pieces: nothing for the honest one.
    ex.request(honest.session, 0);
    expect(honest.asked).toEqual([]);
    // One timeout later the silent peer is asked first (it connected first) and not given them
    // again; the honest one gets them in the same round.
    const now = METADATA_REQUEST_TIMEOUT_MS;
    silent.asked = [];
    ex.request(silent.session, now);
    expect(silent.asked).toEqual([]);
    ex.request(honest.session, now);
    expect(honest.asked).toEqual(first);
    let info: Uint8Array | undefined;
    for (let i = 0; i < 10 && info === undefined; i++) {
      info = answer(ex, honest, now);
      ex.request(honest.session, now);
    }
    expect(info).toEqual(INFO);
  });
});
