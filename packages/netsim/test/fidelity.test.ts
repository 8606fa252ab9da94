/**
 * Fidelity: what a simulation measures matches what was configured. Every check runs at a fixed
 * seed and states its statistical bound (about 4 standard deviations or more, so that a
 * correct model fails with probability far below one in ten thousand for any seed).
 */
import type { Address, DatagramSocket } from '@peerkit/transport';
import { describe, expect, it } from 'vitest';
import { type LinkOptions, normal, Simulation, uniform } from '../src/index';

const N = 10_000;

/** Sends N numbered datagrams from a to b, one every `gapMs`; returns arrivals. */
async function measure(link: LinkOptions, gapMs = 1, size = 100) {
  const sim = new Simulation({ seed: 2024, link });
  const a = sim.addHost();
  const b = sim.addHost();
  const sa = await a.network.bindDatagram({ host: a.address, port: 1 });
  const sb: DatagramSocket = await b.network.bindDatagram({ host: b.address, port: 2 });
  const sentAt: number[] = [];
  const arrivals: { seq: number; delay: number }[] = [];
  sb.onMessage((data) => {
    const seq = new DataView(data.buffer, data.byteOffset).getUint32(0);
    arrivals.push({ seq, delay: sim.now - (sentAt[seq] as number) });
  });
  const to: Address = sb.localAddress;
  let seq = 0;
  const timer = sim.clock.setInterval(() => {
    if (seq >= N) return timer.cancel();
    const data = new Uint8Array(size);
    new DataView(data.buffer).setUint32(0, seq);
    sentAt[seq] = sim.now;
    sa.send(data, to);
    seq++;
  }, gapMs);
  await sim.runUntilIdle();
  return { arrivals, sim };
}

function stats(xs: number[]) {
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  const variance = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (xs.length - 1);
  return { mean, sd: Math.sqrt(variance), min: Math.min(...xs), max: Math.max(...xs) };
}

describe('fidelity (seed 2024)', () => {
  it('fixed latency plus uniform jitter: every delay in [latency, latency + jitter), mean in the middle', async () => {
    const { arrivals } = await measure({ latency: 25, jitter: 10 });
    expect(arrivals.length).toBe(N);
    const s = stats(arrivals.map((a) => a.delay));
    expect(s.min).toBeGreaterThanOrEqual(25);
    expect(s.max).toBeLessThan(35);
    // Uniform(0, 10): sd 2.89, standard error of the mean 0.029; bound 0.15 is > 5 SE.
    expect(Math.abs(s.mean - 30)).toBeLessThan(0.15);
    expect(Math.abs(s.sd - 10 / Math.sqrt(12))).toBeLessThan(0.15);
  });

  it('latency from a distribution: normal(50, 5) has that mean and deviation', async () => {
    const { arrivals } = await measure({ latency: normal(50, 5) });
    const s = stats(arrivals.map((a) => a.delay));
    // SE of the mean 0.05 (bound 0.25 = 5 SE); SE of the sd about 0.035 (bound 0.2).
    expect(Math.abs(s.mean - 50)).toBeLessThan(0.25);
    expect(Math.abs(s.sd - 5)).toBeLessThan(0.2);
  });

  it('loss: the delivered fraction matches 1 - loss', async () => {
    const { arrivals, sim } = await measure({ loss: 0.1 });
    // Binomial: sd of the fraction sqrt(0.09 / 10,000) = 0.003; bound 0.015 = 5 sd.
    expect(Math.abs(arrivals.length / N - 0.9)).toBeLessThan(0.015);
    expect(sim.trace.counts.drop).toBe(N - arrivals.length);
  });

  it('duplication: about duplicate × N extra copies, each numbered datagram at most twice', async () => {
    const { arrivals, sim } = await measure({ duplicate: 0.05 });
    const extra = arrivals.length - N;
    // Binomial(10,000, 0.05): mean 500, sd 21.8; bound 110 = 5 sd.
    expect(Math.abs(extra - 500)).toBeLessThan(110);
    expect(sim.trace.counts.duplicate).toBe(extra);
    const counts = new Map<number, number>();
    for (const a of arrivals) counts.set(a.seq, (counts.get(a.seq) ?? 0) + 1);
    expect(Math.max(...counts.values())).toBe(2);
    expect(counts.size).toBe(N);
  });

  it('ordering: without jitter or reordering datagrams arrive in order; reorder = p overtakes about p of them', async () => {
    const inOrder = await measure({ latency: 20 });
    expect(inOrder.arrivals.map((a) => a.seq)).toEqual(Array.from({ length: N }, (_, i) => i));

    // Each reordered datagram is held back 2 × 20 ms = 40 ms while one is sent every 1 ms, so it
    // arrives after its successors: it is "late" (a higher seq arrived before it).
    const reordered = await measure({ latency: 20, reorder: 0.1 });
    let late = 0;
    let highest = -1;
    for (const { seq } of reordered.arrivals) {
      if (seq < highest) late++;
      else highest = seq;
    }
    // Binomial(10,000, 0.1): sd 30; bound 150 = 5 sd.
    expect(Math.abs(late - 1000)).toBeLessThan(150);
  });

  it('datagram bandwidth: a burst is serialised at the configured rate', async () => {
    // 10,000 datagrams of 1,000 bytes, one per ms, over 500 kB/s: each needs 2 ms of the link,
    // so the queue grows by 1 ms per datagram and the link is busy until 20 s.
    const { arrivals } = await measure({ latency: 5, bandwidth: 500_000 }, 1, 1_000);
    const last = arrivals.at(-1);
    expect(last?.seq).toBe(N - 1);
    // Sent at 10,000 ms (the first at 1 ms), its transmission ends at 20,001 ms, +5 ms latency.
    expect(last?.delay).toBeCloseTo(20_001 + 5 - 10_000, 6);
    const first = arrivals[0];
    expect(first?.delay).toBeCloseTo(2 + 5, 6);
  });

  it('stream bandwidth: 10 MB over 1 MB/s takes 10 s plus latency; window/RTT caps a slow link', async () => {
    const transfer = async (link: LinkOptions, bytes: number, windowBytes?: number) => {
      const sim = new Simulation({ seed: 2024, link, stream: windowBytes ? { windowBytes } : {} });
      const a = sim.addHost();
      const b = sim.addHost();
      return sim.run(async () => {
        let done = 0;
        const received = new Promise<void>((resolve) => {
          void a.network.listen({ host: a.address, port: 80 }, async (stream) => {
            for await (const chunk of stream) done += chunk.length;
            resolve();
          });
        });
        const stream = await b.network.dial({ host: a.address, port: 80 });
        const start = sim.now;
        const chunk = new Uint8Array(64 * 1024);
        for (let sent = 0; sent < bytes; sent += chunk.length) await stream.write(chunk);
        await stream.end();
        await received;
        stream.destroy();
        return { ms: sim.now - start, done };
      });
    };
    const fast = await transfer({ latency: 20, bandwidth: 1_000_000 }, 10 * 1024 * 1024);
    expect(fast.done).toBe(10 * 1024 * 1024);
    // 10,485,760 bytes / 1 MB/s = 10,486 ms; plus 20 ms latency and the FIN's trip.
    expect(fast.ms).toBeGreaterThan(10_485);
    expect(fast.ms).toBeLessThan(10_485 + 100);

    // 64 KiB window, 200 ms RTT: at most 64 KiB per round trip, i.e. 327 KB/s, far below the
    // 100 MB/s link. 4 MiB needs 64 round trips: about 12.8 s.
    const windowed = await transfer(
      { latency: 100, bandwidth: 100_000_000 },
      4 * 1024 * 1024,
      64 * 1024,
    );
    expect(windowed.ms).toBeGreaterThan(64 * 200 * 0.95);
    expect(windowed.ms).toBeLessThan(64 * 200 * 1.1);
  });

  it('streams stay in order under heavy jitter', async () => {
    const sim = new Simulation({ seed: 2024, link: { latency: uniform(1, 100) } });
    const a = sim.addHost();
    const b = sim.addHost();
    const received = await sim.run(async () => {
      const got: number[] = [];
      const done = new Promise<void>((resolve) => {
        void a.network.listen({ host: a.address, port: 80 }, async (stream) => {
          for await (const chunk of stream) got.push(...chunk);
          resolve();
        });
      });
      const stream = await b.network.dial({ host: a.address, port: 80 });
      for (let i = 0; i < 2_000; i++) await stream.write(new Uint8Array([i & 0xff]));
      await stream.end();
      await done;
      stream.destroy();
      return got;
    });
    expect(received).toEqual(Array.from({ length: 2_000 }, (_, i) => i & 0xff));
  });
});

