/**
 * Interop with aria2 (an independent BitTorrent client) on loopback:
 *
 * - aria2 downloads from `peerkit-share share`. aria2 1.36 cannot be told to dial one peer, so it
 *   gets a .torrent whose announce URL is a tiny HTTP tracker run by this test, answering with
 *   the peerkit node's address. aria2 first tries an MSE-encrypted handshake; the node ends that
 *   connection cleanly and aria2 retries in plain BitTorrent.
 * - `peerkit-share get --peer` downloads from aria2 seeding.
 *
 * Runs under `pnpm test:interop`; with INTEROP_REQUIRED=1 a missing aria2c fails instead of skipping.
 */
import { mkdir } from 'node:fs/promises';
import { createServer as createHttpServer, type Server } from 'node:http';
import { join } from 'node:path';
import { encode } from '@peerkit/bencode';
import {
  ARIA2_LOOPBACK,
  freePort,
  haveClient,
  type Proc,
  startProcess,
} from '@peerkit/dev-kit/interop';
import { afterEach, describe, expect, it } from 'vitest';
import { getFromLoopbackPeer, Harness, randomFile, sha256File, withTimeout } from './helpers';

const available = haveClient('aria2c');

const harness = new Harness();
const procs: Proc[] = [];
const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(procs.splice(0).map((p) => p.stop()));
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
  await harness.cleanup();
});

/** An HTTP tracker (BEP 3, compact BEP 23) that answers every announce with `peers`. */
async function tinyTracker(
  peers: { host: string; port: number }[],
): Promise<{ url: string; announces: string[] }> {
  const announces: string[] = [];
  const compact = Buffer.concat(
    peers.map((p) => Buffer.from([...p.host.split('.').map(Number), p.port >> 8, p.port & 0xff])),
  );
  const server = createHttpServer((req, res) => {
    announces.push(req.url ?? '');
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(Buffer.from(encode({ interval: 5, 'min interval': 1, peers: compact })));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}/announce`, announces };
}

/** aria2c started in `dir` (stopped after the test), logging to `dir`/aria2.log. */
function aria2(args: string[], dir: string): Proc {
  const proc = startProcess('aria2c', args, join(dir, 'aria2.log'), { cwd: dir });
  procs.push(proc);
  return proc;
}

/** aria2 options that keep it on loopback and away from anything outside. */
const ARIA2_LOCAL = [
  ...ARIA2_LOOPBACK,
  '--disable-ipv6=true',
  '--console-log-level=warn',
  '--bt-save-metadata=false',
];

describe.skipIf(!available)('aria2 interop', () => {
  it('aria2 downloads from peerkit-share share', async () => {
    const dir = await harness.tempDir();
    await mkdir(join(dir, 'seed'));
    await mkdir(join(dir, 'aria'));
    const hash = await randomFile(join(dir, 'seed', 'shared.bin'), 2 * 1024 * 1024 + 4321);
    const port = await freePort();
    const tracker = await tinyTracker([{ host: '127.0.0.1', port }]);
    const torrent = join(dir, 'shared.torrent');
    const created = harness.spawn([
      'create',
      join(dir, 'seed', 'shared.bin'),
      '-o',
      torrent,
      '--tracker',
      tracker.url,
      '--json',
    ]);
    expect((await created.exited).code, created.stderr).toBe(0);

    const seeder = harness.spawn([
      'share',
      join(dir, 'seed', 'shared.bin'),
      '--torrent',
      torrent,
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--no-dht',
      // Plain BitTorrent only: aria2's MSE attempt is ended and it retries in plain (with the
      // default `prefer`, aria2 connects encrypted: piece-exchange's mse.interop.test.ts).
      '--encryption',
      'plain',
      '--state-dir',
      join(dir, 'state'),
      '--json',
    ]);
    await seeder.waitForEvent('listening', 20_000);
    // With --torrent the content is re-checked first: every piece must be found.
    expect(await seeder.waitForEvent('resumed', 20_000)).toMatchObject({
      verified: expect.any(Number),
    });
    const resumed = seeder.events.find((e) => e.event === 'resumed')!;
    expect(resumed.verified).toBe(resumed.pieces);

    const client = aria2(
      [
        ...ARIA2_LOCAL,
        `--dir=${join(dir, 'aria')}`,
        '--seed-time=0',
        `--listen-port=${await freePort()}`,
        torrent,
      ],
      dir,
    );
    const code = await withTimeout(client.exited, 60_000, `aria2 download\n${client.output()}`);
    expect(code, client.output()).toBe(0);
    expect(tracker.announces.length).toBeGreaterThan(0);
    expect(await sha256File(join(dir, 'aria', 'shared.bin'))).toBe(hash);
    // aria2 connected (after its MSE attempt was ended) and was served by the peerkit node.
    const peerEvents = seeder.events.filter((e) => e.event === 'peer');
    expect(peerEvents.some((e) => e.action === 'connect')).toBe(true);
    const ended = peerEvents.filter((e) =>
      String(e.reason).includes('encrypted or not BitTorrent'),
    );
    expect(ended.length, 'aria2 tries MSE first; the node ends that connection').toBeGreaterThan(0);
    expect((await seeder.stop('SIGINT')).code).toBe(0);
    const stopped = seeder.events.find((e) => e.event === 'stopped')!;
    expect(Number(stopped.uploaded)).toBeGreaterThanOrEqual(2 * 1024 * 1024 + 4321);
    // The node announced itself to the torrent's tracker too: started, then stopped on SIGINT.
    const ours = tracker.announces.filter((u) => u.includes('peer_id=-PK0100-'));
    expect(ours[0]).toContain('event=started');
    expect(ours[ours.length - 1]).toContain('event=stopped');
  });

  it('peerkit-share get --peer downloads from aria2 seeding', async () => {
    const dir = await harness.tempDir();
    await mkdir(join(dir, 'aria'));
    const hash = await randomFile(join(dir, 'aria', 'seeded.bin'), 3 * 1024 * 1024 + 77);
    const torrent = join(dir, 'seeded.torrent');
    const created = harness.spawn([
      'create',
      join(dir, 'aria', 'seeded.bin'),
      '-o',
      torrent,
      '--piece-length',
      '32k',
    ]);
    expect((await created.exited).code, created.stderr).toBe(0);

    const ariaPort = await freePort();
    const seeder = aria2(
      [
        ...ARIA2_LOCAL,
        `--dir=${join(dir, 'aria')}`,
        '--check-integrity=true',
        '--seed-ratio=0.0',
        `--listen-port=${ariaPort}`,
        torrent,
      ],
      dir,
    );
    // aria2 re-checks the file, then seeds: retry the download until it accepts connections.
    const out = join(dir, 'out');
    const getter = getFromLoopbackPeer(harness, torrent, ariaPort, out, join(dir, 'state'));
    const exit = await withTimeout(
      getter.exited,
      60_000,
      `peerkit get from aria2\n${seeder.output()}\n${getter.stderr}`,
    );
    expect(exit.code, getter.stderr).toBe(0);
    const done = getter.events.find((e) => e.event === 'done')!;
    expect(done.downloaded).toBe(3 * 1024 * 1024 + 77);
    const from = Object.keys(done.peerTotals as Record<string, unknown>);
    expect(from).toContain(`127.0.0.1:${ariaPort}`);
    expect(await sha256File(join(out, 'seeded.bin'))).toBe(hash);
    expect(seeder.running).toBe(true);
  });
});
