import { isTransportError, type Stream } from '@peerkit/transport';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Fault, type SimHost, Simulation, seedFromEnv } from '../src/index';
import { faultScheduleArbitrary, withReplay } from '../src/testing';

async function pair(seed = 1) {
  const sim = new Simulation({ seed, trace: 500 });
  const a = sim.addHost();
  const b = sim.addHost();
  const sa = await a.network.bindDatagram({ host: a.address, port: 1 });
  const sb = await b.network.bindDatagram({ host: b.address, port: 1 });
  const got: string[] = [];
  sb.onMessage((d) => got.push(new TextDecoder().decode(d)));
  const send = (text: string) => sa.send(new TextEncoder().encode(text), sb.localAddress);
  return { sim, a, b, sa, sb, got, send };
}

/** An echo listener on port 80 of `host`. */
async function echoServer(host: SimHost): Promise<void> {
  await host.network.listen({ host: host.address, port: 80 }, (stream) => {
    void (async () => {
      try {
        for await (const chunk of stream) await stream.write(chunk);
        await stream.end();
      } catch {
        // reset: nothing to do
      }
    })();
  });
}

describe('partitions', () => {
  it('block datagrams between groups (traced as drops) and heal restores them', async () => {
    const { sim, a, b, got, send } = await pair();
    const c = sim.addHost();
    sim.partition([[a, c], [b]]);
    send('during');
    await sim.runFor(100);
    expect(got).toEqual([]);
    expect(sim.trace.events().some((e) => e.type === 'drop' && e.reason === 'partition')).toBe(
      true,
    );
    sim.heal();
    send('after');
    await sim.runFor(100);
    expect(got).toEqual(['after']);
    const faults = sim.trace.events().filter((e) => e.type === 'fault');
    expect(faults.map((e) => (e.type === 'fault' ? e.fault.kind : ''))).toEqual([
      'partition',
      'heal',
    ]);
  });

  it('stall a stream, which resumes in order after heal (retransmission)', async () => {
    const sim = new Simulation({ seed: 3 });
    const a = sim.addHost();
    const b = sim.addHost();
    await echoServer(a);
    const result = await sim.run(async () => {
      const stream = await b.network.dial({ host: a.address, port: 80 });
      const reply: number[] = [];
      const reading = (async () => {
        for await (const chunk of stream) reply.push(...chunk);
      })();
      await stream.write(new Uint8Array([1, 2, 3]));
      // The echo takes one round trip (20 ms); then the partition starts.
      await new Promise<void>((r) => sim.clock.setTimeout(r, 100));
      sim.partition([[a], [b]]);
      await stream.write(new Uint8Array([4, 5, 6]));
      const t0 = sim.now;
      await new Promise<void>((r) => sim.clock.setTimeout(r, 5_000));
      const duringPartition = [...reply];
      sim.heal();
      await stream.end();
      await reading;
      return { duringPartition, reply, elapsed: sim.now - t0 };
    });
    expect(result.duringPartition).toEqual([1, 2, 3]);
    expect(result.reply).toEqual([1, 2, 3, 4, 5, 6]);
    expect(result.elapsed).toBeGreaterThan(5_000);
  });

  it('a partition longer than the stream timeout fails the sender with TIMEOUT', async () => {
    const sim = new Simulation({ seed: 4, stream: { timeoutMs: 10_000 } });
    const a = sim.addHost();
    const b = sim.addHost();
    await echoServer(a);
    const error = await sim.run(async () => {
      const stream = await b.network.dial({ host: a.address, port: 80 });
      sim.partition([[a], [b]]);
      await stream.write(new Uint8Array(10));
      return stream.closed;
    });
    expect(isTransportError(error, 'TIMEOUT')).toBe(true);
    expect(sim.now).toBeGreaterThanOrEqual(10_000);
  });

  it('a dial across a partition times out; after heal it connects', async () => {
    const sim = new Simulation({ seed: 5 });
    const a = sim.addHost();
    const b = sim.addHost();
    await echoServer(a);
    sim.partition([[a], [b]]);
    await sim.run(async () => {
      const failed = await b.network
        .dial({ host: a.address, port: 80 }, { timeoutMs: 3_000 })
        .catch((e: unknown) => e);
      expect(isTransportError(failed, 'TIMEOUT')).toBe(true);
      // Heal while a dial is retransmitting its SYN: it gets through.
      const dialing = b.network.dial({ host: a.address, port: 80 }, { timeoutMs: 10_000 });
      sim.clock.setTimeout(() => sim.heal(), 2_000);
      const stream = await dialing;
      expect(sim.now).toBeGreaterThan(3_000 + 2_000);
      stream.destroy();
    });
  });

  it('a down link drops one direction only when set one-way', async () => {
    const { sim, a, b, sa, sb, got, send } = await pair();
    const back: string[] = [];
    sa.onMessage((d) => back.push(new TextDecoder().decode(d)));
    sim.setLink(a, b, { down: true }, true);
    send('lost');
    sb.send(new TextEncoder().encode('fine'), sa.localAddress);
    await sim.runFor(100);
    expect(got).toEqual([]);
    expect(back).toEqual(['fine']);
    sim.clearLink(a, b);
    send('back');
    await sim.runFor(100);
    expect(got).toEqual(['back']);
  });
});

