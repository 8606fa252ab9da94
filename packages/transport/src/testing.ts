/**
 * `@peerkit/transport/testing`: the transport compliance suite and fast-check arbitraries.
 *
 * ## Running the compliance suite against a transport
 *
 * ```ts
 * import { describeTransportCompliance } from '@peerkit/transport/testing';
 *
 * describeTransportCompliance('my transport', async () => ({
 *   a: networkA,          // a Network
 *   b: networkB,          // another Network that can reach `a` (may be the same object)
 *   hostA: '10.0.0.1',    // literal IP `a` binds and listens on, and is seen from
 *   hostB: '10.0.0.2',    // literal IP `b` binds and listens on, and is seen from
 *   close: async () => {  // after each test: release the pair; throw if anything is left open
 *   },
 * }), { streamEchoBytes: 8 * 1024 * 1024 });
 * ```
 *
 * The factory runs before every test (a fresh pair each time) and `close()` after it, once the
 * suite has closed every socket, listener and stream the test opened. `close()` is the place to
 * check that nothing is left open (the Node tests count active handles; a simulator can count
 * its open sockets and timers).
 *
 * Rules the suite follows, so that it runs on real sockets and in a simulator alike:
 * - It uses only the `Network` interface, and waits only through each network's own `clock`
 *   (never global timers, never wall-clock assumptions). Under a simulator whose virtual time
 *   advances whenever real work is idle, every wait completes promptly; every wait is bounded.
 * - Addresses come from the factory (`hostA`, `hostB`) or from `localAddress`; nothing is
 *   hard-coded.
 * - Datagram tests resend until delivery, so a lossy link passes too; stream tests expect a
 *   reliable stream.
 *
 * What it checks: datagram round trip both ways with the sender address, datagrams up to
 * 65,507 bytes, loss (not an exception) when sending to a closed socket, `CLOSED`,
 * `MESSAGE_TOO_LARGE`, `ADDRESS_IN_USE`, `INVALID_ADDRESS`; a stream echo of
 * `streamEchoBytes` (default 64 MiB); backpressure (a writer whose reader stops reading gets a
 * pending write promise after at most `maxBufferedBytes`, and `end()` called meanwhile
 * completes with it once the reader reads); many small writes; concurrent
 * streams; half-close; `CONNECTION_REFUSED`; a remote `destroy()` seen as `CONNECTION_RESET`;
 * `destroy(error)`; writes after `end()`/`destroy()` rejecting with `CLOSED`; leaving a
 * `for await` early; listener close; `ADDRESS_IN_USE`; `ABORTED`.
 */
import fc from 'fast-check';
import { afterEach, beforeEach, describe } from 'vitest';
import type { Address } from './interfaces';
import { datagramTests } from './testing/datagram';
import type {
  ResolvedOptions,
  TestEnv,
  TransportComplianceOptions,
  TransportPair,
} from './testing/env';
import { Resources } from './testing/helpers';
import { streamTests } from './testing/stream';

export type { TransportComplianceOptions, TransportPair } from './testing/env';

const MiB = 1024 * 1024;

/**
 * Registers the transport compliance suite (vitest `describe`/`it`) for the transport that
 * `factory` builds. See the header of this module for the factory's contract.
 */
export function describeTransportCompliance(
  name: string,
  factory: () => TransportPair | Promise<TransportPair>,
  options: TransportComplianceOptions = {},
): void {
  const resolved: ResolvedOptions = {
    streamEchoBytes: options.streamEchoBytes ?? 64 * MiB,
    maxBufferedBytes: options.maxBufferedBytes ?? 16 * MiB,
    concurrentStreams: options.concurrentStreams ?? 32,
    testTimeoutMs: options.testTimeoutMs ?? 120_000,
  };

  describe(`transport compliance: ${name}`, () => {
    let current: TestEnv | undefined;

    beforeEach(async () => {
      const pair = await factory();
      current = {
        a: pair.a,
        b: pair.b,
        hostA: pair.hostA,
        hostB: pair.hostB,
        close: () => pair.close(),
        res: new Resources(),
        options: resolved,
      };
    }, resolved.testTimeoutMs);

    afterEach(async () => {
      const env = current;
      current = undefined;
      if (!env) return;
      try {
        await env.res.closeAll(env.a.clock);
      } finally {
        await env.close();
      }
    }, resolved.testTimeoutMs);

    const env = (): TestEnv => {
      if (!current) throw new Error('no transport pair: the factory failed');
      return current;
    };

    describe('datagrams', () => datagramTests(env, resolved));
    describe('streams', () => streamTests(env, resolved));
  });
}

/** A literal IPv4 address, e.g. `10.0.0.1`. */
export function arbitraryIPv4Host(): fc.Arbitrary<string> {
  return fc.ipV4();
}

/** A literal IPv6 address in any valid spelling, e.g. `::1`, `fe80::a:0:1`, `::ffff:1.2.3.4`. */
export function arbitraryIPv6Host(): fc.Arbitrary<string> {
  return fc.ipV6();
}

/** A port, 0 to 65535. */
export function arbitraryPort(): fc.Arbitrary<number> {
  return fc.integer({ min: 0, max: 65_535 });
}

/** An `Address` of either family. */
export function arbitraryAddress(): fc.Arbitrary<Address> {
  return fc.record({
    host: fc.oneof(arbitraryIPv4Host(), arbitraryIPv6Host()),
    port: arbitraryPort(),
  });
}
