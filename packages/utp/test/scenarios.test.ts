/**
 * uTP in netsim, under conditions LEDBAT is made for (BEP 29, "congestion control"). Every
 * scenario prints its seed; replay one with `NETSIM_SEED=<seed> npx vitest run
 * test/scenarios.test.ts`. Bottlenecks are access links with a finite queue (netsim's model), so
 * queuing delay and drops come from the load itself.
 */
import { createHash } from 'node:crypto';
import { replayHint, type SimHost, Simulation, seedFromEnv } from '@peerkit/netsim';
import { type Network, type Stream, sleep } from '@peerkit/transport';
import { describe, expect, it } from 'vitest';
import { type UtpNetwork, utpNetwork } from '../src/index';

const seed = seedFromEnv();
console.log(`uTP scenarios: seed ${seed} (replay: ${replayHint(seed)})`);

/** 10 Mbit/s in bytes per second, and a 500 ms buffer at that rate. */
const TEN_MBIT = 1_250_000;
const BUFFER_500MS = TEN_MBIT / 2;

async function accept(
  net: Network,
  host: string,
): Promise<{ port: number; next: () => Promise<Stream> }> {
  const waiting: ((s: Stream) => void)[] = [];
  const ready: Stream[] = [];
  const listener = await net.listen({ host }, (s) => {
    const w = waiting.shift();
    if (w) w(s);
    else ready.push(s);
  });
  return {
    port: listener.localAddress.port,
    next: () => {
      const s = ready.shift();
      return s ? Promise.resolve(s) : new Promise((resolve) => waiting.push(resolve));
    },
  };
}

/** Counts what a stream delivers, into `counter.bytes`. */
async function drain(stream: Stream, counter: { bytes: number }): Promise<void> {
  try {
    for await (const chunk of stream) counter.bytes += chunk.length;
  } catch {
    // The flow was torn down at the end of the scenario.
  }
}

/** Writes until `stop.now` is set. */
async function blast(stream: Stream, stop: { now: boolean }): Promise<void> {
  const chunk = new Uint8Array(64 * 1024).fill(7);
  try {
    while (!stop.now) await stream.write(chunk);
  } catch {
    // Torn down.
  }
}

function hosts(sim: Simulation, count: number): SimHost[] {
  return Array.from({ length: count }, () => sim.addHost());
}

