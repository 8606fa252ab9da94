/**
 * `@peerkit/gossip/testing`: everything of `@peerkit/gossip/conformance` (the rules, the raw
 * test peer, the wire-format arbitraries) and `describeGossipCompliance`, which runs the rules
 * as vitest tests against a node you start.
 *
 * ```ts
 * import { describeGossipCompliance } from '@peerkit/gossip/testing';
 *
 * describeGossipCompliance('my node', async () => ({
 *   network,              // a Network the suite's raw peers dial from
 *   target,               // the node's listening Address
 *   topic: 'compliance',  // a topic the node subscribes to
 *   publish: (data) => myNode.publish('compliance', data), // optional: enables gossip.publish
 *   close: async () => {},
 * }), { runs: 10 });
 * ```
 *
 * The rules speak the wire spec (README, "Wire spec") as raw test peers with their own Ed25519
 * identities; they wait only through the network's own clock, so the suite runs on real sockets
 * and in netsim (auto-run mode) alike. Every wait is bounded.
 */

import { type DescribeRulesOptions, describeRules } from '@peerkit/conformance/testing';
import type { Address, Network } from '@peerkit/transport';
import { type GossipContext, openGossipContext, type PublishFn } from './conformance/context';
import { gossipRules } from './conformance/rules';

export * from './conformance';

/** A live node for `describeGossipCompliance`. */
export interface GossipUnderTest {
  /** The network the suite's raw peers dial from. */
  network: Network;
  /** The node's listening address. */
  target: Address;
  /** A topic the node subscribes to. */
  topic: string;
  /** Makes the node publish `data` to `topic`; without it, `gossip.publish` is skipped. */
  publish?: PublishFn;
  /** Stops the node (after the suite). */
  close(): Promise<void>;
}

export interface GossipComplianceOptions extends DescribeRulesOptions {
  /** Longest wait for one expected answer, on the network's clock (default 2,000 ms). */
  timeoutMs?: number;
}

/**
 * Registers the gossip conformance rules (`gossipRules`) as vitest tests, one per rule, against
 * the node `factory` starts (once, before the first rule; `close()` after the last).
 */
export function describeGossipCompliance(
  name: string,
  factory: () => Promise<GossipUnderTest>,
  options: GossipComplianceOptions = {},
): void {
  const { timeoutMs = 2_000, ...runOptions } = options;
  describeRules(
    `gossip: ${name}`,
    gossipRules,
    async (): Promise<GossipContext> => {
      const env = await factory();
      const ctx = await openGossipContext(env.network, env.target, {
        timeoutMs,
        topic: env.topic,
        ...(env.publish === undefined ? {} : { publish: env.publish }),
      });
      return {
        ...ctx,
        async close() {
          try {
            await ctx.close();
          } finally {
            await env.close();
          }
        },
      };
    },
    runOptions,
  );
}
