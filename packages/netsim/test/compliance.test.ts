/**
 * The transport compliance suite (`@peerkit/transport/testing`), the very one the Node sockets
 * pass, run against simulated hosts in auto-run mode.
 */
import { describeTransportCompliance } from '@peerkit/transport/testing';
import { expect } from 'vitest';
import { Simulation } from '../src/index';

let seed = 1;

function simulatedPair(linkOptions: ConstructorParameters<typeof Simulation>[0]['link']) {
  return async () => {
    const sim = new Simulation({ seed: seed++, link: linkOptions });
    const a = sim.addHost();
    const b = sim.addHost();
    sim.start();
    return {
      a: a.network,
      b: b.network,
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
  };
}

describeTransportCompliance('netsim (default link)', simulatedPair({}), {
  streamEchoBytes: 8 * 1024 * 1024,
});

describeTransportCompliance(
  'netsim (lossy, jittery, 10 MB/s link)',
  simulatedPair({
    latency: 30,
    jitter: 20,
    loss: 0.2,
    duplicate: 0.1,
    reorder: 0.1,
    bandwidth: 10e6,
  }),
  { streamEchoBytes: 4 * 1024 * 1024, concurrentStreams: 16 },
);
