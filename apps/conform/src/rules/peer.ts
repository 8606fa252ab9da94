/**
 * BitTorrent peer wire rules (BEP 3, BEP 6) checked against a live peer that seeds the torrent
 * given to the suite; the BEP 9/10 rules are in ./peer-extensions. We are the client: we dial,
 * we handshake, we request.
 */
import { BLOCK_LENGTH, encodeRequest, type WireFrame } from '@peerkit/piece-exchange';
import * as fc from 'fast-check';
import { defineRule, ensure, type Rule, RuleViolation } from '../framework/rule';
import type { PeerConnection } from '../peer/connection';
import type { PeerContext } from '../peer/context';
import { extensionRules } from './peer-extensions';

const BEP3 = 'BEP 3';
const BEP6 = 'BEP 6';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const FAST_TYPES = new Set(['haveAll', 'haveNone', 'reject', 'allowedFast', 'suggest']);

function describeFrame(f: WireFrame | undefined): string {
  if (f === undefined) return 'nothing';
  switch (f.type) {
    case 'piece':
      return `piece ${f.index}:${f.begin} (${f.block.length} bytes)`;
    case 'request':
    case 'reject':
    case 'cancel':
      return `${f.type} ${f.index}:${f.begin}+${f.length}`;
    case 'bitfield':
      return `bitfield of ${f.bitfield.length} bytes`;
    case 'extended':
      return `extended id ${f.id}`;
    default:
      return f.type;
  }
}

/** A request that fits in the torrent: any piece, any offset and length up to 16 KiB inside it. */
function arbBlock(ctx: PeerContext) {
  return fc
    .record({
      index: fc.nat(ctx.torrent.pieceCount - 1),
      begin: fc.nat(),
      length: fc.integer({ min: 1, max: BLOCK_LENGTH }),
    })
    .map(({ index, begin, length }) => {
      const size = ctx.pieceSize(index);
      const b = begin % size;
      return { index, begin: b, length: Math.min(length, size - b) };
    });
}

/**
 * Sends `request`, then a standard request for block 0:0 (the sentinel) on an unchoked
 * connection; returns the frames before the sentinel's piece, or `closed` when the target hung up.
 */
async function requestWithSentinel(
  ctx: PeerContext,
  request: Uint8Array,
): Promise<{ frames: WireFrame[]; closed: boolean }> {
  const connection = await ctx.unchoked();
  const sentinelLength = Math.min(BLOCK_LENGTH, ctx.pieceSize(0));
  await connection.send(request);
  await connection.send(encodeRequest(0, 0, sentinelLength));
  const frames: WireFrame[] = [];
  for (;;) {
    const f = await connection.next(() => true, ctx.timeoutMs);
    if (f === undefined) {
      if (connection.ended) return { frames, closed: true };
      throw new RuleViolation('no answer to a standard request for block 0:0 sent right after');
    }
    if (f.type === 'piece' && f.index === 0 && f.begin === 0 && f.block.length === sentinelLength) {
      return { frames, closed: false };
    }
    frames.push(f);
  }
}

