/**
 * The dial timeout (docs/security.md, "Connections and their phases"): an address that swallows
 * SYNs (nothing comes back, not even a refusal) must not hold a dial for ever. netsim, virtual
 * time, deterministic from the printed seed: the link to that address loses every packet. The
 * torrent's dial fails after `DIAL_TIMEOUT_MS` and the address is dialled again after the
 * backoff. transport's own timeout on real sockets is proved in
 * packages/transport/test/node-network.test.ts ("gives TIMEOUT when the clock runs out…").
 */
import { replayHint, Simulation, seedFromEnv } from '@peerkit/netsim';
import type { Network } from '@peerkit/transport';
import { describe, expect, it } from 'vitest';
import { memoryFileSystem } from '../src/storage/file-system';
import { DIAL_TIMEOUT_MS, REDIAL_BASE_MS } from '../src/swarm-policy';
import { Torrent } from '../src/torrent';
import { TICK_MS } from '../src/torrent-options';
import { makeTorrent } from './fixtures';

interface Dial {
  at: number;
  endedAt?: number;
  code?: string;
}

describe('dial timeout', () => {
  it('a dial to an address that swallows SYNs fails after DIAL_TIMEOUT_MS and is retried', async () => {
    const seed = seedFromEnv(31);
    const sim = new Simulation({ seed, link: { latency: 10 } });
    try {
      await sim.run(
        async () => {
          const fixture = makeTorrent('syn.bin', [50_000], 16_384, seed);
          const host = sim.addHost();
          const sink = sim.addHost();
          // Everything between the two is lost, SYNs included: no answer, no refusal.
          sim.setLink(host, sink, { down: true });
          const dials: Dial[] = [];
          const base = host.network;
          const network: Network = {
            clock: base.clock,
            random: base.random,
            bindDatagram: (options) => base.bindDatagram(options),
            listen: (options, onStream) => base.listen(options, onStream),
            dial: (to, options) => {
              const dial: Dial = { at: sim.now };
              dials.push(dial);
              return base.dial(to, options).catch((error: { code?: string }) => {
                dial.endedAt = sim.now;
                if (error.code !== undefined) dial.code = error.code;
                throw error;
              });
            },
          };
          const torrent = await Torrent.open({
            network,
            directory: '/data',
            info: fixture.info,
            fs: memoryFileSystem(),
            listen: { host: host.address, port: 6881 },
            peers: [{ host: sink.address, port: 6881 }],
            encryption: 'plain',
          });
          await new Promise<void>((resolve) => sim.clock.setTimeout(resolve, 3 * DIAL_TIMEOUT_MS));
          await torrent.close();
          expect(dials.length).toBeGreaterThanOrEqual(2);
          const [first, second] = dials as [Dial, Dial];
          expect(first.code).toBe('TIMEOUT');
          // Virtual time: exactly the limit.
          expect(first.endedAt! - first.at).toBe(DIAL_TIMEOUT_MS);
          // Retried after the first backoff step, on a tick.
          expect(second.at - first.endedAt!).toBeGreaterThanOrEqual(REDIAL_BASE_MS);
          expect(second.at - first.endedAt!).toBeLessThanOrEqual(REDIAL_BASE_MS + TICK_MS);
        },
        { maxTimeMs: 5 * 60_000 },
      );
    } catch (error) {
      console.error(`dial timeout failed; replay with ${replayHint(seed)}`);
      throw error;
    }
  });
});