describe('crash and restart', () => {
  it('a crash resets the peer’s streams, closes the host’s sockets and silences its timers', async () => {
    const sim = new Simulation({ seed: 6 });
    const a = sim.addHost();
    const b = sim.addHost();
    await echoServer(a);
    const oldNetwork = a.network;
    let fired = 0;
    oldNetwork.clock.setTimeout(() => fired++, 1_000);
    const outcome = await sim.run(async () => {
      const stream = await b.network.dial({ host: a.address, port: 80 });
      const reading = (async () => {
        try {
          for await (const _ of stream) {
            // keep reading
          }
          return undefined;
        } catch (e) {
          return e;
        }
      })();
      await stream.write(new Uint8Array([1]));
      sim.crash(a);
      return { readError: await reading, closed: await stream.closed, stream };
    });
    expect(isTransportError(outcome.readError, 'CONNECTION_RESET')).toBe(true);
    expect(isTransportError(outcome.closed, 'CONNECTION_RESET')).toBe(true);
    const writeError = await outcome.stream.write(new Uint8Array([2])).catch((e: unknown) => e);
    expect(isTransportError(writeError, 'CONNECTION_RESET')).toBe(true);
    await sim.runFor(2_000);
    expect(fired).toBe(0);
    expect(a.isUp).toBe(false);
    const bindError = await oldNetwork.bindDatagram({ host: a.address }).catch((e: unknown) => e);
    expect(isTransportError(bindError, 'CLOSED')).toBe(true);
    expect(sim.openResources()).toEqual({
      datagramSockets: 0,
      listeners: 0,
      streams: 0,
      timers: 0,
    });
  });

  it('datagrams to a crashed host are dropped; a dial to it times out', async () => {
    const { sim, b, got, send } = await pair();
    sim.crash(b);
    send('nobody home');
    await sim.runFor(100);
    expect(got).toEqual([]);
    expect(sim.trace.events().some((e) => e.type === 'drop' && e.reason === 'host-down')).toBe(
      true,
    );
    const a = sim.hosts[0] as SimHost;
    const error = await sim.run(() =>
      a.network.dial({ host: b.address, port: 80 }, { timeoutMs: 5_000 }).catch((e: unknown) => e),
    );
    expect(isTransportError(error, 'TIMEOUT')).toBe(true);
  });

  it('restart gives a fresh network on the same address; peers reach it again', async () => {
    const sim = new Simulation({ seed: 7 });
    const a = sim.addHost();
    const b = sim.addHost();
    await echoServer(a);
    const before = a.network;
    sim.crash(a);
    const refused = await sim.run(() =>
      b.network.dial({ host: a.address, port: 80 }, { timeoutMs: 1_000 }).catch((e: unknown) => e),
    );
    expect(isTransportError(refused, 'TIMEOUT')).toBe(true);
    const restarts: Fault[] = [];
    sim.onFault((f) => restarts.push(f));
    sim.restart(a);
    expect(restarts).toEqual([{ kind: 'restart', host: a.address }]);
    expect(a.network).not.toBe(before);
    expect(a.address).toBe(a.address);
    // Nothing listens yet on the new incarnation: refused, not timed out.
    const error = await sim.run(() =>
      b.network.dial({ host: a.address, port: 80 }).catch((e: unknown) => e),
    );
    expect(isTransportError(error, 'CONNECTION_REFUSED')).toBe(true);
    await echoServer(a);
    const echoed = await sim.run(async () => {
      const stream: Stream = await b.network.dial({ host: a.address, port: 80 });
      await stream.write(new Uint8Array([9]));
      await stream.end();
      const out: number[] = [];
      for await (const chunk of stream) out.push(...chunk);
      return out;
    });
    expect(echoed).toEqual([9]);
  });

  it('churn: every host alternates crash and restart and is up at the end', async () => {
    const sim = new Simulation({ seed: 8 });
    const hosts = Array.from({ length: 20 }, () => sim.addHost());
    const schedule = sim.churn({
      hosts: hosts.map((h) => h.address),
      durationMs: 60_000,
      meanUptimeMs: 10_000,
      meanDowntimeMs: 3_000,
    });
    expect(schedule.length).toBeGreaterThan(20);
    for (const host of hosts) {
      const kinds = schedule
        .filter((f) => 'host' in f.fault && f.fault.host === host.address)
        .map((f) => f.fault.kind);
      expect(kinds).toEqual(kinds.map((_, i) => (i % 2 === 0 ? 'crash' : 'restart')));
    }
    let downSeen = 0;
    sim.onFault(() => {
      downSeen = Math.max(downSeen, hosts.filter((h) => !h.isUp).length);
    });
    await sim.runFor(60_000);
    expect(downSeen).toBeGreaterThan(0);
    expect(hosts.every((h) => h.isUp)).toBe(true);
    // Same seed, same churn.
    const again = new Simulation({ seed: 8 });
    const hosts2 = Array.from({ length: 20 }, () => again.addHost());
    expect(
      again.churn({
        hosts: hosts2.map((h) => h.address),
        durationMs: 60_000,
        meanUptimeMs: 10_000,
        meanDowntimeMs: 3_000,
      }),
    ).toEqual(schedule);
  });
});

