/**
 * Scale benchmark: 10,000 simulated hosts exchange 1,000,000 datagrams.
 *
 * Reports simulated events per second (of real time, and of CPU time, which is steadier on a
 * shared machine) and the simulator's memory per idle host, against references measured in the
 * same run: the bare event queue (as many pops and pushes with as many events pending, the floor
 * of any simulator built on it), the same traffic among 100 hosts (what touching 10,000 hosts'
 * state costs in cache misses), and real datagrams over loopback UDP (node:dgram on 127.0.0.1).
 * Run with `pnpm bench` (which passes --expose-gc).
 */
import { createSocket } from 'node:dgram';
import { fmt, report } from '@peerkit/dev-kit/bench';
import type { Address, DatagramSocket } from '@peerkit/transport';
import { EventQueue } from '../src/event-queue';
import { Prng, Simulation, uniform } from '../src/index';

const HOSTS = Number(process.env.NETSIM_BENCH_HOSTS ?? 10_000);
const DATAGRAMS = Number(process.env.NETSIM_BENCH_DATAGRAMS ?? 1_000_000);
const IN_FLIGHT = 30_000;
const PORT = 6881;

const gc = (globalThis as { gc?: () => void }).gc;
function heapUsed(): number {
  if (gc) {
    gc();
    gc();
  }
  return process.memoryUsage().heapUsed;
}

interface Result {
  eventsPerSec: number;
  eventsPerCpuSec: number;
  events: number;
  idleHostBytes: number;
  boundHostBytes: number;
  virtualSeconds: number;
  hash: string;
}

/**
 * `hostCount` hosts with one bound socket each; IN_FLIGHT datagrams start, and every delivery
 * is forwarded to a random host (drawn from the receiver's `network.random`) until DATAGRAMS
 * have been sent. Latency uniform(5, 50) ms.
 */
async function simulate(hostCount: number): Promise<Result> {
  const sim = new Simulation({ seed: 42, link: { latency: uniform(5, 50) } });
  const before = heapUsed();
  const hosts = Array.from({ length: hostCount }, () => sim.addHost());
  const afterHosts = heapUsed();
  const sockets: DatagramSocket[] = [];
  for (const host of hosts) {
    sockets.push(await host.network.bindDatagram({ host: host.address, port: PORT }));
  }
  const afterSockets = heapUsed();

  let sent = 0;
  const payload = new Uint8Array(64);
  const addresses: Address[] = hosts.map((h) => ({ host: h.address, port: PORT }));
  hosts.forEach((host, i) => {
    const socket = sockets[i] as DatagramSocket;
    const random = host.network.random;
    socket.onMessage(() => {
      if (sent < DATAGRAMS) {
        sent++;
        socket.send(payload, addresses[random.int(hostCount)] as Address);
      }
    });
  });
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  for (let k = 0; k < IN_FLIGHT; k++) {
    const i = k % hostCount;
    sent++;
    const random = (hosts[i] as (typeof hosts)[number]).network.random;
    (sockets[i] as DatagramSocket).send(payload, addresses[random.int(hostCount)] as Address);
  }
  await sim.runUntilIdle();
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpuStart);
  return {
    eventsPerSec: sim.eventsProcessed / seconds,
    eventsPerCpuSec: sim.eventsProcessed / ((cpu.user + cpu.system) / 1e6),
    events: sim.eventsProcessed,
    idleHostBytes: (afterHosts - before) / hostCount,
    boundHostBytes: (afterSockets - before) / hostCount,
    virtualSeconds: sim.now / 1000,
    hash: sim.trace.hash(),
  };
}

/** The bare queue: pop and push `events` times with `pending` events waiting, per CPU-second. */
function bareQueue(events: number, pending: number): number {
  const queue = new EventQueue();
  const random = new Prng(1);
  const noop = () => {};
  for (let i = 0; i < pending; i++) queue.push(50 * random.float(), noop);
  const start = process.cpuUsage();
  for (let i = 0; i < events; i++) {
    const e = queue.pop();
    if (e === undefined) break;
    queue.push(e.time + 5 + 45 * random.float(), noop);
  }
  const cpu = process.cpuUsage(start);
  return events / ((cpu.user + cpu.system) / 1e6);
}

/** Real loopback UDP: one socket pair ping-ponging `count` datagrams, 32 in flight. */
async function loopbackUdp(count: number): Promise<number> {
  const a = createSocket('udp4');
  const b = createSocket('udp4');
  await Promise.all([
    new Promise<void>((r) => a.bind(0, '127.0.0.1', r)),
    new Promise<void>((r) => b.bind(0, '127.0.0.1', r)),
  ]);
  const payload = new Uint8Array(64);
  const bPort = b.address().port;
  const aPort = a.address().port;
  let received = 0;
  const start = performance.now();
  await new Promise<void>((resolve) => {
    b.on('message', () => b.send(payload, aPort, '127.0.0.1'));
    a.on('message', () => {
      received++;
      if (received >= count) resolve();
      else a.send(payload, bPort, '127.0.0.1');
    });
    for (let i = 0; i < 32; i++) a.send(payload, bPort, '127.0.0.1');
    // Bounded: give up after 20 s of real time (lost loopback datagrams end the ping-pong).
    setTimeout(resolve, 20_000).unref();
  });
  const seconds = (performance.now() - start) / 1000;
  a.close();
  b.close();
  return (2 * received) / seconds;
}

await simulate(1_000); // warm-up: let the JIT compile the hot path first
const big = await simulate(HOSTS);
const small = await simulate(100);
const queueRate = bareQueue(big.events, IN_FLIGHT);
const udpRate = await loopbackUdp(100_000);

report({
  package: '@peerkit/netsim',
  name: 'scale',
  title: `${HOSTS.toLocaleString('en-US')} hosts exchanging ${DATAGRAMS.toLocaleString('en-US')} datagrams`,
  columns: ['measure', 'value', 'reference', 'note'],
  rows: [
    [
      'simulated events / s (real time)',
      fmt(big.eventsPerSec),
      `${fmt(udpRate)} datagrams / s over real loopback UDP`,
      `target >= 1,000,000; ${big.events.toLocaleString('en-US')} events, ${fmt(big.virtualSeconds)} s virtual`,
    ],
    [
      'simulated events / CPU-second',
      fmt(big.eventsPerCpuSec),
      `${fmt(queueRate)} (bare event queue)`,
      'CPU time: steadier than real time on a shared machine',
    ],
    [
      'same traffic among 100 hosts, events / CPU-second',
      fmt(small.eventsPerCpuSec),
      `${fmt(queueRate)} (bare event queue)`,
      'the difference is cache misses over 10,000 hosts’ state',
    ],
    ['heap per idle host (bytes)', fmt(big.idleHostBytes), '-', 'target < 2,048'],
    [
      'heap per host with a bound socket (bytes)',
      fmt(big.boundHostBytes),
      '-',
      'network, clock, random, socket, handler',
    ],
  ],
  notes: [
    `Link: latency uniform(5, 50) ms; ${IN_FLIGHT.toLocaleString('en-US')} datagrams in flight; 64-byte datagrams; every delivery triggers the next send; trace hash ${big.hash}.`,
    gc ? 'Heap measured after gc() (--expose-gc).' : 'Run with --expose-gc for exact heap numbers.',
  ],
});
