/**
 * A peer that vanishes without a word (SIGKILL: its UDP port closes, no ST_FIN, no ST_RESET) is
 * noticed in bounded time (issue #19): at once when its system answers ICMP port unreachable
 * (real UDP), and after 4 consecutive retransmission timeouts otherwise, as libutp does (netsim,
 * virtual time; printed seed, replay with `NETSIM_SEED=<seed>`).
 */
import { replayHint, Simulation, seedFromEnv } from '@peerkit/netsim';
import {
  type DatagramSocket,
  isTransportError,
  type Network,
  nodeNetwork,
  type Stream,
  type TransportError,
} from '@peerkit/transport';
import { describe, expect, it } from 'vitest';
import { type UtpNetwork, utpNetwork } from '../src/index';

const seed = seedFromEnv();
console.log(`uTP dead peer: seed ${seed} (replay: ${replayHint(seed)})`);

/** `base`, with `kill()` closing every datagram socket it bound, under uTP's feet. */
function killable(base: Network): Network & { kill(): Promise<void> } {
  const sockets: DatagramSocket[] = [];
  return {
    clock: base.clock,
    random: base.random,
    listen: (bind, onStream) => base.listen(bind, onStream),
    dial: (to, options) => base.dial(to, options),
    async bindDatagram(bind) {
      const socket = await base.bindDatagram(bind);
      sockets.push(socket);
      return socket;
    },
    async kill() {
      await Promise.all(sockets.map((s) => s.close()));
    },
  };
}

/** Connects `from` to a listener on `to`, then keeps writing until the stream breaks. */
async function writeUntilBroken(
  from: UtpNetwork,
  to: UtpNetwork,
  host: string,
  kill: () => Promise<void>,
): Promise<{ closedWith: TransportError | undefined; at: number; killedAt: number }> {
  const accepted: Stream[] = [];
  const listener = await to.listen({ host }, (s) => {
    accepted.push(s);
    void (async () => {
      for await (const _ of s);
    })().catch(() => undefined);
  });
  const client = await from.dial(listener.localAddress);
  const chunk = new Uint8Array(16 * 1024).fill(1);
  await client.write(chunk);
  const killedAt = from.clock.now();
  await kill();
  const writing = (async () => {
    try {
      for (let i = 0; i < 10_000; i++) await client.write(chunk);
    } catch {
      // The stream broke: what we wait for.
    }
  })();
  const closedWith = await client.closed;
  const at = from.clock.now();
  await writing;
  return { closedWith, at, killedAt };
}

describe('a peer that vanishes', () => {
  it('real UDP: ICMP port unreachable ends the connection with CONNECTION_RESET', async () => {
    const peerBase = killable(nodeNetwork());
    // So many timeouts allowed that only the ICMP answer can end the stream within the test.
    const sender = utpNetwork(nodeNetwork(), { maxTimeouts: 1000 });
    // Its socket is gone: closing it has nothing to wait for.
    const peer = utpNetwork(peerBase, { closeDrainMs: 0 });
    try {
      const { closedWith } = await writeUntilBroken(sender, peer, '127.0.0.1', () =>
        peerBase.kill(),
      );
      expect(isTransportError(closedWith, 'CONNECTION_RESET'), String(closedWith)).toBe(true);
      expect(String(closedWith?.message)).toMatch(/port unreachable/);
    } finally {
      await sender.close();
      await peer.close();
    }
  }, 20_000);

  it('without ICMP (netsim): TIMEOUT after 4 retransmission timeouts, within 30 s', async () => {
    const sim = new Simulation({ seed, link: { latency: 20, jitter: 5 } });
    const ha = sim.addHost();
    const hb = sim.addHost();
    const peerBase = killable(hb.network);
    const sender = utpNetwork(ha.network);
    const peer = utpNetwork(peerBase);
    const result = await sim.run(() =>
      writeUntilBroken(sender, peer, hb.address, () => peerBase.kill()),
    );
    expect(isTransportError(result.closedWith, 'TIMEOUT'), String(result.closedWith)).toBe(true);
    // Virtual time: 0.5 + 1 + 2 + 4 + 8 s of back-off from the last ACK.
    expect(result.at - result.killedAt, `seed ${seed}`).toBeLessThanOrEqual(30_000);
    await sim.run(() => Promise.all([sender.close(), peer.close()]));
    await sim.stop();
  }, 60_000);
});