describe('host access links (seed 2024)', () => {
  it('an uplink is shared by everything the host sends; a downlink by everything it receives', async () => {
    const sim = new Simulation({ seed: 2024, link: { latency: 10 } });
    const seeder = sim.addHost({ uplink: 1_000_000 });
    const peers = [sim.addHost(), sim.addHost()];
    const sockets = await Promise.all(
      peers.map((p) => p.network.bindDatagram({ host: p.address })),
    );
    const last: number[] = [0, 0];
    for (const [i, s] of sockets.entries()) {
      s.onMessage(() => {
        last[i] = sim.now;
      });
    }
    const out = await seeder.network.bindDatagram({ host: seeder.address });
    // 2 × 5,000 datagrams of 1,000 bytes, interleaved: 10 MB through a 1 MB/s uplink.
    for (let i = 0; i < 5_000; i++) {
      for (const s of sockets) out.send(new Uint8Array(1_000), s.localAddress);
    }
    await sim.runUntilIdle();
    // Both finish together after 10 s (shared), not after 5 s each; plus 10 ms latency.
    expect(last[0]).toBeCloseTo(10_000 - 1 + 10, 6);
    expect(last[1]).toBeCloseTo(10_000 + 10, 6);

    // A 500 kB/s downlink: two senders of 1 MB each need 4 s to get through it.
    const sink = sim.addHost({ downlink: 500_000 });
    const inbox = await sink.network.bindDatagram({ host: sink.address });
    let arrived = 0;
    inbox.onMessage(() => {
      arrived = sim.now;
    });
    const start = sim.now;
    for (let i = 0; i < 1_000; i++) {
      for (const s of sockets) s.send(new Uint8Array(1_000), inbox.localAddress);
    }
    await sim.runUntilIdle();
    expect(arrived - start).toBeCloseTo(10 + 4_000, 6);
    expect(() => sim.setHostBandwidth(sink, { downlink: 0 })).toThrow(/downlink/);
  });
});
