/**
 * Fast extension rules (BEP 6) and requests while choked (BEP 3, BEP 6): no fast-extension
 * message unless both sides set the bit, requests while choked not served, and with the fast
 * extension exactly one answer to each request.
 */
import { defineRule, ensure } from '@peerkit/conformance';
import * as fc from 'fast-check';
import { readExtensions } from '../wire/handshake';
import { encodeRequest } from '../wire/messages';
import type { PeerContext } from './context';
import {
  arbitraryBlockRequest,
  BEP6,
  type BlockRequest,
  describeFrame,
  handshakeOf,
} from './support';

const FAST_TYPES = new Set(['haveAll', 'haveNone', 'reject', 'allowedFast', 'suggest']);

export const fastNotNegotiated = defineRule<PeerContext, { requests: BlockRequest[] }>({
  id: 'peer.fast.not-negotiated',
  title:
    'without the fast bit in our handshake, no have all / have none / reject / allowed fast / suggest is sent',
  cite: {
    spec: BEP6,
    section: 'Have All/Have None, Reject Request',
    text: 'When the fast extension is disabled, if a peer receives Have All or Have None then the peer MUST close the connection. [...] If the fast extension is disabled and a peer receives a reject request then the peer MUST close the connection.',
  },
  cases: (ctx) =>
    fc.record({ requests: fc.array(arbitraryBlockRequest(ctx), { minLength: 0, maxLength: 3 }) }),
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

export const requestChoked = defineRule<PeerContext, { fast: boolean; requests: BlockRequest[] }>({
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
      requests: fc.array(arbitraryBlockRequest(ctx), { minLength: 1, maxLength: 4 }),
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

export const fastRejectChoked = defineRule<PeerContext, { requests: BlockRequest[] }>({
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
    const hs = handshakeOf(connection);
    return hs?.type === 'handshake' && readExtensions(hs.reserved).fast
      ? undefined
      : 'the target does not set the fast extension bit (BEP 6) in its handshake';
  },
  cases: (ctx) =>
    fc.record({
      requests: fc.uniqueArray(arbitraryBlockRequest(ctx), {
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
