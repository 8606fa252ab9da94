/**
 * `peerkit-share seed-dir` is found as `share` is: each torrent is announced to its own trackers
 * (BEP 3/12/15) with its own uploaded/downloaded/left, so that a `get` given no peer finds the
 * seeder through the tracker alone; public torrents are announced on the DHT by one node on the
 * client's UDP port, and a private torrent (BEP 27) in the same folder never reaches the DHT.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DHT } from '@peerkit/kademlia';
import type { HttpTrackerRequestLog } from '@peerkit/piece-exchange';
import { type Network, nodeNetwork } from '@peerkit/transport';
import { afterEach, describe, expect, it } from 'vitest';
import { runTracker } from '../src/commands/tracker';
import { Harness, randomFile, sha256 } from './helpers';

const harness = new Harness();
afterEach(() => harness.cleanup());

/** Writes `name` (random bytes) and `name.torrent` next to it; returns the content's SHA-256. */
async function create(dir: string, name: string, size: number, extra: string[]): Promise<string> {
  const hash = await randomFile(join(dir, name), size);
  const made = harness.spawn([
    'create',
    join(dir, name),
    '-o',
    join(dir, `${name}.torrent`),
    ...extra,
  ]);
  expect((await made.exited).code).toBe(0);
  return hash;
}

/** Waits until `done()` or `ms` of real time passed. */
async function waitFor(done: () => boolean, ms: number): Promise<void> {
  for (let waited = 0; waited < ms && !done(); waited += 20)
    await new Promise((resolve) => setTimeout(resolve, 20));
}

/** Whether `haystack` contains the bytes of `needle`. */
const contains = (haystack: Uint8Array, needle: Uint8Array) =>
  Buffer.from(haystack).indexOf(Buffer.from(needle)) >= 0;

