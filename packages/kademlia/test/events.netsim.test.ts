/**
 * The DHT's events follow peerkit's one convention (`Emitter`): a handler that throws is
 * reported, the other handlers of the event still run, and the node goes on answering.
 */
import { Simulation } from '@peerkit/netsim';
import { describe, expect, it } from 'vitest';
import { DHT, type PeerEvent, randomId } from '../src/index';

describe('DHT events', () => {
  it('a throwing handler neither crashes the node nor stops the other handlers', async () => {
    const sim = new Simulation({ seed: 17 });
    await sim.run(async () => {
      const a = sim.addHost();
      const b = sim.addHost();
      const reported: string[] = [];
      const server = new DHT({
        network: a.network,
        onHandlerError: (error, event) => reported.push(`${event}: ${(error as Error).message}`),
      });
      const client = new DHT({ network: b.network });
      await server.listen({ host: a.address, port: 6881 });
      await client.listen({ host: b.address, port: 6881 });
      const seen: PeerEvent[] = [];
      const joined: string[] = [];
      server.on('announce', () => {
        throw new Error('handler bug');
      });
      server.on('announce', (event) => seen.push(event));
      server.on('node', () => {
        throw new Error('node handler bug');
      });
      server.on('node', ({ contact }) => joined.push(contact.address.host));
      await client.bootstrap([server.address]);
      const infoHash = randomId(sim.random);
      const { announced } = await client.announce(infoHash, 4000);
      expect(announced).toBe(1);
      expect(seen).toHaveLength(1);
      expect(seen[0]!.infoHash).toEqual(infoHash);
      expect(seen[0]!.peer).toEqual({ host: b.address, port: 4000 });
      expect(joined).toEqual([b.address]);
      expect(reported).toContain('announce: handler bug');
      expect(reported).toContain('node: node handler bug');
      // The node still answers: a second announce is stored and found.
      expect((await client.announce(randomId(sim.random), 4001)).announced).toBe(1);
      expect(await client.getPeers(infoHash)).toEqual([{ host: b.address, port: 4000 }]);
      expect(seen).toHaveLength(2);
      await client.close();
      await server.close();
    });
  });

  it('on() returns the function that removes the handler', async () => {
    const sim = new Simulation({ seed: 18 });
    await sim.run(async () => {
      const a = sim.addHost();
      const b = sim.addHost();
      const server = new DHT({ network: a.network });
      const client = new DHT({ network: b.network });
      await server.listen({ host: a.address, port: 6881 });
      await client.listen({ host: b.address, port: 6881 });
      let count = 0;
      const off = server.on('announce', () => count++);
      await client.bootstrap([server.address]);
      await client.announce(randomId(sim.random), 4000);
      off();
      await client.announce(randomId(sim.random), 4000);
      expect(count).toBe(1);
      await client.close();
      await server.close();
    });
  });
});