const handshakeEcho = defineRule<PeerContext, { fast: boolean; extended: boolean; dht: boolean }>({
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
      const hs = connection.received.find((f) => f.type === 'handshake');
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

const handshakeOtherHash = defineRule<PeerContext, { infoHash: Uint8Array }>({
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

/** The first message after the handshake that is not an extension message, keep-alive or port. */
async function firstAnnouncement(
  ctx: PeerContext,
  connection: PeerConnection,
): Promise<WireFrame | undefined> {
  return connection.next(
    (f) => !['handshake', 'extended', 'keepAlive', 'port'].includes(f.type),
    ctx.timeoutMs,
  );
}

const bitfieldShape = defineRule<PeerContext, { fast: boolean; extended: boolean }>({
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

const noFastMessagesUnlessNegotiated = defineRule<
  PeerContext,
  { requests: { index: number; begin: number; length: number }[] }
>({
  id: 'peer.fast.not-negotiated',
  title:
    'without the fast bit in our handshake, no have all / have none / reject / allowed fast / suggest is sent',
  cite: {
    spec: BEP6,
    section: 'Have All/Have None, Reject Request',
    text: 'When the fast extension is disabled, if a peer receives Have All or Have None then the peer MUST close the connection. [...] If the fast extension is disabled and a peer receives a reject request then the peer MUST close the connection.',
  },
  cases: (ctx) => fc.record({ requests: fc.array(arbBlock(ctx), { minLength: 0, maxLength: 3 }) }),
  async check(ctx, { requests }) {
    const connection = await ctx.connect({ fast: false, extended: true });
    try {
      // Requests while choked: a fast peer would reject them; this one must not.
      for (const r of requests) await connection.send(encodeRequest(r.index, r.begin, r.length));
      const frames = [
        ...connection.received,
        ...(await connection.collect(Math.min(ctx.timeoutMs, 500))),
      ];
      const fast = frames.find((f) => FAST_TYPES.has(f.type));
      ensure(
        fast === undefined,
        `sent ${describeFrame(fast)} although we did not set the fast extension bit`,
      );
    } finally {
      connection.close();
    }
  },
});

const requestServed = defineRule<PeerContext, { index: number; begin: number; length: number }>({
  id: 'peer.request.block',
  title:
    'a request inside the torrent is answered with exactly the requested bytes (checked against the piece hashes)',
  cite: {
    spec: BEP3,
    section: 'peer messages',
    text: "'piece' messages contain an index, begin, and piece. Note that they are correlated with request messages implicitly.",
  },
  cases: (ctx) => arbBlock(ctx),
  async check(ctx, { index, begin, length }) {
    const piece = await ctx.piece(index);
    const connection = await ctx.unchoked();
    await connection.send(encodeRequest(index, begin, length));
    const f = await connection.next(
      (x) => (x.type === 'piece' || x.type === 'reject') && x.index === index && x.begin === begin,
      ctx.timeoutMs,
    );
    ensure(
      f?.type === 'piece',
      `request ${index}:${begin}+${length} answered with ${describeFrame(f)}`,
    );
    ensure(
      f.block.length === length,
      `asked ${length} bytes at ${index}:${begin}, got ${f.block.length}`,
    );
    const expected = piece.subarray(begin, begin + length);
    const wrong = f.block.findIndex((b, i) => b !== expected[i]);
    ensure(
      wrong === -1,
      `block ${index}:${begin}+${length} differs from the verified piece at byte ${begin + wrong}`,
    );
  },
});

const chokedRequests = defineRule<
  PeerContext,
  { fast: boolean; requests: { index: number; begin: number; length: number }[] }
>({
  id: 'peer.request.choked',
  title:
    'requests sent while choked are not served (with the fast extension: rejected, unless allowed fast)',
  cite: {
    spec: BEP6,
    section: 'Reject Request',
    text: 'If a peer receives a request from a peer its choking, the peer receiving the request SHOULD send a reject unless the piece is in the allowed fast set.',
  },
  cases: (ctx) =>
    fc.record({
      fast: fc.boolean(),
      requests: fc.array(arbBlock(ctx), { minLength: 1, maxLength: 4 }),
    }),
  async check(ctx, { fast, requests }) {
    const connection = await ctx.connect({ fast, extended: true });
    try {
      for (const r of requests) await connection.send(encodeRequest(r.index, r.begin, r.length));
      // With the fast extension each request gets exactly one answer; without, we watch a while.
      const deadline =
        ctx.network.clock.now() + (fast ? ctx.timeoutMs : Math.min(ctx.timeoutMs, 1_000));
      const allowedFast = new Set<number>();
      let answered = 0;
      while (!fast || answered < requests.length) {
        const left = deadline - ctx.network.clock.now();
        if (left <= 0) break;
        const f = await connection.next(() => true, left);
        if (f === undefined) break;
        if (f.type === 'unchoke') return; // unchoked on its own: later pieces are legitimate
        if (f.type === 'allowedFast') allowedFast.add(f.index);
        if (f.type === 'piece') {
          ensure(
            allowedFast.has(f.index),
            `served ${describeFrame(f)} while choking us (not in an allowed fast set)`,
          );
          answered++;
        }
        if (f.type === 'reject') answered++;
      }
    } finally {
      connection.close();
    }
  },
});

const rejectWhileChoked = defineRule<
  PeerContext,
  { requests: { index: number; begin: number; length: number }[] }
>({
  id: 'peer.fast.reject-choked',
  title:
    'with the fast extension, every request sent while choked gets exactly one answer: reject or piece',
  cite: {
    spec: BEP6,
    section: 'Fast Extension',
    text: 'Now, every request is guaranteed to result in EXACTLY ONE response which is either the corresponding reject or corresponding piece message.',
  },
  async applies(ctx) {
    const connection = await ctx.connect({ fast: true, extended: true });
    connection.close();
    const hs = connection.received.find((f) => f.type === 'handshake');
    return hs?.type === 'handshake' && ((hs.reserved[7] as number) & 0x04) !== 0
      ? undefined
      : 'the target does not set the fast extension bit (BEP 6) in its handshake';
  },
  cases: (ctx) =>
    fc.record({
      requests: fc.uniqueArray(arbBlock(ctx), {
        minLength: 1,
        maxLength: 4,
        selector: (r) => `${r.index}:${r.begin}:${r.length}`,
      }),
    }),
  async check(ctx, { requests }) {
    const connection = await ctx.connect({ fast: true, extended: true });
    try {
      for (const r of requests) await connection.send(encodeRequest(r.index, r.begin, r.length));
      const open = new Set(requests.map((r) => `${r.index}:${r.begin}:${r.length}`));
      while (open.size > 0) {
        const f = await connection.next(
          (x) => x.type === 'reject' || x.type === 'piece' || x.type === 'unchoke',
          ctx.timeoutMs,
        );
        ensure(
          f !== undefined,
          `no reject or piece for ${[...open].join(', ')} within ${ctx.timeoutMs} ms${connection.ended ? ' (connection closed)' : ''}`,
        );
        if (f.type === 'unchoke') return;
        const key =
          f.type === 'piece'
            ? `${f.index}:${f.begin}:${f.block.length}`
            : f.type === 'reject'
              ? `${f.index}:${f.begin}:${f.length}`
              : '';
        ensure(open.has(key), `${describeFrame(f)} answers no open request`);
        open.delete(key);
      }
    } finally {
      connection.close();
    }
  },
});

const oversized = defineRule<PeerContext, { index: number; begin: number; length: number }>({
  id: 'peer.request.oversized',
  title:
    'a request for more than 16 KiB is not served (rejected, ignored or the connection closed)',
  cite: {
    spec: BEP3,
    section: 'peer messages',
    text: 'All current implementations use 2^14 (16 kiB), and close connections which request an amount greater than that.',
  },
  cases: (ctx) =>
    fc.record({
      index: fc.nat(ctx.torrent.pieceCount - 1),
      begin: fc.nat(),
      length: fc.integer({ min: BLOCK_LENGTH + 1, max: 1 << 20 }),
    }),
  async check(ctx, { index, begin, length }) {
    const b = begin % ctx.pieceSize(index);
    const { frames } = await requestWithSentinel(ctx, encodeRequest(index, b, length));
    const served = frames.find((f) => f.type === 'piece' && f.index === index && f.begin === b);
    ensure(
      served === undefined,
      `served ${describeFrame(served)} for a request of ${length} bytes`,
    );
  },
});

const outOfRange = defineRule<PeerContext, { index: number; begin: number; length: number }>({
  id: 'peer.request.out-of-range',
  title:
    'a request outside the torrent (no such piece, or past the end of the piece) is not served',
  cite: {
    spec: BEP3,
    section: 'peer messages',
    text: "'request' messages contain an index, begin, and length. The last two are byte offsets.",
  },
  cases: (ctx) =>
    fc.oneof(
      fc.record({
        index: fc.integer({ min: ctx.torrent.pieceCount, max: 2 ** 32 - 1 }),
        begin: fc.constant(0),
        length: fc.integer({ min: 1, max: BLOCK_LENGTH }),
      }),
      fc
        .record({
          index: fc.nat(ctx.torrent.pieceCount - 1),
          over: fc.integer({ min: 1, max: BLOCK_LENGTH }),
          length: fc.integer({ min: 1, max: BLOCK_LENGTH }),
        })
        .map(({ index, over, length }) => {
          const end = ctx.pieceSize(index) + over; // begin + length ends `over` bytes past the piece
          return { index, begin: Math.max(0, end - length), length: Math.min(length, end) };
        }),
    ),
  async check(ctx, { index, begin, length }) {
    const { frames } = await requestWithSentinel(ctx, encodeRequest(index, begin, length));
    const served = frames.find((f) => f.type === 'piece' && f.index === index && f.begin === begin);
    ensure(
      served === undefined,
      `served ${describeFrame(served)} for ${index}:${begin}+${length}, outside the torrent`,
    );
  },
});

const garbageMessages = defineRule<PeerContext, Uint8Array[]>({
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

export const peerRules: readonly Rule<PeerContext>[] = [
  handshakeEcho,
  handshakeOtherHash,
  bitfieldShape,
  noFastMessagesUnlessNegotiated,
  chokedRequests,
  rejectWhileChoked,
  ...extensionRules.slice(0, 1),
  // These three share one unchoked connection (clients unchoke every ~10 s only).
  requestServed,
  oversized,
  outOfRange,
  ...extensionRules.slice(1),
  garbageMessages,
];
