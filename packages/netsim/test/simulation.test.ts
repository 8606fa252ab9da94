import { isTransportError } from '@peerkit/transport';
import { describe, expect, it } from 'vitest';
import { allocatedAddress, Simulation, SimulationError } from '../src/index';

describe('virtual clock', () => {
  it('runs timers in time order, ties in scheduling order; cancel is idempotent', async () => {
    const sim = new Simulation({ seed: 1 });
    const clock = sim.addHost().network.clock;
    const log: string[] = [];
    clock.setTimeout(() => log.push(`b@${clock.now()}`), 20);
    clock.setTimeout(() => log.push(`a@${clock.now()}`), 10);
    clock.setTimeout(() => log.push(`c@${clock.now()}`), 20);
    const cancelled = clock.setTimeout(() => log.push('never'), 5);
    cancelled.cancel();
    cancelled.cancel();
    let ticks = 0;
    const interval = clock.setInterval(() => {
      ticks++;
      if (ticks === 3) interval.cancel();
    }, 7);
    await sim.runFor(100);
    expect(log).toEqual(['a@10', 'b@20', 'c@20']);
    expect(ticks).toBe(3);
    expect(sim.now).toBe(100);
    expect(sim.openResources().timers).toBe(0);
  });

  it('never goes backwards, and treats bad delays like Node does', async () => {
    const sim = new Simulation({ seed: 1 });
    const times: number[] = [];
    sim.clock.setTimeout(() => times.push(sim.now), -5);
    sim.clock.setTimeout(() => times.push(sim.now), Number.NaN);
    const interval = sim.clock.setInterval(() => {
      times.push(sim.now);
      if (times.length >= 4) interval.cancel();
    }, 0);
    await sim.runFor(10);
    expect(times).toEqual([0, 0, 1, 2]);
  });
});

