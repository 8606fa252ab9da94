/**
 * Gossip over @peerkit/noise secure streams in netsim: the noise identity's secret key is the
 * gossip identity seed, so hello ids are authenticated by the handshake.
 */

import { Simulation } from '@peerkit/netsim';
import {
  type Identity,
  identityFromSecretKey,
  secureInbound,
  secureOutbound,
} from '@peerkit/noise';
import { expect, test } from 'vitest';
import { GossipNode, type GossipOptions, type PeerEvent, peerKey } from '../src/index';

function secured(sim: Simulation, identity: Identity): GossipOptions['upgrade'] {
  return (stream, outbound) =>
    (outbound ? secureOutbound : secureInbound)(stream, { identity, clock: sim.clock });
}

test('gossip over noise: delivery, and a hello id that differs from the noise identity is refused', async () => {
  const sim = new Simulation({ seed: 77 });
  const hosts = [sim.addHost(), sim.addHost(), sim.addHost()];
  const seeds = hosts.map((_, i) => new Uint8Array(32).fill(i + 1));
  const nodes: GossipNode[] = [];
  for (const [i, host] of hosts.entries()) {
    const identity = identityFromSecretKey(seeds[i] as Uint8Array);
    // The third node signs gossip with a different key than its noise identity.
    const identitySeed = i === 2 ? new Uint8Array(32).fill(99) : (seeds[i] as Uint8Array);
    nodes.push(
      await GossipNode.create(host.network, {
        listen: { host: host.address, port: 4001 },
        bootstrap: i === 0 ? [] : [{ host: hosts[0]?.address as string, port: 4001 }],
        identitySeed,
        upgrade: secured(sim, identity),
      }),
    );
  }
  const [a, b, c] = nodes as [GossipNode, GossipNode, GossipNode];
  const events: PeerEvent[] = [];
  a.onPeer((e) => events.push(e));
  for (const n of nodes) n.subscribe('secure');
  await sim.runFor(3000);
  expect(a.peers()).toEqual([b.peerKey]);
  expect(c.peers()).toEqual([]);
  // a saw b connect, and refused c's hello (typed BAD_HELLO) naming its noise identity.
  const cNoiseKey = peerKey(identityFromSecretKey(seeds[2] as Uint8Array).publicKey);
  expect(events.find((e) => e.type === 'connect')).toMatchObject({ peer: b.peerKey });
  const refused = events.filter((e) => e.type === 'refused');
  expect(refused.length).toBeGreaterThan(0);
  for (const e of refused) {
    expect(e).toMatchObject({ expected: cNoiseKey, claimed: c.peerKey });
    expect(e.type === 'refused' && e.error.code).toBe('BAD_HELLO');
  }
  const got: string[] = [];
  b.onMessage((e) => got.push(new TextDecoder().decode(e.message.data)));
  a.publish('secure', new TextEncoder().encode('sealed'));
  await sim.runFor(1000);
  expect(got).toEqual(['sealed']);
  await Promise.all(nodes.map((n) => n.close()));
  await sim.runFor(100);
  expect(sim.openResources()).toMatchObject({ streams: 0, listeners: 0, timers: 0 });
});
