/**
 * The bottleneck model: a link (or a host's access link) with a bandwidth and a finite queue.
 * Datagrams wait behind the backlog (queuing delay = backlog / bandwidth) and a datagram that
 * finds the queue full is dropped (tail drop), so delay and loss come from load, as on a real
 * modem. Exact numbers: the model is deterministic for constant latency.
 */
import type { DatagramSocket } from '@peerkit/transport';
import { describe, expect, it } from 'vitest';
import { Simulation } from '../src/index';

async function pair(sim: Simulation) {
  const a = sim.addHost();
  const b = sim.addHost();
  const sa = await a.network.bindDatagram({ host: a.address, port: 1 });
  const sb: DatagramSocket = await b.network.bindDatagram({ host: b.address, port: 2 });
  const arrivals: { seq: number; at: number }[] = [];
  sb.onMessage((data) => arrivals.push({ seq: data[0] as number, at: sim.now }));
  const burst = (count: number, size: number): void => {
    for (let i = 0; i < count; i++) {
      const data = new Uint8Array(size);
      data[0] = i;
      sa.send(data, sb.localAddress);
    }
  };
  return { a, b, arrivals, burst };
}

describe('bottleneck with a finite queue', () => {
  it('an access link: a burst fills the queue, the rest is dropped, the queue drains at the bandwidth', async () => {
    const sim = new Simulation({ seed: 1, link: { latency: 5 }, trace: true });
    const { a, arrivals, burst } = await pair(sim);
    // 1 MB/s and a queue of 10 kB: 10 ms of buffer.
    sim.setHostBandwidth(a, { uplink: 1_000_000, uplinkQueue: 10_000 });
    burst(100, 1000);
    // The queue holds 10 datagrams (10,000 bytes): 10 ms of queuing delay for the next one.
    expect(a.queueDelay().uplink).toBe(10);
    expect(a.queueDrops().uplink).toBe(90);
    await sim.runUntilIdle();
    expect(arrivals.map((x) => x.seq)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // Serialization of 1000 bytes at 1 MB/s is 1 ms; then 5 ms of latency.
    expect(arrivals.map((x) => x.at)).toEqual([6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
    const drops = sim.trace.events().filter((e) => e.type === 'drop');
    expect(drops).toHaveLength(90);
    expect(drops.every((e) => 'reason' in e && e.reason === 'queue')).toBe(true);
    expect(a.queueDelay().uplink).toBe(0);
  });

  it('a drained queue takes datagrams again; a half-full one delays them by its backlog', async () => {
    const sim = new Simulation({ seed: 2, link: { latency: 5 } });
    const { a, arrivals, burst } = await pair(sim);
    sim.setHostBandwidth(a, { uplink: 1_000_000, uplinkQueue: 10_000 });
    burst(4, 1000);
    await sim.runFor(2);
    // Two of the four left; two remain: 2 ms of backlog.
    expect(a.queueDelay().uplink).toBe(2);
    burst(1, 1000);
    await sim.runUntilIdle();
    expect(arrivals.map((x) => x.at)).toEqual([6, 7, 8, 9, 10]);
    expect(a.queueDrops().uplink).toBe(0);
  });

  it('a link between two hosts: bandwidth and queue per direction', async () => {
    const sim = new Simulation({ seed: 3, link: { latency: 5 } });
    const { a, b, arrivals, burst } = await pair(sim);
    sim.setLink(a, b, { bandwidth: 100_000, queue: 5_000 });
    burst(20, 1000);
    await sim.runUntilIdle();
    // 10 ms per datagram at 100 kB/s; 5 fit.
    expect(arrivals.map((x) => x.at)).toEqual([15, 25, 35, 45, 55]);
  });

  it('an unlimited queue never drops: the delay grows with the backlog instead', async () => {
    const sim = new Simulation({ seed: 4, link: { latency: 5 } });
    const { a, arrivals, burst } = await pair(sim);
    sim.setHostBandwidth(a, { uplink: 1_000_000 });
    burst(50, 1000);
    expect(a.queueDelay().uplink).toBe(50);
    await sim.runUntilIdle();
    expect(arrivals).toHaveLength(50);
    expect(arrivals.at(-1)?.at).toBe(55);
  });

  it('rejects a queue that is not a positive number of bytes', () => {
    const sim = new Simulation({ seed: 5 });
    const a = sim.addHost();
    expect(() => sim.setHostBandwidth(a, { uplink: 1000, uplinkQueue: 0 })).toThrow(/uplinkQueue/);
    expect(() => sim.setDefaultLink({ bandwidth: 1000, queue: -1 })).toThrow(/queue/);
  });
});
