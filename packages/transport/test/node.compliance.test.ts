/**
 * The transport compliance suite against `nodeNetwork()` on IPv4 and IPv6 loopback, checking
 * after every test that no socket, server or timer is left open.
 */
import { describe } from 'vitest';
import { nodeNetwork } from '../src/index';
import { describeTransportCompliance } from '../src/testing';
import { expectNoLeftovers, hasIPv6Loopback, openHandles } from './handles';

const ipv6 = await hasIPv6Loopback();
if (!ipv6)
  console.warn('no IPv6 loopback (::1) on this machine: the ::1 compliance run is skipped');

for (const host of ['127.0.0.1', '::1']) {
  const skip = host === '::1' && !ipv6;
  const title = skip ? `on ${host} (skipped: no IPv6 loopback here)` : `on ${host}`;
  describe.skipIf(skip)(title, () => {
    describeTransportCompliance(`nodeNetwork ${host}`, () => {
      const baseline = openHandles();
      return {
        a: nodeNetwork(),
        b: nodeNetwork(),
        hostA: host,
        hostB: host,
        close: () => expectNoLeftovers(baseline),
      };
    });
  });
}
