/**
 * Every query and every lookup settles in bounded virtual time, whatever happens under it:
 * the socket closed (the host crashed), the DHT closed mid-lookup, every contact dead.
 * Regression tests for a scenario hang (NETSIM_SEED=2455036504): a lookup whose own host crashed.
 */
import { Simulation } from '@peerkit/netsim';
import { describe, expect, it } from 'vitest';
import { type LookupEvent, randomId } from '../src/index';
import { buildTestnet } from './helpers/testnet';

describe('queries and lookups always settle', () => {
  it('a query on a socket closed under the RPC layer rejects with CLOSED at once (host crashed)', async () => {
    const sim = new Simulation({ seed: 11 });
    await sim.run(
      async () => {
        const nodes = await buildTestnet(sim, 10);
        const a = sim.host(nodes[1]!.address.host);
        const dht = nodes[1]!;
        const tableSize = dht.table.size;
        sim.crash(a);
        // The crashed host's timers never fire: before the fix this waited forever (DEADLOCK).
        const start = sim.now;
        await expect(dht.queryNode(nodes[2]!.address, 'ping')).rejects.toMatchObject({
          code: 'CLOSED',
        });
        // A lookup from the dead node ends with what it has, without blaming its contacts.
        const closest = await dht.findNode(randomId(sim.random));
        expect(closest).toEqual([]);
        expect(sim.now - start).toBe(0);
        expect(dht.table.size).toBe(tableSize);
        await Promise.all(nodes.map((n) => n.close()));
      },
      { maxTimeMs: 600_000 },
    );
    expect(sim.openResources().datagramSockets).toBe(0);
  });

  it('closing the DHT while a lookup is in flight ends the lookup generator', async () => {
    const sim = new Simulation({ seed: 12 });
    await sim.run(
      async () => {
        const nodes = await buildTestnet(sim, 30);
        const dht = nodes[5]!;
        const events: LookupEvent[] = [];
        const start = sim.now;
        for await (const e of dht.lookup(randomId(sim.random))) {
          events.push(e);
          if (e.type === 'query' && events.filter((x) => x.type === 'query').length === 1)
            void dht.close();
        }
        expect(events.at(-1)?.type).toBe('done');
        const failures = events.filter((e) => e.type === 'failure');
        expect(failures.length).toBeGreaterThan(0);
        for (const f of failures) if (f.type === 'failure') expect(f.error.code).toBe('CLOSED');
        expect(sim.now - start).toBeLessThan(1000);
        await expect(dht.findNode(randomId(sim.random))).rejects.toMatchObject({ code: 'CLOSED' });
        await Promise.all(nodes.map((n) => n.close()));
      },
      { maxTimeMs: 600_000 },
    );
    expect(sim.openResources()).toMatchObject({ datagramSockets: 0, timers: 0 });
  });

  it('a crashed node that is closed ends its lookup in flight (the scenario case)', async () => {
    const sim = new Simulation({ seed: 13 });
    await sim.run(
      async () => {
        const nodes = await buildTestnet(sim, 30);
        const dht = nodes[7]!;
        const it = dht.lookup(randomId(sim.random));
        const first = await it.next();
        expect(first.value).toMatchObject({ type: 'query' });
        sim.crash(dht.address.host);
        await dht.close();
        let step = await it.next();
        for (let i = 0; i < 100 && !step.done; i++) step = await it.next();
        expect(step.done).toBe(true);
        await Promise.all(nodes.map((n) => n.close()));
      },
      { maxTimeMs: 600_000 },
    );
    expect(sim.openResources().datagramSockets).toBe(0);
  });

  it('a lookup whose every contact is dead ends after the timeouts, with no result', async () => {
    const sim = new Simulation({ seed: 14 });
    await sim.run(
      async () => {
        const nodes = await buildTestnet(sim, 12);
        const dht = nodes[0]!;
        for (const n of nodes.slice(1)) sim.crash(n.address.host);
        const start = sim.now;
        const events: LookupEvent[] = [];
        for await (const e of dht.lookup(randomId(sim.random))) events.push(e);
        const done = events.at(-1);
        expect(done?.type).toBe('done');
        if (done?.type === 'done') expect(done.closest).toEqual([]);
        const queries = events.filter((e) => e.type === 'query').length;
        expect(queries).toBeGreaterThan(0);
        expect(events.filter((e) => e.type === 'failure').length).toBe(queries);
        // Each dead contact costs its attempts (1 s each, 3 resends): bounded by the table size.
        expect(sim.now - start).toBeLessThanOrEqual(4000 * queries);
        await Promise.all(nodes.map((n) => n.close()));
      },
      { maxTimeMs: 600_000 },
    );
    expect(sim.openResources().datagramSockets).toBe(0);
  });
});
