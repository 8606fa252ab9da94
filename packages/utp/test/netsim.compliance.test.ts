/**
 * transport's compliance suite against uTP inside netsim: a clean link, and a lossy, jittery,
 * reordering, duplicating, bandwidth-limited one. After each test, nothing may be left open.
 */
import { Simulation, seedFromEnv } from '@peerkit/netsim';
import { describeTransportCompliance } from '@peerkit/transport/testing';
import { expect } from 'vitest';
import { utpNetwork } from '../src/index';

let seed = seedFromEnv();
console.log(`netsim compliance seeds from ${seed} (replay: NETSIM_SEED=${seed})`);

type Link = ConstructorParameters<typeof Simulation>[0]['link'];

function simulatedPair(link: Link, buffers?: number) {
  return async () => {
    const sim = new Simulation({ seed: seed++, link });
    const hostA = sim.addHost();
    const hostB = sim.addHost();
    const options = { recvBufferBytes: buffers, sendBufferBytes: buffers };
    const a = utpNetwork(hostA.network, { dialHost: hostA.address, ...options });
    const b = utpNetwork(hostB.network, { dialHost: hostB.address, ...options });
    sim.start();
    return {
      a,
      b,
      hostA: hostA.address,
      hostB: hostB.address,
      close: async () => {
        await a.close();
        await b.close();
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

describeTransportCompliance('uTP in netsim (default link)', simulatedPair({}), {
  streamEchoBytes: 4 * 1024 * 1024,
});

describeTransportCompliance(
  'uTP in netsim (1% loss, jitter, reordering, duplication, 10 MB/s)',
  simulatedPair(
    { latency: 20, jitter: 10, loss: 0.01, duplicate: 0.02, reorder: 0.05, bandwidth: 10e6 },
    256 * 1024,
  ),
  { streamEchoBytes: 1024 * 1024, maxBufferedBytes: 1024 * 1024, concurrentStreams: 16 },
);
