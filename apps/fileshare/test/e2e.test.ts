/**
 * End to end with real processes on loopback: a DHT bootstrap node, `share`, and `get` given
 * only the magnet link, which finds the seeder through the DHT, fetches the info dictionary
 * (BEP 9) and the pieces, verifies them and exits.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Harness, randomFile, sha256File } from './helpers';

const harness = new Harness();
afterEach(() => harness.cleanup());

describe('share, then get by magnet through the DHT', () => {
  it('downloads and verifies a folder, then both shut down cleanly', async () => {
    const dir = await harness.tempDir();
    const dht = harness.spawn([
      'dht-node',
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--state-dir',
      join(dir, 'dht'),
      '--json',
    ]);
    const bootstrap = `127.0.0.1:${(await dht.waitForEvent('listening', 15_000)).dhtPort}`;

    // A folder of two files: a multi-file torrent.
    const { mkdir } = await import('node:fs/promises');
    await mkdir(join(dir, 'seed', 'album', 'disc'), { recursive: true });
    const hashA = await randomFile(join(dir, 'seed', 'album', 'a.bin'), 1_500_000);
    const hashB = await randomFile(join(dir, 'seed', 'album', 'disc', 'b.bin'), 700_001);
    const seeder = harness.spawn([
      'share',
      join(dir, 'seed', 'album'),
      '--host',
      '127.0.0.1',
      '--bootstrap',
      bootstrap,
      '--state-dir',
      join(dir, 'seed-state'),
      '--json',
    ]);
    const torrent = await seeder.waitForEvent('torrent', 20_000);
    await seeder.waitForEvent('announced', 20_000);
    const magnet = String(torrent.magnet);
    expect(magnet).toMatch(/^magnet:\?xt=urn:btih:[0-9a-f]{40}&dn=album$/);

    const out = join(dir, 'download');
    const getter = harness.spawn([
      'get',
      magnet,
      '--out',
      out,
      '--host',
      '127.0.0.1',
      '--bootstrap',
      bootstrap,
      '--state-dir',
      join(dir, 'get-state'),
      '--exit-when-done',
      '--json',
    ]);
    const exit = await getter.exited;
    expect(exit.code, getter.stderr).toBe(0);
    const events = getter.events.map((e) => e.event);
    // No --peer: the seeder can only have been found through the DHT.
    expect(events).toContain('lookup');
    expect(getter.events.find((e) => e.event === 'metadata')).toMatchObject({
      name: 'album',
      files: 2,
      fetched: true,
    });
    const done = getter.events.find((e) => e.event === 'done')!;
    expect(done).toMatchObject({ downloaded: 2_200_001, resumed: 0 });
    expect(events.indexOf('stopped')).toBeGreaterThan(events.indexOf('done'));
    expect(await sha256File(join(out, 'album', 'a.bin'))).toBe(hashA);
    expect(await sha256File(join(out, 'album', 'disc', 'b.bin'))).toBe(hashB);
    // The fetched info dictionary and the routing table are kept in the state directory.
    const saved = await readFile(join(dir, 'get-state', 'torrents', `${torrent.infoHash}.torrent`));
    expect(saved.subarray(0, 7).toString()).toBe('d4:info');
    const table = JSON.parse(await readFile(join(dir, 'get-state', 'dht.json'), 'utf8')) as {
      nodes: unknown[];
    };
    expect(table.nodes.length).toBeGreaterThan(0);

    // Run again without --bootstrap: the saved routing table is enough to find the seeder.
    const again = harness.spawn([
      'get',
      magnet,
      '--out',
      join(dir, 'download2'),
      '--host',
      '127.0.0.1',
      '--state-dir',
      join(dir, 'get-state'),
      '--exit-when-done',
      '--json',
    ]);
    expect((await again.exited).code, again.stderr).toBe(0);
    expect(Number(again.events.find((e) => e.event === 'dht-ready')?.nodes)).toBeGreaterThan(0);
    expect(again.events.find((e) => e.event === 'metadata')).toMatchObject({ fetched: false });
    expect(await sha256File(join(dir, 'download2', 'album', 'disc', 'b.bin'))).toBe(hashB);

    // The seeder served it, and stops cleanly on SIGTERM too.
    const stop = await seeder.stop('SIGTERM');
    expect(stop.code).toBe(0);
    const stopped = seeder.events.find((e) => e.event === 'stopped')!;
    expect(Number(stopped.uploaded)).toBeGreaterThanOrEqual(2 * 2_200_001);
    expect((await dht.stop('SIGINT')).code).toBe(0);
  });
});

describe('share again', () => {
  it('reuses the torrent made for unchanged files instead of hashing them again', async () => {
    const dir = await harness.tempDir();
    const file = join(dir, 'big.bin');
    await randomFile(file, 300_000);
    const args = [
      'share',
      file,
      '--no-dht',
      '--host',
      '127.0.0.1',
      '--state-dir',
      join(dir, 'state'),
      '--json',
    ];
    const first = harness.spawn(args);
    const hash1 = (await first.waitForEvent('torrent', 20_000)).infoHash;
    expect((await first.stop('SIGINT')).code).toBe(0);

    // Same size and modification time, different bytes: a re-hash would give another info-hash.
    const { stat, utimes, writeFile } = await import('node:fs/promises');
    const before = await stat(file);
    await writeFile(file, Buffer.alloc(300_000, 1));
    await utimes(file, before.atime, before.mtime);
    const second = harness.spawn(args);
    expect((await second.waitForEvent('torrent', 20_000)).infoHash).toBe(hash1);
    expect(await second.waitForEvent('resumed', 20_000)).toMatchObject({
      verified: 19,
      pieces: 19,
    });
    expect((await second.stop('SIGINT')).code).toBe(0);

    // A changed modification time: hashed again.
    await utimes(file, before.atime, new Date(before.mtimeMs + 5_000));
    const third = harness.spawn(args);
    expect((await third.waitForEvent('torrent', 20_000)).infoHash).not.toBe(hash1);
    expect((await third.stop('SIGINT')).code).toBe(0);
  });
});

describe('without --json', () => {
  it('share prints the magnet link alone on stdout and its log on stderr', async () => {
    const dir = await harness.tempDir();
    await randomFile(join(dir, 'note.txt'), 1000);
    const seeder = harness.spawn([
      'share',
      join(dir, 'note.txt'),
      '--no-dht',
      '--host',
      '127.0.0.1',
      '--state-dir',
      join(dir, 'state'),
    ]);
    for (let i = 0; i < 200 && seeder.otherLines.length === 0; i++)
      await new Promise((r) => setTimeout(r, 50));
    expect(seeder.otherLines[0]).toMatch(/^magnet:\?xt=urn:btih:[0-9a-f]{40}&dn=note\.txt$/);
    expect((await seeder.stop('SIGINT')).code).toBe(0);
    expect(seeder.stderr).toContain('listening on TCP 127.0.0.1:');
    expect(seeder.stderr).toContain('stopping: closing connections');
  });
});

describe('two terminals (the README walk-through)', () => {
  it('get bootstraps from the sharer’s own DHT port and downloads', async () => {
    const dir = await harness.tempDir();
    const hash = await randomFile(join(dir, 'holiday.bin'), 900_000);
    const seeder = harness.spawn([
      'share',
      join(dir, 'holiday.bin'),
      '--host',
      '127.0.0.1',
      '--state-dir',
      join(dir, 'one'),
      '--json',
    ]);
    const { dhtPort } = await seeder.waitForEvent('listening', 20_000);
    const { magnet } = await seeder.waitForEvent('torrent', 20_000);
    const getter = harness.spawn([
      'get',
      String(magnet),
      '--bootstrap',
      `127.0.0.1:${dhtPort}`,
      '--host',
      '127.0.0.1',
      '--out',
      join(dir, 'downloads'),
      '--state-dir',
      join(dir, 'two'),
      '--exit-when-done',
      '--json',
    ]);
    expect((await getter.exited).code, getter.stderr).toBe(0);
    expect(await sha256File(join(dir, 'downloads', 'holiday.bin'))).toBe(hash);
    expect((await seeder.stop('SIGINT')).code).toBe(0);
  });
});
