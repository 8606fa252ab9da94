/**
 * Rules of the mesh (README, "How it works", "The mesh"): GRAFTs the node must refuse, each
 * answered with a PRUNE.
 */
import { defineRule, ensure } from '@peerkit/conformance';
import * as fc from 'fast-check';
import { arbTopic } from '../../testing/arbitraries';
import type { GossipContext } from '../context';
import { join, needsTopic, pruneFor, SPEC, topicOf } from './shared';

export const graftBackoff = defineRule<GossipContext, { backoff: number }>({
  id: 'gossip.graft.backoff',
  title: 'a GRAFT during the backoff of our own PRUNE is answered with a PRUNE carrying a backoff',
  cite: {
    spec: SPEC,
    section: 'How it works, The mesh',
    text: 'A received `GRAFT` (`Mesh.handleGraft`) is accepted unless: [...] the peer is in backoff [...] Refusals are answered with a `PRUNE` carrying a backoff',
  },
  applies: needsTopic,
  cases: () => fc.record({ backoff: fc.integer({ min: 30, max: 86_400 }) }),
  async check(ctx, { backoff }) {
    const topic = topicOf(ctx);
    const p = await ctx.connect();
    try {
      await join(p, topic, false);
      await p.send({ type: 'rpc', control: { prune: [{ topic, backoff }] } });
      await p.send({ type: 'rpc', control: { graft: [topic] } });
      const prune = await p.next(pruneFor(topic), ctx.timeoutMs);
      ensure(
        prune !== undefined,
        `GRAFT within a ${backoff} s backoff was not answered with a PRUNE`,
      );
      ensure((prune.backoff ?? 0) > 0, 'the PRUNE carries no backoff');
    } finally {
      p.close();
    }
  },
});

export const graftUnsubscribed = defineRule<GossipContext, { topic: string }>({
  id: 'gossip.graft.not-subscribed',
  title: 'a GRAFT for a topic the node does not subscribe to is answered with a PRUNE',
  cite: {
    spec: SPEC,
    section: 'How it works, The mesh',
    text: 'A received `GRAFT` (`Mesh.handleGraft`) is accepted unless: we do not subscribe to the topic (`not-subscribed`), [...] Refusals are answered with a `PRUNE` carrying a backoff',
  },
  cases: () => fc.record({ topic: arbTopic().map((t) => `conform/${t}`) }),
  async check(ctx, { topic }) {
    const p = await ctx.connect();
    try {
      await ctx.sleep(20);
      fc.pre(!p.subscriptions.has(topic));
      await join(p, topic);
      const prune = await p.next(pruneFor(topic), ctx.timeoutMs);
      ensure(
        prune !== undefined,
        `GRAFT for "${topic}", which the node does not subscribe to, got no PRUNE`,
      );
    } finally {
      p.close();
    }
  },
});
