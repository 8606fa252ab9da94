/**
 * Request rules (BEP 3 "peer messages"), on the shared unchoked connection: requests inside the
 * torrent are answered with the right bytes, oversized and out-of-range requests are not served.
 */
import { defineRule, ensure } from '@peerkit/conformance';
import * as fc from 'fast-check';
import { BLOCK_LENGTH, encodeRequest } from '../wire/messages';
import type { PeerContext } from './context';
import {
  arbitraryBlockRequest,
  BEP3,
  type BlockRequest,
  describeFrame,
  sendWithSentinel,
} from './support';

export const requestBlock = defineRule<PeerContext, BlockRequest>({
  id: 'peer.request.block',
  title:
    'a request inside the torrent is answered with exactly the requested bytes (checked against the piece hashes)',
  cite: {
    spec: BEP3,
    section: 'peer messages',
    text: "'piece' messages contain an index, begin, and piece. Note that they are correlated with request messages implicitly.",
  },
  cases: (ctx) => arbitraryBlockRequest(ctx),
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

export const requestOversized = defineRule<PeerContext, BlockRequest>({
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
    const { frames } = await sendWithSentinel(ctx, encodeRequest(index, b, length));
    const served = frames.find((f) => f.type === 'piece' && f.index === index && f.begin === b);
    ensure(
      served === undefined,
      `served ${describeFrame(served)} for a request of ${length} bytes`,
    );
  },
});

export const requestOutOfRange = defineRule<PeerContext, BlockRequest>({
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
    const { frames } = await sendWithSentinel(ctx, encodeRequest(index, begin, length));
    const served = frames.find((f) => f.type === 'piece' && f.index === index && f.begin === begin);
    ensure(
      served === undefined,
      `served ${describeFrame(served)} for ${index}:${begin}+${length}, outside the torrent`,
    );
  },
});
