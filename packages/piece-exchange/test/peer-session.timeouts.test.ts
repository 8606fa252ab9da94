/**
 * The peer session's timeouts on every phase (no sockets, a hand-driven clock): a handshake not
 * finished in `handshakeTimeoutMs`, a peer that stops reading for `writeStallTimeoutMs`, and an
 * established peer silent for `idleTimeoutMs` are disconnected (docs/security.md).
 */
import { describe, expect, it } from 'vitest';
import { Bitfield } from '../src/bitfield';
import { PiecePicker } from '../src/picker';
import type { PeerError } from '../src/session/peer-error';
import type { PeerOutput, PeerSessionHost } from '../src/session/peer-host';
import { DEFAULT_LIMITS } from '../src/session/peer-limits';
import { PeerSession } from '../src/session/peer-session';
import { torrentGeometry } from '../src/wire/decoder';
import { reservedBytes } from '../src/wire/handshake';
import { BLOCK_LENGTH } from '../src/wire/messages';
import { seededRandom } from './helpers';

const INFO_HASH = new Uint8Array(20).fill(3);

function session(stalledSince: () => number | undefined = () => undefined) {
  const clock = { t: 1_000 };
  const closed: Array<Error | undefined> = [];
  const picker = new PiecePicker({
    pieceCount: 4,
    pieceLength: BLOCK_LENGTH,
    totalLength: 4 * BLOCK_LENGTH,
    random: seededRandom(1),
    sequential: false,
  });
  const host: PeerSessionHost = {
    clock: { now: () => clock.t },
    infoHash: INFO_HASH,
    peerId: new Uint8Array(20).fill(1),
    listenPort: undefined,
    content: {
      picker,
      have: new Bitfield(4),
      geometry: torrentGeometry(4 * BLOCK_LENGTH, BLOCK_LENGTH),
    },
    metadataSize: undefined,
    paused: false,
    limits: DEFAULT_LIMITS,
    clientName: 'test',
    acceptHandshake: () => true,
    onReady: () => undefined,
    onClosed: (_peer, error) => closed.push(error),
    onPeerInterest: () => undefined,
    onBlock: () => undefined,
    onExtensionHandshake: () => undefined,
    onMetadataMessage: () => undefined,
    onPex: () => undefined,
    onAvailability: () => undefined,
  };
  const out: PeerOutput = {
    send: () => undefined,
    serve: () => undefined,
    geometryKnown: () => undefined,
    stalledSince,
    close: () => undefined,
  };
  const s = new PeerSession(host, out, {
    id: 1,
    remoteAddress: { host: '127.0.0.1', port: 1 },
    outgoing: false,
  });
  s.start();
  const handshake = () =>
    s.receive({
      type: 'handshake',
      reserved: reservedBytes({ fast: true }),
      infoHash: INFO_HASH,
      peerId: new Uint8Array(20).fill(2),
    });
  return { s, clock, closed, handshake };
}

const code = (e: Error | undefined) => (e as PeerError | undefined)?.code;

describe('PeerSession timeouts', () => {
  it('closes a connection whose handshake is not finished in handshakeTimeoutMs', () => {
    const { s, clock, closed } = session();
    clock.t += DEFAULT_LIMITS.handshakeTimeoutMs - 1;
    s.tick(clock.t);
    expect(s.isClosed).toBe(false);
    clock.t += 1;
    s.tick(clock.t);
    expect(s.isClosed).toBe(true);
    expect(closed.map(code)).toEqual(['PEER_TIMEOUT']);
  });

  it('keeps an established connection past the handshake timeout, closes it when idle', () => {
    const { s, clock, closed, handshake } = session();
    handshake();
    clock.t += DEFAULT_LIMITS.handshakeTimeoutMs * 2;
    s.tick(clock.t);
    expect(s.isOpen).toBe(true);
    clock.t += DEFAULT_LIMITS.idleTimeoutMs;
    s.tick(clock.t);
    expect(s.isClosed).toBe(true);
    expect(closed.map(code)).toEqual(['PEER_TIMEOUT']);
  });

  it('closes a connection whose writes make no progress for writeStallTimeoutMs', () => {
    let since: number | undefined;
    const { s, clock, closed, handshake } = session(() => since);
    handshake();
    since = clock.t;
    clock.t += DEFAULT_LIMITS.writeStallTimeoutMs - 1;
    s.receive({ type: 'keepAlive' }); // the peer still talks, it just does not read
    s.tick(clock.t);
    expect(s.isOpen).toBe(true);
    clock.t += 1;
    s.tick(clock.t);
    expect(s.isClosed).toBe(true);
    expect(closed.map(code)).toEqual(['PEER_TIMEOUT']);
  });
});
