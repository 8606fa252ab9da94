/**
 * Rules of gossip (README, "How it works", "Gossip"): IHAVE to peers outside the mesh, and
 * IWANT answered from the message cache.
 */
import { defineRule, ensure, RuleViolation } from '@peerkit/conformance';
import * as fc from 'fast-check';
import { defaultMessageId, type GossipMessage } from '../../message';
import type { GossipContext } from '../context';
import { bytesEqual, handled, hex, join, messageWith, needsTopic, SPEC, topicOf } from './shared';

export const iwant = defineRule<GossipContext, { data: Uint8Array; unknown: Uint8Array[] }>({
  id: 'gossip.iwant',
  title: 'IWANT is answered with the cached message, and nothing for ids it never saw',
  cite: {
    spec: SPEC,
    section: 'How it works, Gossip',
    text: 'A received `IWANT` is answered from the cache, at most `gossipRetransmission` (3) times per message per peer.',
  },
  applies: needsTopic,
  cases: () =>
    fc.record({
      data: fc.uint8Array({ maxLength: 64 }),
      unknown: fc.array(fc.uint8Array({ minLength: 40, maxLength: 40 }), { maxLength: 3 }),
    }),
  async check(ctx, { data, unknown }) {
    const topic = topicOf(ctx);
    const a = await ctx.connect();
    const b = await ctx.connect();
    try {
      await join(b, topic);
      await join(a, topic);
      await handled(ctx, a, b);
      const m = a.message(topic, data);
      await a.send({ type: 'rpc', msgs: [m] });
      ensure(
        (await b.next(messageWith(m), ctx.timeoutMs)) !== undefined,
        'the message was not forwarded to a grafted peer',
      );
      await b.send({ type: 'rpc', control: { iwant: [...unknown, defaultMessageId(m)] } });
      let other: GossipMessage | undefined;
      const got = await b.next((f) => {
        for (const x of f.type === 'rpc' ? (f.msgs ?? []) : []) {
          if (!bytesEqual(defaultMessageId(x), defaultMessageId(m))) other ??= x;
        }
        return messageWith(m)(f);
      }, ctx.timeoutMs);
      if (other !== undefined) {
        throw new RuleViolation(
          `IWANT answered with a message we did not ask for: ${hex(defaultMessageId(other))}`,
        );
      }
      ensure(
        got !== undefined,
        `IWANT for ${hex(defaultMessageId(m))}, just forwarded to us, got no answer`,
      );
    } finally {
      a.close();
      b.close();
    }
  },
});

export const ihave = defineRule<GossipContext, { data: Uint8Array }>({
  id: 'gossip.ihave',
  title: 'a subscribed peer outside the mesh receives IHAVE for a new message, and IWANT gets it',
  cite: {
    spec: SPEC,
    section: 'How it works, Gossip',
    text: 'Each heartbeat, for every topic in the mesh or fanout, the ids in the last `mcacheGossip` (3) windows are sent in an `IHAVE` to `max(Dlazy, gossipFactor × eligible)` random subscribed peers outside the mesh',
  },
  applies: needsTopic,
  cases: () => fc.record({ data: fc.uint8Array({ maxLength: 64 }) }),
  async check(ctx, { data }) {
    const topic = topicOf(ctx);
    const a = await ctx.connect();
    const b = await ctx.connect();
    try {
      // b subscribes but prunes itself: the node keeps it out of the mesh for the backoff.
      await join(b, topic, false);
      await b.send({ type: 'rpc', control: { prune: [{ topic, backoff: 600 }] } });
      await join(a, topic);
      await handled(ctx, a, b);
      const m = a.message(topic, data);
      const id = defaultMessageId(m);
      await a.send({ type: 'rpc', msgs: [m] });
      const wait = Math.max(ctx.timeoutMs, 5_000); // a few heartbeats
      let early = false;
      const announced = await b.next((f) => {
        if (messageWith(m)(f) !== undefined) early = true;
        return f.type === 'rpc' &&
          f.control?.ihave?.some((e) => e.topic === topic && e.ids.some((x) => bytesEqual(x, id)))
          ? true
          : undefined;
      }, wait);
      ensure(!early, 'the message was pushed to a peer that pruned itself from the mesh');
      ensure(announced, `no IHAVE for ${hex(id)} within ${wait} ms`);
      await b.send({ type: 'rpc', control: { iwant: [id] } });
      ensure(
        (await b.next(messageWith(m), ctx.timeoutMs)) !== undefined,
        'IWANT after the IHAVE got no message',
      );
    } finally {
      a.close();
      b.close();
    }
  },
});
