/**
 * A small random scenario used by the determinism properties: a few hosts exchange datagrams
 * and stream bytes at times and sizes drawn from their own `network.random`, under a
 * generated link and fault schedule.
 */
import type { Address, DatagramSocket, Network } from '@peerkit/transport';
import fc from 'fast-check';
import {
  allocatedAddress,
  type LinkOptions,
  type ScheduledFault,
  type SimHost,
  Simulation,
} from '../src/index';
import { faultScheduleArbitrary, linkOptionsArbitrary } from '../src/testing';

export interface Scenario {
  hosts: number;
  link: LinkOptions;
  faults: ScheduledFault[];
  messages: number;
  streamBytes: number;
}

export const scenarioArbitrary: fc.Arbitrary<Scenario> = fc
  .integer({ min: 2, max: 5 })
  .chain((hosts) =>
    fc.record({
      hosts: fc.constant(hosts),
      link: linkOptionsArbitrary(),
      faults: faultScheduleArbitrary(
        Array.from({ length: hosts }, (_, i) => allocatedAddress(i + 1, 'IPv4')),
        { durationMs: 1_500, maxFaults: 4 },
      ),
      messages: fc.integer({ min: 1, max: 12 }),
      streamBytes: fc.integer({ min: 0, max: 200_000 }),
    }),
  );

const DGRAM_PORT = 7000;
const STREAM_PORT = 8000;

/** Starts the scenario's node on `network`: a pinging datagram socket and an echo listener. */
async function startNode(sim: Simulation, host: SimHost, scenario: Scenario): Promise<void> {
  const network: Network = host.network;
  const socket: DatagramSocket = await network.bindDatagram({
    host: host.address,
    port: DGRAM_PORT,
  });
  socket.onMessage((data, from) => {
    // Reply once to pings (first byte 1) with a pong (first byte 2) of the same size.
    if (data[0] === 1) {
      const pong = new Uint8Array(data.length);
      pong[0] = 2;
      socket.send(pong, from);
    }
  });
  await network.listen({ host: host.address, port: STREAM_PORT }, (stream) => {
    void (async () => {
      try {
        for await (const chunk of stream) await stream.write(chunk);
        await stream.end();
      } catch {
        // Faults break streams; the trace records it.
      }
    })();
  });
  let sent = 0;
  const timer = network.clock.setInterval(() => {
    if (sent++ >= scenario.messages) {
      timer.cancel();
      return;
    }
    const others = sim.hosts.filter((h) => h !== host);
    const to = others[network.random.int(others.length)] as SimHost;
    const ping = network.random.bytes(1 + network.random.int(1200));
    ping[0] = 1;
    try {
      socket.send(ping, { host: to.address, port: DGRAM_PORT });
    } catch {
      // The host crashed meanwhile.
    }
  }, 20 + network.random.int(100));
}

async function streamClient(host: SimHost, to: Address, bytes: number): Promise<void> {
  try {
    const stream = await host.network.dial(to, { timeoutMs: 2_000 });
    const reading = (async () => {
      let n = 0;
      for await (const chunk of stream) n += chunk.length;
      return n;
    })();
    reading.catch(() => {}); // awaited below unless a write fails first
    const data = host.network.random.bytes(bytes);
    for (let i = 0; i < data.length; i += 16_384) await stream.write(data.subarray(i, i + 16_384));
    await stream.end();
    await reading;
  } catch {
    // Faults break streams; the trace records it.
  }
}

/** Runs `scenario` with `seed` for 3 s of virtual time; returns the trace hash and size. */
export async function runScenario(
  seed: number,
  scenario: Scenario,
): Promise<{ hash: string; events: number; sim: Simulation }> {
  const sim = new Simulation({ seed, link: scenario.link });
  const hosts = Array.from({ length: scenario.hosts }, () => sim.addHost());
  sim.onFault((fault) => {
    if (fault.kind === 'restart') void startNode(sim, sim.host(fault.host), scenario);
  });
  for (const host of hosts) await startNode(sim, host, scenario);
  sim.schedule(scenario.faults);
  const [first, second] = hosts as [SimHost, SimHost];
  if (scenario.streamBytes > 0) {
    void streamClient(first, { host: second.address, port: STREAM_PORT }, scenario.streamBytes);
  }
  await sim.runFor(3_000);
  return { hash: sim.trace.hash(), events: sim.trace.total, sim };
}