describe('fault schedules (fast-check)', () => {
  it('generated schedules are well formed, and after their repairs every pair of hosts talks again', async () => {
    const addresses = ['127.1.0.1', '127.1.0.2', '127.1.0.3', '127.1.0.4'];
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 2 ** 31 }),
        faultScheduleArbitrary(addresses, { durationMs: 5_000, maxFaults: 8 }),
        async (seed, schedule) => {
          // Sorted, only our hosts, a restart only after a crash of the same host.
          const down = new Set<string>();
          let last = 0;
          for (const { atMs, fault } of schedule) {
            expect(atMs).toBeGreaterThanOrEqual(last);
            last = atMs;
            if (fault.kind === 'crash') down.add(fault.host);
            if (fault.kind === 'restart') expect(down.delete(fault.host)).toBe(true);
          }
          expect(down.size).toBe(0);

          const sim = new Simulation({ seed, trace: 100 });
          const hosts = addresses.map(() => sim.addHost());
          const heard = new Set<string>();
          const bind = async (host: SimHost) => {
            const socket = await host.network.bindDatagram({ host: host.address, port: 5 });
            socket.onMessage((_, from) => heard.add(`${from.host}>${host.address}`));
            return socket;
          };
          const sockets = new Map(
            await Promise.all(hosts.map(async (h) => [h.address, await bind(h)] as const)),
          );
          sim.onFault((fault) => {
            if (fault.kind === 'restart') {
              void bind(sim.host(fault.host)).then((s) => sockets.set(fault.host, s));
            }
          });
          sim.schedule(schedule);
          await sim.runFor(5_001);
          await withReplay(sim, async () => {
            for (const from of hosts) {
              for (const to of hosts) {
                if (from !== to)
                  sockets
                    .get(from.address)
                    ?.send(new Uint8Array([1]), { host: to.address, port: 5 });
              }
            }
            await sim.runFor(1_000);
            expect(heard.size).toBe(addresses.length * (addresses.length - 1));
          });
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('replay helpers', () => {
  it('seedFromEnv reads NETSIM_SEED, and withReplay adds the seed and trace to a failure', async () => {
    const saved = process.env.NETSIM_SEED;
    try {
      process.env.NETSIM_SEED = '12345';
      expect(seedFromEnv(1)).toBe(12345);
      delete process.env.NETSIM_SEED;
      expect(seedFromEnv(1)).toBe(1);
      const random = seedFromEnv();
      expect(Number.isSafeInteger(random)).toBe(true);
      process.env.NETSIM_SEED = 'nope';
      expect(() => seedFromEnv()).toThrow(/NETSIM_SEED/);
    } finally {
      if (saved === undefined) delete process.env.NETSIM_SEED;
      else process.env.NETSIM_SEED = saved;
    }
    const { sim, send } = await pair(777);
    send('x');
    await sim.runFor(50);
    const error = await withReplay(sim, async () => {
      throw new Error('boom');
    }).catch((e: unknown) => e as Error);
    expect(error.message).toMatch(/boom/);
    expect(error.message).toMatch(/NETSIM_SEED=777/);
    expect(error.message).toMatch(/deliver +127\.1\.0\.1:1 > 127\.1\.0\.2:1 1B/);
  });
});
