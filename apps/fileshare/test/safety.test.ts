/**
 * Your files (issue #14), `get`: what `peerkit-share get` does to what is already on disk, with
 * real files and real processes (the built CLI against a loopback seeder). Each case names the
 * finding of the issue it covers; every one of them fails on the build before the fix.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, open, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { diskName, parseTorrent, requireV1 } from '@peerkit/piece-exchange';
import { afterEach, describe, expect, it } from 'vitest';
import { sha256, sha256File } from './helpers';
import { bytes, type CraftedTorrent, craftTorrent, snapshotTree } from './safety-helpers';
import { canMount, exitOf, expectOneLineFailure, SafetyKit, single } from './safety-kit';

const kit = new SafetyKit();
afterEach(() => kit.cleanup());

describe('your files (issue #14): get', () => {
  it('an existing file that is not the torrent’s data is never overwritten; --overwrite replaces it exactly', async () => {
    // Found: an existing file overwritten without truncating it, old tail left, "verified".
    const t = single('report.pdf', 100_000, 1);
    const s = await kit.setup(t);
    const precious = bytes(250_000, 99);
    await writeFile(join(s.out, 'report.pdf'), precious);
    await expectOneLineFailure(kit.get(s), /report\.pdf already exists .*--overwrite/);
    expect(sha256(await readFile(join(s.out, 'report.pdf')))).toBe(sha256(precious));
    // A shorter file with no matching piece is refused as well.
    await writeFile(join(s.out, 'report.pdf'), precious.subarray(0, 20_000));
    await expectOneLineFailure(kit.get(s), /not this torrent's data/);
    expect((await stat(join(s.out, 'report.pdf'))).size).toBe(20_000);
    // By magnet link: the same refusal once the info dictionary is fetched (BEP 9).
    const hex = Buffer.from(requireV1(parseTorrent(t.bytes)).infoHash).toString('hex');
    const byMagnet = kit.harness.spawn([
      'get',
      `magnet:?xt=urn:btih:${hex}`,
      '--peer',
      `127.0.0.1:${s.port}`,
      '--no-dht',
      '--host',
      '127.0.0.1',
      '--out',
      s.out,
      '--state-dir',
      join(s.dir, 'magnet-state'),
      '--exit-when-done',
      '--json',
    ]);
    await expectOneLineFailure(byMagnet, /report\.pdf already exists .*--overwrite/);
    expect((await stat(join(s.out, 'report.pdf'))).size).toBe(20_000);

    // Asked for: overwritten, and the file ends exactly at the torrent's length.
    await writeFile(join(s.out, 'report.pdf'), precious);
    const forced = kit.get(s, ['--overwrite']);
    expect(await exitOf(forced), forced.stderr).toBe(0);
    const got = await readFile(join(s.out, 'report.pdf'));
    expect(got.length).toBe(100_000);
    expect(sha256(got)).toBe(sha256(t.data));
  });

  it('a second torrent with the same name does not overwrite a finished download', async () => {
    // Found: a second torrent with the same name silently overwrites a finished download.
    const first = single('movie.mkv', 80_000, 2);
    const a = await kit.setup(first);
    expect(await exitOf(kit.get(a))).toBe(0);
    const path = join(a.out, 'movie.mkv');
    expect(sha256(await readFile(path))).toBe(sha256(first.data));

    const other = single('movie.mkv', 80_000, 3);
    const b = await kit.setup(other);
    await expectOneLineFailure(
      kit.get(b, [], b.state, a.out),
      /movie\.mkv already exists and is not this torrent's data/,
    );
    expect(sha256(await readFile(path))).toBe(sha256(first.data));
  });

  it('a second get of the same files is refused at once, naming the first process', async () => {
    // Found: two gets into one directory interleave their pieces and both exit 0.
    const t = single('big.iso', 1_000_000, 4);
    const s = await kit.setup(t, 64 * 1024);
    const first = kit.get(s);
    await first.waitForEvent('piece', 20_000);
    // Another state directory: the lock next to the files refuses it.
    const second = kit.get(s, [], join(s.dir, 'state-2'));
    await expectOneLineFailure(second, new RegExp(`in use by process ${first.pid}\\b`));
    // The same state directory: the torrent's lock refuses it.
    const third = kit.get(s, [], s.state, join(s.dir, 'elsewhere'));
    await expectOneLineFailure(third, new RegExp(`in use by process ${first.pid}\\b`));
    expect(first.running).toBe(true);
    await first.stop('SIGINT');
  });

  it('a file changed after its download is checked again: resume data is not trusted for it', async () => {
    // Found: a re-run trusts its resume data and prints "verified (0 B downloaded)".
    const t = single('data.bin', 200_000, 5);
    const s = await kit.setup(t);
    expect(await exitOf(kit.get(s))).toBe(0);
    const path = join(s.out, 'data.bin');
    // Someone else writes into the middle of the file (same size).
    const handle = await open(path, 'r+');
    await handle.write(Buffer.alloc(1000, 0x55), 0, 1000, 50_000);
    await handle.close();
    const again = kit.get(s);
    expect(await exitOf(again), again.stderr).toBe(0);
    const done = again.events.find((e) => e.event === 'done');
    expect(Number(done?.downloaded)).toBeGreaterThan(0);
    expect(sha256(await readFile(path))).toBe(sha256(t.data));
  });

  it('a symbolic link in the download directory is never followed (file, directory, dangling, inside)', async () => {
    // Found: writes through a symlink already in the output directory, still "verified".
    const file = single('notes.txt', 40_000, 6);
    const folder = craftTorrent('album', [
      { path: ['a.bin'], data: bytes(30_000, 7) },
      { path: ['sub', 'b.bin'], data: bytes(30_000, 8) },
    ]);
    const cases: {
      torrent: CraftedTorrent;
      plant: (out: string, outside: string) => Promise<void>;
    }[] = [
      {
        torrent: file,
        plant: (out, outside) => symlink(join(outside, 'secret.txt'), join(out, 'notes.txt')),
      },
      { torrent: folder, plant: (out, outside) => symlink(outside, join(out, 'album')) },
      {
        torrent: file,
        plant: (out, outside) => symlink(join(outside, 'new.txt'), join(out, 'notes.txt')),
      },
      {
        torrent: folder,
        plant: async (out, outside) => {
          await mkdir(join(out, 'album'));
          await symlink(outside, join(out, 'album', 'sub'));
        },
      },
    ];
    for (const c of cases) {
      const s = await kit.setup(c.torrent);
      const outside = join(s.dir, 'outside');
      await mkdir(outside);
      await writeFile(join(outside, 'secret.txt'), 'do not touch\n');
      await c.plant(s.out, outside);
      const before = await snapshotTree(outside);
      await expectOneLineFailure(kit.get(s), /is a symbolic link: refusing to write through it/);
      expect(await snapshotTree(outside)).toEqual(before);
      expect(existsSync(join(outside, 'new.txt'))).toBe(false);
    }
  });

  it('zero-length files of a multi-file torrent are created, in their directories', async () => {
    // Found: zero-length files of a multi-file torrent never created.
    const t = craftTorrent('set', [
      { path: ['a.bin'], data: bytes(50_000, 9) },
      { path: ['empty.txt'], data: new Uint8Array(0) },
      { path: ['deep', 'er', 'empty2'], data: new Uint8Array(0) },
      { path: ['b.bin'], data: bytes(30_000, 10) },
    ]);
    const s = await kit.setup(t);
    const p = kit.get(s);
    expect(await exitOf(p), p.stderr).toBe(0);
    expect((await stat(join(s.out, 'set', 'empty.txt'))).size).toBe(0);
    expect((await stat(join(s.out, 'set', 'deep', 'er', 'empty2'))).size).toBe(0);
    expect(await sha256File(join(s.out, 'set', 'b.bin'))).toBe(sha256(t.data.subarray(50_000)));
  });

  it('an unwritable download directory fails with one line (root included)', async () => {
    // Found: loops for ever on an unwritable output directory.
    const t = single('x.bin', 40_000, 11);
    const s = await kit.setup(t);
    // sysfs refuses new files even to root.
    if (existsSync('/sys/kernel')) {
      await expectOneLineFailure(kit.get(s, [], s.state, '/sys/kernel'), /cannot create .*x\.bin/);
    }
    // A path under a regular file.
    await writeFile(join(s.dir, 'plain'), 'x');
    await expectOneLineFailure(kit.get(s, [], s.state, join(s.dir, 'plain', 'sub')), /cannot/);
    if (canMount()) {
      const ro = join(s.dir, 'ro');
      await kit.mountTmpfs(ro, 'size=1m,ro');
      await expectOneLineFailure(kit.get(s, [], s.state, ro), /read-only file system/);
    }
  });

  it('a file/directory conflict in the layout, even one made by name sanitising, fails with one line', async () => {
    // Found: loops for ever on a file/directory conflict, including one sanitising creates.
    const conflicts = [
      craftTorrent('pack', [
        { path: ['x'], data: bytes(10_000, 12) },
        { path: ['x', 'y'], data: bytes(10_000, 13) },
      ]),
      // "x/" loses its slash when sanitised: the same "x", file and directory.
      craftTorrent('pack', [
        { path: ['x'], data: bytes(10_000, 14) },
        { path: ['x/', 'y'], data: bytes(10_000, 15) },
      ]),
    ];
    for (const t of conflicts) {
      const s = await kit.setup(t, undefined, false);
      await expectOneLineFailure(kit.get(s), /"pack\/x" is both a file and a directory/);
    }
    // Names that differ only in case are one file on macOS and Windows: refused everywhere.
    const cased = craftTorrent('docs', [
      { path: ['Readme'], data: bytes(10_000, 16) },
      { path: ['README'], data: bytes(10_000, 17) },
    ]);
    const s = await kit.setup(cased, undefined, false);
    await expectOneLineFailure(kit.get(s), /same file name on macOS and Windows/);
    expect(await readdir(s.out)).toEqual([]);
  });

  it('a name longer than 255 bytes is shortened on a code point boundary, keeping its extension', async () => {
    // Found: loops for ever on a name of 100 emoji or 239 accented letters.
    for (const [name, seed] of [
      [`${'😀'.repeat(100)}.txt`, 18],
      [`${'é'.repeat(239)}.bin`, 19],
    ] as const) {
      const t = single(name, 30_000, seed);
      const s = await kit.setup(t);
      const p = kit.get(s);
      expect(await exitOf(p), p.stderr).toBe(0);
      const [stored] = await readdir(s.out);
      expect(stored).toBe(diskName(name, 'posix'));
      expect(Buffer.byteLength(stored!)).toBeLessThanOrEqual(255);
      expect(stored!.endsWith(name.slice(-4))).toBe(true);
      expect(await sha256File(join(s.out, stored!))).toBe(sha256(t.data));
      const done = p.events.find((e) => e.event === 'done');
      expect(done?.path).toBe(join(s.out, stored!));
    }
  });

  it.skipIf(!canMount())(
    'a full disk ends get with one line; the same command resumes once there is space',
    async () => {
      // Found: loops for ever on a full disk (and does not resume when space returns).
      const t = single('huge.bin', 2_000_000, 20);
      // 512 KiB/s: pieces are verified and recorded before the disk is full.
      const s = await kit.setup(t, 512 * 1024);
      const small = join(s.dir, 'small');
      await kit.mountTmpfs(small, 'size=512k');
      await expectOneLineFailure(kit.get(s, [], s.state, small), /no space left on device/);
      execFileSync('mount', ['-o', 'remount,size=8m', small]);
      const again = kit.get(s, [], s.state, small);
      expect(await exitOf(again), again.stderr).toBe(0);
      const resumed = again.events.find((e) => e.event === 'resumed');
      expect(Number(resumed?.verified)).toBeGreaterThan(0);
      expect(await sha256File(join(small, 'huge.bin'))).toBe(sha256(t.data));
    },
  );
});