describe('run controls', () => {
  it('runUntil stops when the predicate holds, or at maxTimeMs', async () => {
    const sim = new Simulation({ seed: 1 });
    let n = 0;
    const t = sim.clock.setInterval(() => n++, 10);
    expect(await sim.runUntil(() => n >= 5, { maxTimeMs: 1_000 })).toBe(true);
    expect(sim.now).toBe(50);
    expect(await sim.runUntil(() => n >= 1_000, { maxTimeMs: 100 })).toBe(false);
    expect(sim.now).toBe(150);
    t.cancel();
  });

  it('runUntilIdle is bounded by maxEvents', async () => {
    const sim = new Simulation({ seed: 1 });
    const t = sim.clock.setInterval(() => {}, 10);
    expect(await sim.runUntilIdle({ maxEvents: 100 })).toBe(false);
    expect(sim.eventsProcessed).toBe(100);
    t.cancel();
    expect(await sim.runUntilIdle()).toBe(true);
  });

  it('refuses to run twice at once', async () => {
    const sim = new Simulation({ seed: 1 });
    sim.clock.setTimeout(() => {}, 10);
    const running = sim.runFor(100);
    await expect(sim.runFor(1)).rejects.toMatchObject({ code: 'BUSY' });
    await running;
    sim.start();
    expect(() => sim.start()).toThrow(SimulationError);
    await sim.stop();
  });

  it('run() detects a deadlock and a blown time budget, and reports callback errors', async () => {
    const sim = new Simulation({ seed: 1 });
    await expect(sim.run(() => new Promise(() => {}))).rejects.toMatchObject({ code: 'DEADLOCK' });
    const t = sim.clock.setInterval(() => {}, 1_000);
    await expect(sim.run(() => new Promise(() => {}), { maxTimeMs: 10_000 })).rejects.toMatchObject(
      {
        code: 'TIME_LIMIT',
      },
    );
    t.cancel();
    sim.clock.setTimeout(() => {
      throw new Error('callback failed');
    }, 5);
    await expect(
      sim.run(() => new Promise<void>((r) => sim.clock.setTimeout(r, 10))),
    ).rejects.toThrow('callback failed');
    // A callback error in runFor propagates too.
    sim.clock.setTimeout(() => {
      throw new Error('again');
    }, 5);
    await expect(sim.runFor(10)).rejects.toThrow('again');
  });

  it('stop() reports an error a callback threw during auto-run', async () => {
    const sim = new Simulation({ seed: 1 });
    sim.start();
    await new Promise<void>((r) => sim.clock.setTimeout(r, 5));
    sim.clock.setTimeout(() => {
      throw new Error('auto failure');
    }, 1);
    // Auto-run stops at the failure (nothing else is scheduled): give it a few loop turns.
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    await expect(sim.stop()).rejects.toThrow('auto failure');
    // Stopped: manual runs work again.
    await sim.runFor(1);
  });

  it('promise-based code reacting to a datagram sees the virtual time of the delivery', async () => {
    for (const drain of ['auto', 'always'] as const) {
      const sim = new Simulation({ seed: 1, drain });
      const a = sim.addHost();
      const b = sim.addHost();
      const sa = await a.network.bindDatagram({ host: a.address });
      const sb = await b.network.bindDatagram({ host: b.address });
      // A request/response helper like a DHT's: the handler resolves a promise the caller awaits.
      let pending: ((data: Uint8Array) => void) | undefined;
      sa.onMessage((data) => pending?.(data));
      sb.onMessage((data, from) => sb.send(data, from));
      const request = (data: Uint8Array) =>
        new Promise<Uint8Array>((resolve) => {
          pending = resolve;
          sa.send(data, sb.localAddress);
        });
      const times: number[] = [];
      const lookup = (async () => {
        for (let i = 0; i < 5; i++) {
          await request(new Uint8Array([i]));
          times.push(sim.now);
        }
      })();
      await sim.runFor(1_000);
      await lookup;
      // Each round trip is 20 ms and the next request leaves at once.
      expect(times).toEqual([20, 40, 60, 80, 100]);
    }
  });

  it('like Node, promise reactions to one event run before the next event of the same instant', async () => {
    const sim = new Simulation({ seed: 1, link: { latency: 10 } });
    const a = sim.addHost();
    const b = sim.addHost();
    const sa = await a.network.bindDatagram({ host: a.address });
    const sb = await b.network.bindDatagram({ host: b.address });
    const order: string[] = [];
    let wake: (() => void) | undefined;
    sb.onMessage((data) => {
      order.push(`handler ${data[0]}`);
      wake?.();
      wake = undefined;
    });
    void new Promise<void>((r) => {
      wake = r;
    }).then(() => order.push(`reaction at ${sim.now}`));
    // Both arrive at 10 ms, in this order.
    sa.send(new Uint8Array([1]), sb.localAddress);
    sa.send(new Uint8Array([2]), sb.localAddress);
    await sim.runFor(20);
    expect(order).toEqual(['handler 1', 'reaction at 10', 'handler 2']);
  });

  it('a long promise chain after a delivery still acts at the delivery’s virtual time', async () => {
    const sim = new Simulation({ seed: 1 });
    const a = sim.addHost();
    const b = sim.addHost();
    const sa = await a.network.bindDatagram({ host: a.address });
    const sb = await b.network.bindDatagram({ host: b.address });
    // 30 nested async layers between the promise the handler resolves and the next send.
    const deep = async (n: number, p: Promise<Uint8Array>): Promise<Uint8Array> =>
      n === 0 ? p : deep(n - 1, p).then((x) => x);
    let wake: ((d: Uint8Array) => void) | undefined;
    sa.onMessage((d) => wake?.(d));
    sb.onMessage((d, from) => sb.send(d, from));
    const times: number[] = [];
    const client = (async () => {
      for (let i = 0; i < 3; i++) {
        const reply = deep(
          30,
          new Promise<Uint8Array>((r) => {
            wake = r;
          }),
        );
        sa.send(new Uint8Array([i]), sb.localAddress);
        await reply;
        times.push(sim.now);
      }
    })();
    await sim.runFor(1_000);
    expect(times).toEqual([20, 40, 60]);
    await client;
  });

  it('addHost allocates 127.1.0.1 upwards, accepts explicit IPv4/IPv6 and rejects duplicates', () => {
    const sim = new Simulation({ seed: 1 });
    expect(sim.addHost().address).toBe('127.1.0.1');
    expect(sim.addHost().address).toBe('127.1.0.2');
    expect(allocatedAddress(254, 'IPv4')).toBe('127.1.0.254');
    expect(allocatedAddress(255, 'IPv4')).toBe('127.1.1.1');
    expect(allocatedAddress(254 * 256 + 1, 'IPv4')).toBe('127.2.0.1');
    const v6 = sim.addHost({ family: 'IPv6' });
    expect(v6.address).toBe('fd00::1:1');
    expect(sim.addHost({ address: 'FD00:0:0:0:0:0:0:99' }).address).toBe('fd00::99');
    expect(() => sim.addHost({ address: '127.1.0.1' })).toThrow(/taken/);
    expect(() => sim.addHost({ address: 'nope' })).toThrow(SimulationError);
    expect(sim.host('fd00:0::99').address).toBe('fd00::99');
    expect(() => sim.host('10.9.9.9')).toThrow(/no host/);
  });

  it('IPv6 hosts exchange datagrams and streams; loopback reaches the host itself', async () => {
    const sim = new Simulation({ seed: 1 });
    const a = sim.addHost({ family: 'IPv6' });
    const b = sim.addHost({ family: 'IPv6' });
    const sa = await a.network.bindDatagram({ host: '::', port: 9 });
    const got: string[] = [];
    sa.onMessage((_, from) => got.push(`${from.host}:${from.port}`));
    const sb = await b.network.bindDatagram({ host: b.address, port: 10 });
    sb.send(new Uint8Array([1]), { host: a.address, port: 9 });
    sa.send(new Uint8Array([1]), { host: '::1', port: 9 });
    await sim.runFor(50);
    expect(got).toEqual([`${a.address}:9`, `${b.address}:10`]);
    // As with Node's udp6 sockets, an IPv6 socket cannot reach an IPv4 address.
    const v4 = sim.addHost();
    expect(() => sa.send(new Uint8Array(1), { host: v4.address, port: 9 })).toThrow(/cannot reach/);
    expect(() => sa.send(new Uint8Array(1), { host: '127.0.0.1', port: 9 })).toThrow(
      /cannot reach/,
    );
    const unknown = await sim.run(() =>
      a.network.dial({ host: 'fd00::dead', port: 1 }).catch((e: unknown) => e),
    );
    expect(isTransportError(unknown, 'UNREACHABLE')).toBe(true);
    await expect(a.network.bindDatagram({ host: '10.0.0.1' })).rejects.toMatchObject({
      code: 'INVALID_ADDRESS',
    });
  });
});

