/** The README's examples, run as written (console output captured). Keep the two in sync. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { formatAddress, nodeNetwork, sleep } from '../src/index';
import { expectNoLeftovers, hasIPv6Loopback, openHandles } from './handles';

const ipv6 = await hasIPv6Loopback();

describe('README examples', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('echo server and client on loopback', async () => {
    const baseline = openHandles();
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});

    const network = nodeNetwork();
    const listener = await network.listen({ host: '127.0.0.1' }, async (stream) => {
      try {
        for await (const chunk of stream) await stream.write(chunk);
        await stream.end();
      } catch {
        stream.destroy();
      }
    });
    const client = await network.dial(listener.localAddress, { timeoutMs: 5_000 });
    await client.write(new TextEncoder().encode('hello, peer'));
    await client.end();
    const decoder = new TextDecoder();
    let reply = '';
    for await (const chunk of client) reply += decoder.decode(chunk, { stream: true });
    console.log(reply);
    expect(await client.closed).toBeUndefined();
    await listener.close();

    expect(log).toHaveBeenCalledWith('hello, peer');
    await expectNoLeftovers(baseline);
  });

  it.skipIf(!ipv6)('datagram echo on ::1', async () => {
    const baseline = openHandles();
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});

    const network = nodeNetwork();
    const a = await network.bindDatagram({ host: '::1' });
    const b = await network.bindDatagram({ host: '::1' });
    b.onMessage((data, from) => b.send(data, from));
    a.onMessage((data, from) =>
      console.log(`${formatAddress(from)}: ${new TextDecoder().decode(data)}`),
    );
    a.send(new TextEncoder().encode('ping'), b.localAddress);
    await sleep(network.clock, 100);
    // On a loaded machine the echo may take longer than the README's 100 ms: wait for it.
    await vi.waitFor(() => expect(log).toHaveBeenCalledWith(`[::1]:${b.localAddress.port}: ping`), {
      timeout: 5_000,
    });
    await Promise.all([a.close(), b.close()]);
    await expectNoLeftovers(baseline);
  });
});
