/**
 * `SecureStream` is a `Stream`: @peerkit/transport's own compliance suite (the one Node
 * sockets and netsim pass) run through `secureNetwork()` over simulated hosts with a lossy
 * link: echo, backpressure, half-close, many small writes, concurrent streams,
 * CONNECTION_RESET on a remote destroy, destroy(error), CLOSED after end/destroy, leaving a
 * for-await early, listener close. Nothing may be left open after each test.
 */
import { Simulation } from '@peerkit/netsim';
import { describeTransportCompliance } from '@peerkit/transport/testing';
import { describe, expect, it } from 'vitest';
import { generateIdentity, type NoiseError, type SecureStream, secureNetwork } from '../src/index';

let seed = 1;

describeTransportCompliance(
  'secureNetwork() over netsim',
  async () => {
    const sim = new Simulation({ seed: seed++, link: { latency: 5, jitter: 3, loss: 0.05 } });
    const a = sim.addHost();
    const b = sim.addHost();
    sim.start();
    return {
      a: secureNetwork(a.network, { identity: generateIdentity() }),
      b: secureNetwork(b.network, { identity: generateIdentity() }),
      hostA: a.address,
      hostB: b.address,
      close: async () => {
        await sim.stop();
        expect(sim.openResources()).toEqual({
          datagramSockets: 0,
          listeners: 0,
          streams: 0,
          timers: 0,
        });
      },
    };
  },
  { streamEchoBytes: 4 * 1024 * 1024, concurrentStreams: 16, testTimeoutMs: 60_000 },
);

describe('secureNetwork()', () => {
  it('hands out verified identities and reports failed inbound handshakes', async () => {
    const sim = new Simulation({ seed: 99 });
    const a = sim.addHost();
    const b = sim.addHost();
    const ia = generateIdentity();
    const ib = generateIdentity();
    const failures: NoiseError[] = [];
    const na = secureNetwork(a.network, {
      identity: ia,
      onHandshakeError: (e) => failures.push(e),
    });
    const nb = secureNetwork(b.network, { identity: ib });
    await sim.run(async () => {
      const accepted: SecureStream[] = [];
      const listener = await na.listen({ host: a.address, port: 7 }, (s) => accepted.push(s));
      const s = await nb.dial(listener.localAddress, { expectedRemoteIdentity: ia.publicKey });
      expect(s.remoteIdentity).toEqual(ia.publicKey);
      await expect(
        nb.dial(listener.localAddress, { expectedRemoteIdentity: ib.publicKey }),
      ).rejects.toMatchObject({ code: 'IDENTITY_MISMATCH' });
      // A plain (unsecured) client speaking garbage is refused and reported, not accepted.
      const raw = await b.network.dial(listener.localAddress);
      await raw.write(new TextEncoder().encode('GET / HTTP/1.1\r\n\r\n'));
      await raw.end();
      await new Promise<void>((resolve) => sim.clock.setTimeout(resolve, 100));
      // The mismatched dialer hung up before msg 3: only the first stream was accepted.
      expect(accepted.length).toBe(1);
      expect(accepted[0]?.remoteIdentity).toEqual(ib.publicKey);
      // "GE" reads as a 18,245-byte message that never comes: the end makes it TRUNCATED.
      expect(failures.map((e) => e.code)).toEqual(['CLOSED', 'TRUNCATED']);
      s.destroy();
      for (const x of accepted) x.destroy();
      raw.destroy();
      await listener.close();
    });
    expect(sim.openResources().listeners).toBe(0);
  });
});
