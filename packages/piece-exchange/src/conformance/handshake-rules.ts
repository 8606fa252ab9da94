/**
 * Handshake rules (BEP 3 "peer protocol"): the info-hash is echoed, a handshake for a torrent
 * the target does not serve is refused, and a connection that starts with another protocol (an
 * MSE/PE opening) is never taken for BitTorrent.
 */
import { defineRule, ensure } from '@peerkit/conformance';
import * as fc from 'fast-check';
import { WireError } from '../errors';
import { PROTOCOL_HEADER } from '../wire/handshake';
import type { PeerContext } from './context';
import { BEP3, describeFrame, handshakeOf, hex } from './support';

export const handshakeInfoHash = defineRule<
  PeerContext,
  { fast: boolean; extended: boolean; dht: boolean }
>({
  id: 'peer.handshake.info-hash',
  title: 'the handshake is answered with the same info-hash and a 20-byte peer id',
  cite: {
    spec: BEP3,
    section: 'peer protocol',
    text: "If both sides don't send the same value, they sever the connection.",
  },
  cases: () => fc.record({ fast: fc.boolean(), extended: fc.boolean(), dht: fc.boolean() }),
  async check(ctx, { fast, extended, dht }) {
    const connection = await ctx.connect({ fast, extended, dht });
    try {
      const hs = handshakeOf(connection);
      ensure(hs?.type === 'handshake', 'no handshake');
      ensure(
        hs.infoHash.length === 20 && hex(hs.infoHash) === hex(ctx.torrent.infoHash),
        `handshake has info-hash ${hex(hs.infoHash)}`,
      );
      ensure(hs.peerId.length === 20, `peer id of ${hs.peerId.length} bytes`);
    } finally {
      connection.close();
    }
  },
});

export const handshakeUnknownInfoHash = defineRule<PeerContext, { infoHash: Uint8Array }>({
  id: 'peer.handshake.unknown-info-hash',
  title: 'a handshake for a torrent it does not serve is refused: the connection is closed',
  cite: {
    spec: BEP3,
    section: 'peer protocol',
    text: "If both sides don't send the same value, they sever the connection.",
  },
  cases: (ctx) =>
    fc
      .record({ infoHash: fc.uint8Array({ minLength: 20, maxLength: 20 }) })
      .filter(({ infoHash }) => hex(infoHash) !== hex(ctx.torrent.infoHash)),
  async check(ctx, { infoHash }) {
    const connection = await ctx.dial();
    try {
      const hs = await connection.handshake(
        infoHash,
        ctx.peerId(),
        { extended: true, fast: true },
        ctx.timeoutMs,
      );
      ensure(
        hs === undefined || hex(hs.infoHash) !== hex(infoHash),
        `answered a handshake for ${hex(infoHash)}, a torrent it does not seed`,
      );
      const data = connection.received.filter(
        (f) => f.type === 'piece' || f.type === 'bitfield' || f.type === 'haveAll',
      );
      ensure(
        data.length === 0,
        `sent ${describeFrame(data[0])} on a connection for another torrent`,
      );
      ensure(
        await connection.closedWithin(ctx.timeoutMs),
        `connection still open ${ctx.timeoutMs} ms after the handshake`,
      );
    } finally {
      connection.close();
    }
  },
});

/** The first bytes of a connection that is not plain BitTorrent, at least 96 bytes long. */
function arbitraryOtherOpening(): fc.Arbitrary<Uint8Array> {
  // An MSE/PE opening: a 96-byte Diffie-Hellman public key (random bytes) and 0..64 bytes of
  // padding; its first byte is almost never 19. Or another protocol with a 19-byte name.
  const mse = fc
    .tuple(fc.integer({ min: 0, max: 255 }), fc.uint8Array({ minLength: 95, maxLength: 159 }))
    .filter(([first]) => first !== 19)
    .map(([first, rest]) => Uint8Array.of(first, ...rest));
  const otherName = fc
    .tuple(
      fc.uint8Array({ minLength: 19, maxLength: 19 }),
      fc.uint8Array({ minLength: 76, maxLength: 140 }),
    )
    .filter(([name]) => hex(name) !== hex(PROTOCOL_HEADER.subarray(1)))
    .map(([name, rest]) => Uint8Array.of(19, ...name, ...rest));
  return fc.oneof(mse, otherName);
}

export const handshakeOtherProtocol = defineRule<PeerContext, { opening: Uint8Array }>({
  id: 'peer.handshake.other-protocol',
  title:
    'a connection that does not start with the BitTorrent handshake (e.g. MSE/PE) is not answered as BitTorrent; a peer that does not answer it ends it cleanly (FIN, not RST)',
  cite: {
    spec: BEP3,
    section: 'peer protocol',
    text: 'The leading character is a length prefix, put there in the hope that other new protocols may do the same and thus be trivially distinguishable from each other.',
  },
  cases: () => fc.record({ opening: arbitraryOtherOpening() }),
  async check(ctx, { opening }) {
    const connection = await ctx.dial();
    try {
      await connection.send(opening);
      const closed = await connection.closedWithin(ctx.timeoutMs);
      const hs = handshakeOf(connection);
      ensure(
        hs === undefined,
        'answered with a BitTorrent handshake although the connection did not start with one',
      );
      // Bytes that do not decode as BitTorrent: the target speaks the other protocol (an
      // MSE/PE peer answers with its own key). That is its right; nothing more to check.
      if (connection.error instanceof WireError) return;
      ensure(closed, `neither answered nor closed the connection within ${ctx.timeoutMs} ms`);
      ensure(
        connection.error === undefined,
        `the connection was reset (${connection.error?.message}), not closed cleanly: a client that tried MSE/PE first does not retry in plain`,
      );
    } finally {
      connection.close();
    }
  },
});
