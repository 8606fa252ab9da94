/** `create` and `info`, in-process and through the built CLI. */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseTorrentV1 } from '@peerkit/piece-exchange';
import { afterEach, describe, expect, it } from 'vitest';
import { createTorrentFile } from '../src/commands/create';
import { describeTarget, formatSummary } from '../src/commands/info';
import { formatBytes } from '../src/report';
import { Harness } from './helpers';

const harness = new Harness();
afterEach(() => harness.cleanup());

describe('create', () => {
  it('writes a multi-file torrent with trackers and the requested piece length', async () => {
    const dir = await harness.tempDir();
    await mkdir(join(dir, 'docs', 'sub'), { recursive: true });
    await writeFile(join(dir, 'docs', 'a.txt'), 'hello '.repeat(10_000));
    await writeFile(join(dir, 'docs', 'sub', 'b.txt'), 'world');
    const out = join(dir, 'docs.torrent');
    const made = await createTorrentFile({
      path: join(dir, 'docs'),
      out,
      pieceLength: 32_768,
      trackers: ['http://tracker.invalid/announce', 'udp://other.invalid:80'],
      comment: 'test',
    });
    const parsed = parseTorrentV1(await readFile(out));
    expect(parsed.infoHash).toEqual(made.metainfo.infoHash);
    expect(parsed.name).toBe('docs');
    expect(parsed.pieceLength).toBe(32_768);
    expect(parsed.files.map((f) => [f.path.join('/'), f.length])).toEqual([
      ['docs/a.txt', 60_000],
      ['docs/sub/b.txt', 5],
    ]);
    expect(parsed.announce).toEqual([
      ['http://tracker.invalid/announce'],
      ['udp://other.invalid:80'],
    ]);
    expect(parsed.comment).toBe('test');
    expect(made.magnet).toContain(`xt=urn:btih:${Buffer.from(parsed.infoHash).toString('hex')}`);
  });

  it('refuses a bad piece length and an empty file with one clear error', async () => {
    const dir = await harness.tempDir();
    await writeFile(join(dir, 'x.bin'), 'x');
    await expect(
      createTorrentFile({
        path: join(dir, 'x.bin'),
        out: join(dir, 'x.torrent'),
        pieceLength: 1000,
      }),
    ).rejects.toThrow(/piece length must be a power of two/);
    await writeFile(join(dir, 'empty.bin'), '');
    await expect(
      createTorrentFile({ path: join(dir, 'empty.bin'), out: join(dir, 'e.torrent') }),
    ).rejects.toMatchObject({
      code: 'INVALID_OPTION',
    });
  });
});

describe('info', () => {
  it('describes a torrent, a magnet and an info-hash', async () => {
    const dir = await harness.tempDir();
    await writeFile(join(dir, 'song.ogg'), Buffer.alloc(100_000, 3));
    const made = await createTorrentFile({
      path: join(dir, 'song.ogg'),
      out: join(dir, 'song.torrent'),
    });
    const hex = Buffer.from(made.metainfo.infoHash!).toString('hex');

    const summary = await describeTarget(join(dir, 'song.torrent'));
    expect(summary).toMatchObject({
      kind: 'torrent',
      name: 'song.ogg',
      infoHash: hex,
      length: 100_000,
      version: 'v1',
    });
    const text = formatSummary(summary, formatBytes).join('\n');
    expect(text).toContain(`info-hash:    ${hex}`);
    expect(text).toContain('pieces:       7 × 16.0 KiB');
    expect(text).toContain(`magnet:       magnet:?xt=urn:btih:${hex}&dn=song.ogg`);

    const magnet = await describeTarget(
      `magnet:?xt=urn:btih:${hex}&dn=song&tr=http%3A%2F%2Ft.invalid%2Fa&x.pe=127.0.0.1:6881`,
    );
    expect(magnet).toMatchObject({
      kind: 'magnet',
      name: 'song',
      infoHash: hex,
      trackers: ['http://t.invalid/a'],
      peers: ['127.0.0.1:6881'],
    });
    expect(await describeTarget(hex)).toMatchObject({ kind: 'magnet', infoHash: hex });

    // Through the CLI, as JSON: one `info` envelope.
    const cli = harness.spawn(['info', join(dir, 'song.torrent'), '--json']);
    expect((await cli.exited).code).toBe(0);
    expect(cli.otherLines).toEqual([]);
    expect(cli.events).toEqual([
      expect.objectContaining({ event: 'info', infoHash: hex, pieces: 7 }),
    ]);
  });
});

describe('create and info: what the issue found missing', () => {
  it('writes a creation date (unless --no-date), never overwrites without force, and info shows private, comment and creator', async () => {
    const dir = await harness.tempDir();
    await writeFile(join(dir, 'a.bin'), Buffer.alloc(40_000, 9));
    const out = join(dir, 'a.torrent');
    const before = Math.floor(Date.now() / 1000);
    await createTorrentFile({ path: join(dir, 'a.bin'), out, private: true, comment: 'hi there' });
    const metainfo = parseTorrentV1(await readFile(out));
    expect(metainfo.creationDate).toBeGreaterThanOrEqual(before);
    expect(metainfo.creationDate).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));

    const text = formatSummary(await describeTarget(out), formatBytes).join('\n');
    expect(text).toContain('private:      yes (BEP 27: no DHT, no PEX)');
    expect(text).toContain('comment:      hi there');
    expect(text).toContain('created by:   peerkit-share 0.1');
    expect(text).toMatch(/created: {6}\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/);

    const written = await readFile(out);
    await expect(createTorrentFile({ path: join(dir, 'a.bin'), out })).rejects.toMatchObject({
      code: 'EXISTS',
    });
    expect(await readFile(out)).toEqual(written);

    await createTorrentFile({ path: join(dir, 'a.bin'), out, creationDate: null, force: true });
    const plain = formatSummary(await describeTarget(out), formatBytes).join('\n');
    expect(parseTorrentV1(await readFile(out)).creationDate).toBeUndefined();
    expect(plain).toContain('private:      no');
    expect(plain).not.toMatch(/^created:/m);
  });
});