describe('seed-dir: trackers and the DHT', () => {
  it('announces each torrent to its trackers (its own stats, `stopped` on exit); a get finds it with no --peer', async () => {
    const requests: HttpTrackerRequestLog[] = [];
    const tracker = await runTracker({
      host: '127.0.0.1',
      port: 0,
      interval: 60,
      onRequest: (r) => requests.push(r),
    });
    try {
      const dir = await harness.tempDir();
      const trackerPort = tracker.address.port;
      const sizes = { 'a.bin': 700_000, 'b.bin': 300_000 };
      const hashes = {
        // One over HTTP (BEP 3), one over UDP (BEP 15).
        'a.bin': await create(dir, 'a.bin', sizes['a.bin'], [
          '--tracker',
          `http://127.0.0.1:${trackerPort}/announce`,
        ]),
        'b.bin': await create(dir, 'b.bin', sizes['b.bin'], [
          '--tracker',
          `udp://127.0.0.1:${trackerPort}`,
        ]),
      };
      const seeder = harness.spawn([
        'seed-dir',
        dir,
        '--host',
        '127.0.0.1',
        '--no-dht',
        '--state-dir',
        join(dir, 'state'),
        '--json',
      ]);
      const { port } = await seeder.waitForEvent('ready', 20_000);
      const seeding = seeder.events.filter((e) => e.event === 'seeding');
      const infoHashOf = (name: string) => String(seeding.find((e) => e.name === name)?.infoHash);
      const trackerEvents = (announce: string) =>
        seeder.events.filter((e) => e.event === 'tracker' && e.announce === announce);
      await waitFor(() => trackerEvents('started').length >= 2, 20_000);
      expect(new Set(trackerEvents('started').map((e) => e.infoHash))).toEqual(
        new Set([infoHashOf('a.bin'), infoHashOf('b.bin')]),
      );
      // No DHT: never started (--no-dht).
      expect(seeder.events.some((e) => e.event === 'dht-ready')).toBe(false);

      for (const name of ['a.bin', 'b.bin'] as const) {
        const out = await harness.tempDir();
        const get = harness.spawn([
          'get',
          join(dir, `${name}.torrent`),
          '--no-dht',
          '--host',
          '127.0.0.1',
          '--out',
          out,
          '--state-dir',
          join(out, 's'),
          '--exit-when-done',
          '--json',
        ]);
        expect((await get.exited).code, get.stderr).toBe(0);
        expect(sha256(await readFile(join(out, name)))).toBe(hashes[name]);
        // The tracker told the get of one seeder (the seed-dir announced left=0).
        const answer = get.events.find((e) => e.event === 'tracker' && e.announce === 'started');
        expect(answer).toMatchObject({ peers: 1, seeders: 1 });
      }
      expect((await seeder.stop('SIGINT')).code).toBe(0);
      expect(new Set(trackerEvents('stopped').map((e) => e.infoHash))).toEqual(
        new Set([infoHashOf('a.bin'), infoHashOf('b.bin')]),
      );
      // HTTP (a.bin): the seeder's announces carry a.bin's own numbers, exactly.
      const fromSeeder = requests.filter((r) => r.kind === 'announce' && r.port === port);
      expect(fromSeeder[0]).toMatchObject({ event: 'started', left: 0, downloaded: 0 });
      expect(fromSeeder.at(-1)).toMatchObject({
        event: 'stopped',
        left: 0,
        downloaded: 0,
        uploaded: sizes['a.bin'],
      });
    } finally {
      await tracker.close();
    }
  });

  it('one DHT node on the uTP port announces the public torrent; the private one never reaches the DHT', async () => {
    // A real DHT node standing for the bootstrap node; every datagram it receives is kept.
    const base = nodeNetwork();
    const datagrams: Uint8Array[] = [];
    const counting: Network = {
      clock: base.clock,
      random: base.random,
      listen: (options, onStream) => base.listen(options, onStream),
      dial: (to, options) => base.dial(to, options),
      bindDatagram: async (options) => {
        const socket = await base.bindDatagram(options);
        socket.onMessage((data) => datagrams.push(Uint8Array.from(data)));
        return socket;
      },
    };
    const node = new DHT({ network: counting });
    await node.listen({ host: '127.0.0.1', port: 0 });
    const announcedToNode: string[] = [];
    node.on('announce', (e) => announcedToNode.push(Buffer.from(e.infoHash).toString('hex')));
    try {
      const dir = await harness.tempDir();
      await create(dir, 'public.bin', 100_000, []);
      await create(dir, 'private.bin', 100_000, ['--private']);
      const seeder = harness.spawn([
        'seed-dir',
        dir,
        '--host',
        '127.0.0.1',
        '--bootstrap',
        `127.0.0.1:${node.address.port}`,
        '--state-dir',
        join(dir, 'state'),
        '--json',
      ]);
      const ready = await seeder.waitForEvent('ready', 20_000);
      // One UDP port: the DHT shares the uTP socket.
      expect(ready.dhtPort).toBe(ready.port);
      const seeding = seeder.events.filter((e) => e.event === 'seeding');
      const hexOf = (name: string) => String(seeding.find((e) => e.name === name)?.infoHash);
      const publicHash = hexOf('public.bin');
      const privateHash = hexOf('private.bin');
      expect(publicHash).toMatch(/^[0-9a-f]{40}$/);
      expect(privateHash).toMatch(/^[0-9a-f]{40}$/);

      await waitFor(() => announcedToNode.includes(publicHash), 20_000);
      expect(announcedToNode).toContain(publicHash);
      expect(
        seeder.events.find((e) => e.event === 'announced' && e.infoHash === publicHash),
      ).toBeDefined();
      // The DHT was joined once for the folder, not once per torrent.
      expect(seeder.events.filter((e) => e.event === 'dht-ready')).toHaveLength(1);
      // Let anything the private torrent might send arrive, then count.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const publicBytes = Buffer.from(publicHash, 'hex');
      const privateBytes = Buffer.from(privateHash, 'hex');
      expect(datagrams.filter((d) => contains(d, publicBytes)).length).toBeGreaterThan(0);
      expect(datagrams.filter((d) => contains(d, privateBytes))).toHaveLength(0);
      expect(announcedToNode).not.toContain(privateHash);
      expect(
        seeder.events.filter(
          (e) => e.infoHash === privateHash && ['announced', 'lookup'].includes(String(e.event)),
        ),
      ).toEqual([]);
      expect((await seeder.stop('SIGINT')).code).toBe(0);
      // Still nothing about the private torrent after the whole run.
      expect(datagrams.filter((d) => contains(d, privateBytes))).toHaveLength(0);
    } finally {
      await node.close();
    }
  });
});
