/**
 * BitTorrent v2 (BEP 52) in peerkit-share: `create --v2` / `--hybrid` (library and CLI), and a
 * v2-only torrent shared with `--torrent` and fetched by its btmh magnet (metadata by BEP 9,
 * piece layers by BEP 52 hash requests), no longer refused.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseTorrent } from '@peerkit/piece-exchange';
import { afterEach, describe, expect, it } from 'vitest';
import { createTorrentFile } from '../src/commands/create';
import { runGet } from '../src/commands/get';
import { describeTarget } from '../src/commands/info';
import { runShare } from '../src/commands/share';
import { openStateDir } from '../src/state-dir';
import { Harness, randomFile, sha256 } from './helpers';

const harness = new Harness();
afterEach(() => harness.cleanup());

describe('create --v2 / --hybrid', () => {
  it('writes v2-only and hybrid torrents that info describes', async () => {
    const dir = await harness.tempDir();
    await mkdir(join(dir, 'set'), { recursive: true });
    await randomFile(join(dir, 'set', 'a.bin'), 50_000);
    await randomFile(join(dir, 'set', 'b.bin'), 20_000);
    for (const version of ['v2', 'hybrid'] as const) {
      const out = join(dir, `${version}.torrent`);
      const made = await createTorrentFile({
        path: join(dir, 'set'),
        out,
        pieceLength: 16_384,
        version,
        creationDate: null,
      });
      const parsed = parseTorrent(await readFile(out));
      expect(parsed.version).toBe(version);
      expect(parsed.infoHashV2).toEqual(made.metainfo.infoHashV2);
      const v2hex = Buffer.from(parsed.infoHashV2!).toString('hex');
      expect(made.magnet).toContain(`xt=urn:btmh:1220${v2hex}`);
      // Each file starts a piece: a hybrid has BEP 47 pad files after a.bin (50 000 bytes) and
      // b.bin (20 000) in its v1 `files`; a v2 torrent's piece space has the same gaps.
      const pads = parsed.files.filter((f) => f.padding).map((f) => f.length);
      expect(pads).toEqual([15_536, 12_768]);
      const v1Files = (parsed.raw.info as { files?: unknown[] }).files;
      expect(v1Files?.length).toBe(version === 'hybrid' ? 4 : undefined);
      const summary = await describeTarget(out);
      expect(summary).toMatchObject({ version, infoHashV2: v2hex });
      expect(summary.files.map((f) => f.path)).toEqual(['set/a.bin', 'set/b.bin']);
    }
  });

  it('the CLI takes --v2 and --hybrid', async () => {
    const dir = await harness.tempDir();
    await randomFile(join(dir, 'song.ogg'), 100_000);
    const cli = harness.spawn(['create', 'song.ogg', '--hybrid', '--json'], dir);
    expect((await cli.exited).code).toBe(0);
    const parsed = parseTorrent(await readFile(join(dir, 'song.ogg.torrent')));
    expect(parsed.version).toBe('hybrid');
    expect(cli.events.filter((e) => e.event === 'created')).toEqual([
      expect.objectContaining({
        infoHash: Buffer.from(parsed.infoHash!).toString('hex'),
        infoHashV2: Buffer.from(parsed.infoHashV2!).toString('hex'),
      }),
    ]);
  });
});

describe('v2-only share and get', () => {
  it('shares a v2-only torrent and fetches it by its btmh magnet', async () => {
    const dir = await harness.tempDir();
    await mkdir(join(dir, 'seed', 'set'), { recursive: true });
    const hashA = await randomFile(join(dir, 'seed', 'set', 'one.bin'), 80_000);
    const hashB = await randomFile(join(dir, 'seed', 'set', 'two.bin'), 70_000);
    const torrentFile = join(dir, 'set.torrent');
    const made = await createTorrentFile({
      path: join(dir, 'seed', 'set'),
      out: torrentFile,
      pieceLength: 16_384,
      version: 'v2',
    });
    expect(made.magnet).not.toContain('btih');
    const seeder = await runShare({
      path: join(dir, 'seed', 'set'),
      torrentFile,
      state: await openStateDir(join(dir, 'seed-state')),
      host: '127.0.0.1',
      dht: false,
    });
    expect(seeder.torrent.done).toBe(true);
    const getter = await runGet({
      target: made.magnet,
      out: join(dir, 'out'),
      state: await openStateDir(join(dir, 'get-state')),
      host: '127.0.0.1',
      dht: false,
      peers: [seeder.address],
    });
    await getter.whenDone();
    expect(getter.torrent.info?.v2?.version).toBe('v2');
    await getter.close();
    await seeder.close();
    expect(sha256(await readFile(join(dir, 'out', 'set', 'one.bin')))).toBe(hashA);
    expect(sha256(await readFile(join(dir, 'out', 'set', 'two.bin')))).toBe(hashB);
  });
});
