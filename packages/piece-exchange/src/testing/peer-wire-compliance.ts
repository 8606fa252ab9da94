/**
 * `describePeerWireCompliance`: the peer wire conformance rules (`peerRules` of `./conformance`)
 * as vitest tests against a live seeder. Any BitTorrent implementation that listens on an
 * address reachable through a transport `Network` can be checked with it: peerkit's tests run it
 * against a peerkit seeder, `peerkit-conform peer` runs the same rules against other clients.
 */

import { describeRules } from '@peerkit/conformance/testing';
import type { Address, Network } from '@peerkit/transport';
import { openPeerContext, type PeerContext } from '../conformance/context';
import { peerRules } from '../conformance/rules';
import type { V1Metainfo } from '../metainfo/types';

export interface LiveSeeder {
  /** Where the seeder accepts connections. */
  readonly address: Address;
  /** Network to dial it from (nodeNetwork() for a real client, a netsim host otherwise). */
  readonly network: Network;
  /** The torrent it seeds, complete (`requireV1(parseTorrent(bytes))` of its .torrent file). */
  readonly torrent: V1Metainfo;
}

export interface PeerWireComplianceOptions {
  /** Longest wait for one expected message (default 10 s). */
  timeoutMs?: number;
  /** Longest wait to be unchoked after "interested" (default 30 s). */
  unchokeTimeoutMs?: number;
  /** Cases per rule (default 10). */
  runs?: number;
  /** fast-check seed (default: `CONFORM_SEED`, a fixed seed under `CI`, else random). */
  seed?: number;
  /** vitest's limit for one rule, shrinking included (default 120 s). */
  testTimeoutMs?: number;
}

/**
 * Registers one vitest test per peer wire rule (`peerRules`) against the seeder that `setup`
 * starts (once, before the first rule; `teardown` runs after the last). A rule that does not
 * apply (e.g. no ut_metadata offered) is skipped with its reason; a failure prints the shrunk
 * case and the `CONFORM_SEED` that replays it.
 */
export function describePeerWireCompliance(
  name: string,
  setup: () => Promise<{ seeder: LiveSeeder; teardown(): Promise<void> }>,
  options: PeerWireComplianceOptions = {},
): void {
  describeRules(
    `peer wire: ${name}`,
    peerRules,
    async (): Promise<PeerContext> => {
      const { seeder, teardown } = await setup();
      const ctx = openPeerContext(seeder.network, seeder.address, seeder.torrent, {
        timeoutMs: options.timeoutMs ?? 10_000,
        unchokeTimeoutMs: options.unchokeTimeoutMs,
      });
      return {
        ...ctx,
        async close() {
          await ctx.close();
          await teardown();
        },
      };
    },
    { runs: options.runs, seed: options.seed, testTimeoutMs: options.testTimeoutMs },
  );
}
