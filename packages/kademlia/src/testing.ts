/**
 * @peerkit/kademlia/testing: fast-check arbitraries (ids, addresses, KRPC messages), everything
 * of `./conformance` (the DHT rule set, its context and raw KRPC probe), and
 * `describeKrpcCompliance`, which runs the rule set as vitest tests against a live address.
 */

import { type DescribeRulesOptions, describeRules } from '@peerkit/conformance/testing';
import { type Address, type Network, nodeNetwork } from '@peerkit/transport';
import { openDhtContext } from './conformance/context';
import { dhtRules } from './conformance/rules';

export * from './conformance';
export {
  arbAddress,
  arbContact,
  arbKrpcError,
  arbKrpcMessage,
  arbKrpcQuery,
  arbKrpcResponse,
  arbNodeId,
} from './testing/arbitraries';

export interface KrpcComplianceOptions extends DescribeRulesOptions {
  /** Where the probes' sockets come from (default `nodeNetwork()`: real UDP). */
  network?: Network;
  /** Longest wait for one answer (default 2,000 ms). */
  timeoutMs?: number;
  /** Most datagrams per second sent to the node, for nodes that rate-limit (default no limit). */
  rate?: number;
}

/**
 * Registers one vitest test per rule of `dhtRules` against the node at `target()` (called in
 * `beforeAll`, so it may start the node). A rule the node does not support (BEP 44 without
 * `get`) is skipped with the reason; a failing rule prints its shrunk counterexample and the
 * `CONFORM_SEED` that replays it.
 *
 * ```ts
 * describeKrpcCompliance('my node', async () => ({ host: '127.0.0.1', port: myNode.port }), {
 *   runs: 10,
 * });
 * ```
 */
export function describeKrpcCompliance(
  name: string,
  target: () => Address | Promise<Address>,
  options: KrpcComplianceOptions = {},
): void {
  const { network, timeoutMs = 2_000, rate, ...describeOptions } = options;
  describeRules(
    name,
    dhtRules,
    async () =>
      openDhtContext(network ?? nodeNetwork(), await target(), {
        timeoutMs,
        ...(rate === undefined ? {} : { rate }),
      }),
    describeOptions,
  );
}
