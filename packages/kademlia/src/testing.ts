/**
 * @peerkit/kademlia/testing: fast-check arbitraries (ids, addresses, KRPC messages) and a
 * compliance suite of rules any KRPC node must satisfy, runnable against a live address.
 */
import type { Address } from '@peerkit/transport';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { type KrpcComplianceOptions, KrpcProbe, krpcComplianceRules } from './compliance';

export {
  arbAddress,
  arbContact,
  arbKrpcError,
  arbKrpcMessage,
  arbKrpcQuery,
  arbKrpcResponse,
  arbNodeId,
} from './arbitraries';

export {
  type KrpcComplianceOptions,
  type KrpcComplianceResult,
  type KrpcComplianceRule,
  KrpcProbe,
  krpcComplianceRules,
  runKrpcCompliance,
} from './compliance';

/**
 * Registers one vitest test per KRPC compliance rule against the node at `target()` (called in
 * `beforeAll`, so it may start the node). Use it for your own DHT node:
 *
 * ```ts
 * describeKrpcCompliance('my node', async () => ({ host: '127.0.0.1', port: myNode.port }));
 * ```
 */
export function describeKrpcCompliance(
  name: string,
  target: () => Address | Promise<Address>,
  options: KrpcComplianceOptions = {},
): void {
  describe(`KRPC compliance: ${name}`, () => {
    let probe: KrpcProbe;
    beforeAll(async () => {
      probe = await KrpcProbe.open(await target(), options);
    });
    afterAll(async () => {
      await probe?.close();
    });
    for (const rule of krpcComplianceRules) {
      it(rule.name, async () => {
        await rule.check(probe);
      });
    }
  });
}
