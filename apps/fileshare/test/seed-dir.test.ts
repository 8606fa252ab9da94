/**
 * `peerkit-share seed-dir`: one process seeds every .torrent of a folder on one port; each
 * torrent is fetched through that port by its own `get`; an unusable torrent is one line and
 * the others are seeded anyway.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { getFromLoopbackPeer, Harness, randomFile, sha256 } from './helpers';

const harness = new Harness();
afterEach(() => harness.cleanup());

async function create(dir: string, name: string, size: number): Promise<string> {
  const hash = await randomFile(join(dir, name), size);
  const made = harness.spawn(['create', join(dir, name), '-o', join(dir, `${name}.torrent`)]);
  expect((await made.exited).code).toBe(0);
  return hash;
}

describe('seed-dir', () => {
  it('seeds two torrents on one port; a get fetches each through it; a bad one is one line', async () => {
    const dir = await harness.tempDir();
    const hashA = await create(dir, 'a.bin', 700_000);
    const hashB = await create(dir, 'b.bin', 300_000);
    // Unusable: a .torrent that is not bencode, and one whose content is missing.
    await writeFile(join(dir, 'broken.torrent'), 'not a torrent');
    await create(dir, 'gone.bin', 1000);
    const { rm } = await import('node:fs/promises');
    await rm(join(dir, 'gone.bin'));

    const seeder = harness.spawn([
      'seed-dir',
      dir,
      '--host',
      '127.0.0.1',
      '--transport',
      'tcp',
      '--state-dir',
      join(dir, 'state'),
      '--json',
    ]);
    const listening = await seeder.waitForEvent('listening', 20_000);
    const port = Number(listening.port);
    expect(await seeder.waitForEvent('ready', 20_000)).toMatchObject({
      seeding: 2,
      skipped: 2,
      port,
    });
    const seeding = seeder.events.filter((e) => e.event === 'seeding');
    expect(seeding.map((e) => e.name)).toEqual(['a.bin', 'b.bin']);
    for (const e of seeding) expect(String(e.infoHash)).toMatch(/^[0-9a-f]{40}$/);
    const errors = seeder.events.filter((e) => e.event === 'torrent-error');
    expect(errors.map((e) => String(e.file).split('/').pop()).sort()).toEqual([
      'broken.torrent',
      'gone.bin.torrent',
    ]);

    const outA = await harness.tempDir();
    const outB = await harness.tempDir();
    const getA = getFromLoopbackPeer(
      harness,
      join(dir, 'a.bin.torrent'),
      port,
      outA,
      join(outA, 's'),
    );
    const getB = getFromLoopbackPeer(
      harness,
      join(dir, 'b.bin.torrent'),
      port,
      outB,
      join(outB, 's'),
    );
    expect((await getA.exited).code).toBe(0);
    expect((await getB.exited).code).toBe(0);
    expect(sha256(await readFile(join(outA, 'a.bin')))).toBe(hashA);
    expect(sha256(await readFile(join(outB, 'b.bin')))).toBe(hashB);
    // Each get's peer events came with the torrent they were for.
    const peers = seeder.events.filter((e) => e.event === 'peer' && e.action === 'connect');
    expect(new Set(peers.map((e) => e.infoHash))).toEqual(new Set(seeding.map((e) => e.infoHash)));
    expect((await seeder.stop('SIGINT')).code).toBe(0);
    // --json: envelopes only on stdout.
    expect(seeder.otherLines).toEqual([]);
    expect(seeder.events.map((e) => e.event)).toContain('stopped');
  });

  it('serves uTP and TCP on the one port (default --transport both)', async () => {
    const dir = await harness.tempDir();
    const hashes = [await create(dir, 'u.bin', 400_000), await create(dir, 't.bin', 300_000)];
    const seeder = harness.spawn([
      'seed-dir',
      dir,
      '--host',
      '127.0.0.1',
      '--state-dir',
      join(dir, 'state'),
      '--json',
    ]);
    const { port } = await seeder.waitForEvent('ready', 20_000);
    const gets = (['utp', 'tcp'] as const).map(async (transport, i) => {
      const name = i === 0 ? 'u.bin' : 't.bin';
      const out = await harness.tempDir();
      const get = harness.spawn([
        'get',
        join(dir, `${name}.torrent`),
        '--peer',
        `127.0.0.1:${port}`,
        '--transport',
        transport,
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
      expect(sha256(await readFile(join(out, name)))).toBe(hashes[i]);
    });
    await Promise.all(gets);
    const transports = seeder.events
      .filter((e) => e.event === 'peer' && e.action === 'connect')
      .map((e) => e.transport);
    expect(new Set(transports)).toEqual(new Set(['utp', 'tcp']));
    expect((await seeder.stop('SIGINT')).code).toBe(0);
  });

  it('refuses a folder without .torrent files in one line (exit 1)', async () => {
    const dir = await harness.tempDir();
    const run = harness.spawn(['seed-dir', dir, '--host', '127.0.0.1']);
    const { code } = await run.exited;
    expect(code).toBe(1);
    const lines = run.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('no .torrent files');
  });

  it('a second process on the same torrents and state directory is refused, naming the first', async () => {
    const dir = await harness.tempDir();
    await create(dir, 'a.bin', 50_000);
    const args = [
      'seed-dir',
      dir,
      '--host',
      '127.0.0.1',
      '--transport',
      'tcp',
      '--state-dir',
      join(dir, 'state'),
      '--json',
    ];
    const first = harness.spawn(args);
    await first.waitForEvent('seeding', 20_000);
    const second = harness.spawn(args);
    const { code } = await second.exited;
    expect(code).toBe(1);
    const error = second.events.find((e) => e.event === 'torrent-error');
    expect(String(error?.message)).toMatch(/in use|locked|another process|pid/i);
    expect((await first.stop('SIGINT')).code).toBe(0);
  });
});
