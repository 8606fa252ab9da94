/**
 * Scenarios in @peerkit/netsim (virtual time, replayable from a seed): several peers dial one
 * server over links with latency, jitter, loss (TCP-style streams retransmit) and limited
 * bandwidth, secure their streams and exchange data; a partition during the handshake ends in
 * HANDSHAKE_TIMEOUT on the simulated clock. A failing run prints its seed (NETSIM_SEED=...).
 */
import { replayHint, type SimHost, Simulation, seedFromEnv } from '@peerkit/netsim';
import type { StreamListener } from '@peerkit/transport';
import { describe, expect, it } from 'vitest';
import {
  generateIdentity,
  type Identity,
  type SecureStream,
  secureInbound,
  secureOutbound,
} from '../src/index';
import { patternBytes } from '../src/testing';

async function withSeed(seed: number, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (e) {
    console.error(`netsim scenario failed; replay with ${replayHint(seed)}`);
    throw e;
  }
}

/** A secure echo server on port 80 of `host`. */
async function secureEcho(
  host: SimHost,
  identity: Identity,
  accepted: SecureStream[],
): Promise<StreamListener> {
  return host.network.listen({ host: host.address, port: 80 }, (raw) => {
    void (async () => {
      try {
        const s = await secureInbound(raw, {
          identity,
          clock: host.network.clock,
          timeoutMs: 5000,
        });
        accepted.push(s);
        for await (const chunk of s) await s.write(chunk);
        await s.end();
      } catch {
        // a failed peer is dropped; the dialing side reports its own error
      }
    })();
  });
}

describe('secure streams in netsim', () => {
  it('several peers secure their streams and get their bytes echoed intact', async () => {
    const seed = seedFromEnv(7);
    await withSeed(seed, async () => {
      const sim = new Simulation({
        seed,
        link: { latency: 20, jitter: 10, loss: 0.02, bandwidth: 2_000_000 },
      });
      const server = sim.addHost();
      const serverId = generateIdentity();
      const accepted: SecureStream[] = [];
      const clients = [sim.addHost(), sim.addHost(), sim.addHost()];
      await sim.run(
        async () => {
          const listener = await secureEcho(server, serverId, accepted);
          await Promise.all(
            clients.map(async (host, i) => {
              const raw = await host.network.dial({ host: server.address, port: 80 });
              const s = await secureOutbound(raw, {
                identity: generateIdentity(),
                clock: host.network.clock,
                timeoutMs: 5000,
                expectedRemoteIdentity: serverId.publicKey,
              });
              const data = patternBytes(50_000 + 40_000 * i, seed + i);
              const reading = (async () => {
                const parts: Uint8Array[] = [];
                for await (const c of s) parts.push(c);
                return Buffer.concat(parts);
              })();
              for (let o = 0; o < data.length; o += 7000) await s.write(data.subarray(o, o + 7000));
              await s.end();
              expect(Buffer.compare(await reading, data)).toBe(0);
            }),
          );
          await listener.close();
          // Let the server side see every end marker and finish its echo loops.
          await new Promise<void>((resolve) => sim.clock.setTimeout(resolve, 1000));
        },
        { maxTimeMs: 120_000 },
      );
      // Every stream closed and every handshake timer cancelled: nothing is left open.
      expect(sim.openResources()).toEqual({
        datagramSockets: 0,
        listeners: 0,
        streams: 0,
        timers: 0,
      });
      expect(accepted.length).toBe(3);
      // 330 kB through 2 MB/s links with 20-30 ms latency take virtual time.
      expect(sim.now).toBeGreaterThan(100);
    });
  });

  it('a partition during the handshake ends in HANDSHAKE_TIMEOUT on the virtual clock', async () => {
    const seed = seedFromEnv(11);
    await withSeed(seed, async () => {
      const sim = new Simulation({ seed });
      const a = sim.addHost();
      const b = sim.addHost();
      await a.network.listen({ host: a.address, port: 80 }, () => {
        // accepts and never answers: the partition below stalls everything anyway
      });
      const outcome = await sim.run(
        async () => {
          const raw = await b.network.dial({ host: a.address, port: 80 });
          sim.partition([[a], [b]]);
          const started = sim.now;
          const error = await secureOutbound(raw, {
            identity: generateIdentity(),
            clock: b.network.clock,
            timeoutMs: 3000,
          }).catch((e: unknown) => e);
          return { error, elapsed: sim.now - started };
        },
        { maxTimeMs: 60_000 },
      );
      expect(outcome.error).toMatchObject({ code: 'HANDSHAKE_TIMEOUT' });
      expect(outcome.elapsed).toBe(3000);
    });
  });
});
