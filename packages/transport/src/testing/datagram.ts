/** Compliance tests of `Network.bindDatagram` and `DatagramSocket`. */
import { expect, it as vitestIt } from 'vitest';
import { describeError, failureOf, hasCode, type ResolvedOptions, type TestEnv } from './env';
import { bytesOf, deferred, deliver, equalBytes, patternSlice, within } from './helpers';

/** The largest datagram every transport must carry (the IPv4 UDP payload limit). */
const MAX_DATAGRAM = 65_507;

export function datagramTests(env: () => TestEnv, options: ResolvedOptions): void {
  const it = (name: string, fn: () => Promise<void>) => vitestIt(name, fn, options.testTimeoutMs);

  it('round trip both ways, each side seeing the sender address', async () => {
    const { a, b, hostA, hostB, res } = env();
    const sa = await res.bind(a, hostA);
    const sb = await res.bind(b, hostB);
    expect(sa.localAddress.host).toBe(hostA);
    expect(sa.localAddress.port).toBeGreaterThan(0);
    expect(sb.localAddress.host).toBe(hostB);

    const toB = await deliver(a.clock, sa, sb, bytesOf('ping from a'));
    expect(toB.from).toEqual(sa.localAddress);
    const toA = await deliver(b.clock, sb, sa, bytesOf('pong from b'));
    expect(toA.from).toEqual(sb.localAddress);
  });

  it('replies sent to the sender address come back, from 1 byte up to 65,507 bytes', async () => {
    const { a, b, hostA, hostB, res } = env();
    const sa = await res.bind(a, hostA);
    const sb = await res.bind(b, hostB);
    sb.onMessage((data, from) => sb.send(data, from));
    for (const size of [1, 512, 1200, 9000, MAX_DATAGRAM]) {
      const payload = patternSlice(size, size);
      const echo = deferred<{ data: Uint8Array; from: unknown }>();
      const off = sa.onMessage((data, from) => {
        if (equalBytes(data, payload)) echo.resolve({ data, from });
      });
      // Resend until the echo arrives, so that a lossy link passes too.
      const timer = a.clock.setInterval(() => sa.send(payload, sb.localAddress), 100);
      sa.send(payload, sb.localAddress);
      try {
        const got = await within(a.clock, echo.promise, `echo of ${size} bytes`, 5_000);
        expect(got.from).toEqual(sb.localAddress);
      } finally {
        timer.cancel();
        off();
      }
    }
  });

  it('a datagram to a closed socket is lost, not thrown', async () => {
    const { a, b, hostA, hostB, res } = env();
    const sa = await res.bind(a, hostA);
    const gone = await res.bind(b, hostB);
    const goneAddress = gone.localAddress;
    await gone.close();
    expect(() => sa.send(bytesOf('into the void'), goneAddress)).not.toThrow();
    // The sender is unharmed: it still reaches a live socket.
    const live = await res.bind(b, hostB);
    const got = await deliver(a.clock, sa, live, bytesOf('still alive'));
    expect(got.from).toEqual(sa.localAddress);
  });

  it('send after close throws CLOSED; close is idempotent', async () => {
    const { a, b, hostA, hostB, res } = env();
    const sa = await res.bind(a, hostA);
    const sb = await res.bind(b, hostB);
    await sa.close();
    await sa.close();
    const error = await failureOf(() => sa.send(bytesOf('late'), sb.localAddress));
    expect(hasCode(error, 'CLOSED'), describeError(error)).toBe(true);
  });

  it('a datagram over 65,507 bytes throws MESSAGE_TOO_LARGE', async () => {
    const { a, b, hostA, hostB, res } = env();
    const sa = await res.bind(a, hostA);
    const sb = await res.bind(b, hostB);
    const error = await failureOf(() => sa.send(new Uint8Array(MAX_DATAGRAM + 1), sb.localAddress));
    expect(hasCode(error, 'MESSAGE_TOO_LARGE'), describeError(error)).toBe(true);
  });

  it('an unregistered handler is no longer called; the others are', async () => {
    const { a, b, hostA, hostB, res } = env();
    const sa = await res.bind(a, hostA);
    const sb = await res.bind(b, hostB);
    let removedCalls = 0;
    let keptCalls = 0;
    const off = sb.onMessage(() => removedCalls++);
    sb.onMessage(() => keptCalls++);
    off();
    off();
    await deliver(a.clock, sa, sb, bytesOf('who hears this'));
    expect(removedCalls).toBe(0);
    expect(keptCalls).toBeGreaterThan(0);
  });

  it('binding a taken port gives ADDRESS_IN_USE; closing frees it', async () => {
    const { a, hostA, res } = env();
    const first = await res.bind(a, hostA);
    const port = first.localAddress.port;
    const error = await failureOf(() => res.bind(a, hostA, port));
    expect(hasCode(error, 'ADDRESS_IN_USE'), describeError(error)).toBe(true);
    await first.close();
    const again = await res.bind(a, hostA, port);
    expect(again.localAddress).toEqual({ host: hostA, port });
  });

  it('a host that is not a literal IP gives INVALID_ADDRESS', async () => {
    const { a, hostA, res } = env();
    const bindError = await failureOf(() => res.bind(a, 'not-an-ip'));
    expect(hasCode(bindError, 'INVALID_ADDRESS'), describeError(bindError)).toBe(true);
    const sa = await res.bind(a, hostA);
    const sendError = await failureOf(() => sa.send(bytesOf('x'), { host: 'nowhere', port: 1 }));
    expect(hasCode(sendError, 'INVALID_ADDRESS'), describeError(sendError)).toBe(true);
  });
}