describe('uTP scenarios in netsim', () => {
  it('a transfer completes and verifies under 5% loss, reordering and duplication', async () => {
    const sim = new Simulation({
      seed,
      link: { latency: 25, jitter: 10, loss: 0.05, reorder: 0.05, duplicate: 0.05 },
    });
    const [ha, hb] = hosts(sim, 2) as [SimHost, SimHost];
    const a = utpNetwork(ha.network);
    const b = utpNetwork(hb.network);
    const data = new Uint8Array(1024 * 1024);
    for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24;
    const digest = await sim.run(
      async () => {
        const server = await accept(b, hb.address);
        const client = await a.dial({ host: hb.address, port: server.port });
        const incoming = await server.next();
        const hash = createHash('sha1');
        const reading = (async () => {
          let n = 0;
          for await (const chunk of incoming) {
            hash.update(chunk);
            n += chunk.length;
          }
          return n;
        })();
        for (let off = 0; off < data.length; off += 50_000) {
          await client.write(data.subarray(off, Math.min(data.length, off + 50_000)));
        }
        await client.end();
        await incoming.end();
        expect(await reading).toBe(data.length);
        expect(await client.closed).toBeUndefined();
        return hash.digest('hex');
      },
      { maxTimeMs: 30 * 60_000 },
    );
    expect(digest, `seed ${seed}`).toBe(createHash('sha1').update(data).digest('hex'));
    await sim.run(() => Promise.all([a.close(), b.close()]));
  }, 120_000);

  /**
   * Bulk flows from `from` to each of `to` for `untilMs` of virtual time. Returns each flow's
   * received byte count every 100 ms (`series[flow][tick]`); `during(t)` runs at every tick.
   */
  async function flows(
    sim: Simulation,
    from: UtpNetwork,
    to: { net: UtpNetwork; host: SimHost }[],
    options: { untilMs: number; during?: (t: number) => void },
  ): Promise<number[][]> {
    const counters = to.map(() => ({ bytes: 0 }));
    const series: number[][] = to.map(() => []);
    const stop = { now: false };
    const streams: Stream[] = [];
    await sim.run(
      async () => {
        await Promise.all(
          to.map(async (dest, i) => {
            const server = await accept(dest.net, dest.host.address);
            const client = await from.dial({ host: dest.host.address, port: server.port });
            const incoming = await server.next();
            streams.push(client, incoming);
            void drain(incoming, counters[i] as { bytes: number });
            void blast(client, stop);
          }),
        );
        const start = sim.now;
        while (sim.now - start < options.untilMs) {
          await sleep(sim.clock, 100);
          options.during?.(sim.now - start);
          for (let i = 0; i < counters.length; i++) series[i]?.push(counters[i]?.bytes ?? 0);
        }
        stop.now = true;
        for (const s of streams) s.destroy();
      },
      { maxTimeMs: options.untilMs + 60_000 },
    );
    return series;
  }

  /** Bytes per second of one flow between two times (ms) of its series. */
  function rate(series: number[], fromMs: number, toMs: number): number {
    const at = (ms: number): number => series[Math.min(series.length, ms / 100) - 1] ?? 0;
    return (at(toMs) - at(fromMs)) / ((toMs - fromMs) / 1000);
  }

  it('one flow on a 10 Mbit/s bottleneck with a 500 ms buffer: queuing delay near 100 ms, the link mostly used', async () => {
    const sim = new Simulation({ seed, link: { latency: 20 } });
    const [ha, hb] = hosts(sim, 2) as [SimHost, SimHost];
    sim.setHostBandwidth(ha, { uplink: TEN_MBIT, uplinkQueue: BUFFER_500MS });
    const a = utpNetwork(ha.network);
    const b = utpNetwork(hb.network);
    const delays: number[] = [];
    const [series] = (await flows(sim, a, [{ net: b, host: hb }], {
      untilMs: 60_000,
      during: (t) => {
        if (t > 20_000) delays.push(ha.queueDelay().uplink);
      },
    })) as [number[]];
    const used = rate(series, 20_000, 60_000);
    delays.sort((x, y) => x - y);
    const median = delays[delays.length >> 1] as number;
    const mean = delays.reduce((s, d) => s + d, 0) / delays.length;
    console.log(
      `one flow: ${(used / 1e6).toFixed(2)} MB/s of ${TEN_MBIT / 1e6} MB/s, ` +
        `queuing delay median ${median.toFixed(1)} ms, mean ${mean.toFixed(1)} ms, ` +
        `drops ${ha.queueDrops().uplink} (seed ${seed})`,
    );
    expect(used, `seed ${seed}`).toBeGreaterThan(0.8 * TEN_MBIT);
    expect(median, `seed ${seed}`).toBeGreaterThan(50);
    expect(median, `seed ${seed}`).toBeLessThan(150);
    await sim.run(() => Promise.all([a.close(), b.close()]));
  }, 300_000);

  it('two flows through one bottleneck share it within 20% of fair', async () => {
    const sim = new Simulation({ seed, link: { latency: 20 } });
    const [ha, hb, hc] = hosts(sim, 3) as [SimHost, SimHost, SimHost];
    sim.setHostBandwidth(ha, { uplink: TEN_MBIT, uplinkQueue: BUFFER_500MS });
    const a = utpNetwork(ha.network);
    const b = utpNetwork(hb.network);
    const c = utpNetwork(hc.network);
    const [s1, s2] = (await flows(
      sim,
      a,
      [
        { net: b, host: hb },
        { net: c, host: hc },
      ],
      { untilMs: 90_000 },
    )) as [number[], number[]];
    const r1 = rate(s1, 30_000, 90_000);
    const r2 = rate(s2, 30_000, 90_000);
    const unfairness = Math.abs(r1 - r2) / ((r1 + r2) / 2);
    console.log(
      `two flows: ${(r1 / 1e6).toFixed(2)} and ${(r2 / 1e6).toFixed(2)} MB/s ` +
        `(${(unfairness * 100).toFixed(1)}% apart, seed ${seed})`,
    );
    expect(unfairness, `seed ${seed}`).toBeLessThan(0.2);
    expect(r1 + r2, `seed ${seed}`).toBeGreaterThan(0.8 * TEN_MBIT);
    await sim.run(() => Promise.all([a.close(), b.close(), c.close()]));
  }, 300_000);

  it('a flow backs off when another sender fills the queue', async () => {
    const sim = new Simulation({ seed, link: { latency: 20 } });
    const [ha, hb, hc] = hosts(sim, 3) as [SimHost, SimHost, SimHost];
    sim.setHostBandwidth(ha, { uplink: TEN_MBIT, uplinkQueue: BUFFER_500MS });
    const a = utpNetwork(ha.network);
    const b = utpNetwork(hb.network);
    // The other sender: plain UDP at the link's full rate from the same host (say, a video call
    // or a TCP upload that fills the modem's buffer).
    const udp = await ha.network.bindDatagram({ host: ha.address });
    const sink = await hc.network.bindDatagram({ host: hc.address });
    let received = 0;
    sink.onMessage((d) => {
      received += d.length;
    });
    let cbr: { cancel(): void } | undefined;
    const packet = new Uint8Array(1250);
    const [series] = (await flows(sim, a, [{ net: b, host: hb }], {
      untilMs: 60_000,
      during: (t) => {
        if (t >= 30_000 && cbr === undefined) {
          // 1250 bytes every ms: the link's whole rate, so its queue fills and stays full.
          cbr = sim.clock.setInterval(() => udp.send(packet, sink.localAddress), 1);
        }
      },
    })) as [number[]];
    cbr?.cancel();
    const alone = rate(series, 10_000, 30_000);
    const crowded = rate(series, 40_000, 60_000);
    console.log(
      `back-off: ${(alone / 1e6).toFixed(2)} MB/s alone, ${(crowded / 1e6).toFixed(3)} MB/s ` +
        `next to a sender filling the queue (seed ${seed})`,
    );
    expect(alone, `seed ${seed}`).toBeGreaterThan(0.8 * TEN_MBIT);
    expect(crowded, `seed ${seed}`).toBeLessThan(0.2 * alone);
    expect(received).toBeGreaterThan(0);
    await sim.run(() => Promise.all([udp.close(), sink.close(), a.close(), b.close()]));
  }, 300_000);
});