describe('trace', () => {
  it('records typed events, keeps the last N, dumps them compactly and can be subscribed to', async () => {
    const sim = new Simulation({ seed: 1, trace: 3 });
    const a = sim.addHost();
    const b = sim.addHost();
    const sa = await a.network.bindDatagram({ host: a.address, port: 1 });
    await b.network.bindDatagram({ host: b.address, port: 2 });
    const seen: string[] = [];
    const off = sim.trace.subscribe((e) => seen.push(e.type));
    for (let i = 0; i < 3; i++) sa.send(new Uint8Array(i + 1), { host: b.address, port: 2 });
    sa.send(new Uint8Array(1), { host: b.address, port: 3 });
    await sim.runFor(20);
    off();
    sa.send(new Uint8Array(1), { host: b.address, port: 2 });
    expect(seen).toEqual(['send', 'send', 'send', 'send', 'deliver', 'deliver', 'deliver', 'drop']);
    expect(sim.trace.total).toBe(9);
    expect(sim.trace.counts).toMatchObject({ send: 5, deliver: 3, drop: 1 });
    const events = sim.trace.events();
    expect(events.map((e) => e.type)).toEqual(['deliver', 'drop', 'send']);
    expect(sim.trace.dump()).toBe(
      [
        `… 6 earlier events not recorded (hash ${sim.trace.hash()})`,
        '    10.000 deliver  127.1.0.1:1 > 127.1.0.2:2 3B',
        '    10.000 drop     127.1.0.1:1 > 127.1.0.2:3 1B (no-socket)',
        '    20.000 send     127.1.0.1:1 > 127.1.0.2:2 1B',
      ].join('\n'),
    );
    expect(sim.trace.hash()).toMatch(/^[0-9a-f]{16}$/);
  });
});
