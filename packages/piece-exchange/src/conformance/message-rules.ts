/**
 * Message stream rules (BEP 3 "peer messages"): a seeder announces its pieces first, a late
 * bitfield or have none does not end the connection, and arbitrary bytes never crash the peer.
 */
import { defineRule, ensure } from '@peerkit/conformance';
import * as fc from 'fast-check';
import type { WireFrame } from '../wire/decoder';
import { readExtensions } from '../wire/handshake';
import { encodeBitfield, HAVE_NONE } from '../wire/messages';
import type { PeerContext } from './context';
import { BEP3, describeFrame, handshakeOf, PEERKIT_README, sendWithSentinel } from './support';
import type { WireProbe } from './wire-probe';

/** The first message after the handshake that is not an extension message, keep-alive or port. */
function firstAnnouncement(
  ctx: PeerContext,
  connection: WireProbe,
): Promise<WireFrame | undefined> {
  return connection.next(
    (f) => !['handshake', 'extended', 'keepAlive', 'port'].includes(f.type),
    ctx.timeoutMs,
  );
}

export const bitfieldShape = defineRule<PeerContext, { fast: boolean; extended: boolean }>({
  id: 'peer.bitfield.shape',
  title:
    'a seeder starts with a full bitfield of ceil(pieces / 8) bytes with spare bits zero (or have all)',
  cite: {
    spec: BEP3,
    section: 'peer messages',
    text: "'bitfield' is only ever sent as the first message. [...] Spare bits at the end are set to zero.",
  },
  cases: () => fc.record({ fast: fc.boolean(), extended: fc.boolean() }),
  async check(ctx, { fast, extended }) {
    const connection = await ctx.connect({ fast, extended });
    try {
      const first = await firstAnnouncement(ctx, connection);
      const count = ctx.torrent.pieceCount;
      if (fast && first?.type === 'haveAll') return;
      ensure(
        first?.type === 'bitfield',
        `first message after the handshake: ${describeFrame(first)}${connection.ended ? ' (connection closed)' : ''}`,
      );
      const bits = first.bitfield;
      ensure(
        bits.length === Math.ceil(count / 8),
        `bitfield of ${bits.length} bytes for ${count} pieces`,
      );
      for (let i = 0; i < bits.length * 8; i++) {
        const set = ((bits[i >> 3] as number) >> (7 - (i & 7))) & 1;
        if (i < count) ensure(set === 1, `piece ${i} missing from a seeder's bitfield`);
        else ensure(set === 0, `spare bit ${i} is set (${count} pieces)`);
      }
    } finally {
      connection.close();
    }
  },
});

/** A late announcement we send: a bitfield of the pieces we claim (never all), or have none. */
type LateAnnouncement = { type: 'bitfield'; have: boolean[] } | { type: 'haveNone' };

function encodeAnnouncement(announcement: LateAnnouncement): Uint8Array {
  if (announcement.type === 'haveNone') return HAVE_NONE;
  const bits = new Uint8Array(Math.ceil(announcement.have.length / 8));
  announcement.have.forEach((set, i) => {
    if (set) bits[i >> 3] = (bits[i >> 3] as number) | (0x80 >> (i & 7));
  });
  return encodeBitfield(bits);
}

export const lateBitfield = defineRule<PeerContext, { announcements: LateAnnouncement[] }>({
  id: 'peer.wire.late-bitfield',
  title:
    'a bitfield or have none in the middle of a connection (aria2 sends such) does not stop the peer serving requests',
  cite: {
    spec: PEERKIT_README,
    section: 'State machines: Handshake',
    text: '`bitfield`, `have_all` and `have_none` are accepted at any time and replace the previous set: aria2 sends them in the middle of a connection (not allowed by BEP 3/6, tolerated by libtorrent).',
  },
  cases: (ctx) => {
    const count = ctx.torrent.pieceCount;
    // Never every piece: a seeder may rightly drop a connection to another seeder.
    const bitfield = fc
      .array(fc.boolean(), { minLength: count, maxLength: count })
      .filter((have) => have.some((set) => !set))
      .map((have): LateAnnouncement => ({ type: 'bitfield', have }));
    const haveNone = fc.constant<LateAnnouncement>({ type: 'haveNone' });
    return fc.record({
      announcements: fc.array(fc.oneof(bitfield, haveNone), { minLength: 1, maxLength: 3 }),
    });
  },
  async check(ctx, { announcements }) {
    const connection = await ctx.unchoked();
    const hs = handshakeOf(connection);
    // Have none needs the fast extension on both sides (BEP 6): without it, bitfields only.
    const fast = hs?.type === 'handshake' && readExtensions(hs.reserved).fast;
    const messages = announcements
      .filter((a) => fast || a.type === 'bitfield')
      .map(encodeAnnouncement);
    const { closed } = await sendWithSentinel(ctx, ...messages);
    ensure(
      !closed,
      `closed the connection after ${announcements.map((a) => a.type).join(', ')} in its middle`,
    );
  },
});

export const wireGarbage = defineRule<PeerContext, Uint8Array[]>({
  id: 'peer.wire.garbage',
  title: 'arbitrary bytes after the handshake never crash the peer (it may close the connection)',
  cite: {
    spec: BEP3,
    section: 'peer protocol',
    text: "That's it for handshaking, next comes an alternating stream of length prefixes and messages.",
  },
  cases: () =>
    fc.array(
      fc.oneof(
        fc.uint8Array({ minLength: 1, maxLength: 64 }),
        // A length prefix with a known or unknown message id and a payload of the wrong size.
        fc
          .record({
            id: fc.integer({ min: 0, max: 255 }),
            payload: fc.uint8Array({ maxLength: 24 }),
          })
          .map(({ id, payload }) => {
            const out = new Uint8Array(5 + payload.length);
            new DataView(out.buffer).setUint32(0, 1 + payload.length);
            out[4] = id;
            out.set(payload, 5);
            return out;
          }),
      ),
      { minLength: 1, maxLength: 4 },
    ),
  async check(ctx, chunks) {
    const connection = await ctx.connect({ extended: true, fast: true });
    try {
      for (const chunk of chunks) await connection.send(chunk);
      await connection.collect(Math.min(ctx.timeoutMs, 100));
    } finally {
      connection.close();
    }
  },
});
