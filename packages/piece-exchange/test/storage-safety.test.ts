/**
 * Storage's data-safety rules (issue #14), unit by unit: disk names, conflicts, resume data that
 * vouches only for unchanged files, the lock, disk errors through the file-system seam, and a
 * seeded piece re-verified after its file changed.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { link, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Bitfield } from '../src/bitfield';
import { diskName, diskPaths, MAX_NAME_BYTES } from '../src/storage/disk-paths';
import { type FileSystem, memoryFileSystem, nodeFileSystem } from '../src/storage/file-system';
import { FileLayout } from '../src/storage/layout';
import { acquireLock } from '../src/storage/lock';
import { PieceStore } from '../src/storage/piece-store';
import { decodeResumeData, encodeResume, saveResume } from '../src/storage/resume';
import { verifiedAtStart } from '../src/storage/start';
import { StorageError } from '../src/storage/storage-error';
import { content } from './fixtures';

const PIECE = 16_384;

function torrentOf(paths: string[][], lengths: number[]) {
  const layout = new FileLayout(
    paths.map((path, i) => ({ path, length: lengths[i]! })),
    PIECE,
  );
  const data = content(layout.totalLength, 5);
  const hashes = new Uint8Array(layout.pieceCount * 20);
  for (let p = 0; p < layout.pieceCount; p++)
    hashes.set(
      createHash('sha1')
        .update(data.subarray(p * PIECE, (p + 1) * PIECE))
        .digest(),
      p * 20,
    );
  return { layout, data, hashes };
}

function codeOf(error: unknown): string | undefined {
  return error instanceof StorageError ? error.code : undefined;
}

describe('disk names', () => {
  it('a name is at most 255 bytes of UTF-8, cut on a code point boundary, extension kept', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 400 }), fc.boolean(), (raw, ext) => {
        const name = ext ? `${raw}.mkv` : raw;
        const out = diskName(name, 'posix');
        const bytes = Buffer.byteLength(out);
        expect(bytes).toBeLessThanOrEqual(MAX_NAME_BYTES);
        // Well-formed: the UTF-8 round trip is exact (no half code point).
        expect(Buffer.from(out, 'utf8').toString('utf8')).toBe(out);
        if (Buffer.byteLength(name) <= MAX_NAME_BYTES) expect(out).toBe(name);
        else if (ext && raw.lastIndexOf('.') === -1) expect(out.endsWith('.mkv')).toBe(true);
      }),
      { numRuns: 500 },
    );
    expect(Buffer.byteLength(diskName(`${'😀'.repeat(100)}.txt`))).toBe(251 + 4 - 3);
    expect(diskName(`${'é'.repeat(239)}.bin`)).toBe(`${'é'.repeat(125)}.bin`);
  });

  it('Windows rules: forbidden characters, device names, trailing dots and spaces', () => {
    expect(diskName('a:b?c', 'win32')).toBe('a_b_c');
    expect(diskName('CON', 'win32')).toBe('_CON');
    expect(diskName('nul.txt', 'win32')).toBe('_nul.txt');
    expect(diskName('name.', 'win32')).toBe('name._');
    expect(diskName('CON', 'posix')).toBe('CON');
  });

  it('names that differ in case or normalisation, and file/directory clashes, are conflicts', () => {
    const conflict = (paths: string[][]) => {
      try {
        diskPaths(
          new FileLayout(
            paths.map((path) => ({ path, length: 1 })),
            PIECE,
          ),
          'posix',
        );
        return undefined;
      } catch (error) {
        return codeOf(error);
      }
    };
    expect(
      conflict([
        ['t', 'Read.me'],
        ['t', 'READ.ME'],
      ]),
    ).toBe('PATH_CONFLICT');
    expect(
      conflict([
        ['t', 'caf\u00e9'],
        ['t', 'cafe\u0301'],
      ]),
    ).toBe('PATH_CONFLICT');
    expect(
      conflict([
        ['t', 'x'],
        ['t', 'X', 'y'],
      ]),
    ).toBe('PATH_CONFLICT');
    expect(
      conflict([
        ['t', 'x', 'y'],
        ['t', 'x'],
      ]),
    ).toBe('PATH_CONFLICT');
    expect(
      conflict([
        ['t', 'x', 'y'],
        ['t', 'x', 'z'],
      ]),
    ).toBeUndefined();
    // Two names cut to the same 255 bytes collide as well.
    const long = 'n'.repeat(300);
    expect(
      conflict([
        ['t', `${long}1`],
        ['t', `${long}2`],
      ]),
    ).toBe('PATH_CONFLICT');
  });
});

describe('resume data vouches only for the files it recorded', () => {
  it('decoding is total: any bytes, and any corruption of valid data, give data or INVALID_RESUME', () => {
    const infoHash = new Uint8Array(20).fill(7);
    const valid = (n: number, files: number) =>
      encodeResume(infoHash, Bitfield.full(n), {
        directory: '/dl/é',
        stamps: Array.from({ length: files }, (_, i) =>
          i % 2 === 0 ? { size: i * 1000, mtimeNs: BigInt(i) * 10n ** 15n } : undefined,
        ),
      });
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.nat(5),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
        fc.uint8Array({ maxLength: 200 }),
        fc.boolean(),
        (n, files, flips, junk, useJunk) => {
          const bytes = useJunk ? junk : valid(n, files);
          for (const [at, value] of flips) if (bytes.length > 0) bytes[at % bytes.length] = value;
          try {
            const data = decodeResumeData(bytes, infoHash, n);
            expect(data.pieces.length).toBe(n);
          } catch (error) {
            expect(codeOf(error)).toBe('INVALID_RESUME');
          }
        },
      ),
      { numRuns: 2000 },
    );
    const data = decodeResumeData(valid(9, 3), infoHash, 9);
    expect(data.directory).toBe('/dl/é');
    expect(data.stamps).toEqual([
      { size: 0, mtimeNs: 0n },
      undefined,
      { size: 2000, mtimeNs: 2n * 10n ** 15n },
    ]);
  });

  it('a piece counts at start only while its files keep their recorded size and modification time', async () => {
    const { layout, data, hashes } = torrentOf(
      [
        ['t', 'a'],
        ['t', 'b'],
      ],
      [40_000, 30_000],
    );
    const fs = memoryFileSystem();
    const infoHash = new Uint8Array(20).fill(1);
    const open = () => new PieceStore({ fs, directory: '/d', layout, pieceHashes: hashes });
    const first = open();
    const have = await verifiedAtStart(fs, '/state/r', infoHash, first);
    for (let p = 0; p < layout.pieceCount; p++) {
      const check = await first.writeBlock(
        p,
        0,
        data.slice(p * PIECE, p * PIECE + layout.pieceSize(p)),
      );
      if (check?.ok) have.set(p);
    }
    await saveResume(fs, '/state/r', infoHash, have, first);
    await first.close();
    // Unchanged: everything from resume data, nothing hashed.
    const second = open();
    expect((await verifiedAtStart(fs, '/state/r', infoHash, second)).count).toBe(layout.pieceCount);
    await second.close();
    // File b changed behind our back (same size): its pieces are hashed again, a's are trusted.
    const b = fs.snapshot('/d/t/b')!;
    b[100] = b[100]! ^ 0xff;
    fs.put('/d/t/b', b);
    const third = open();
    const after = await verifiedAtStart(fs, '/state/r', infoHash, third);
    const bad = Math.floor((40_000 + 100) / PIECE);
    expect(after.has(bad)).toBe(false);
    expect(after.count).toBe(layout.pieceCount - 1);
    await third.close();
    // The same resume data for another directory says nothing about these files.
    const bytes = await fs.readFile('/state/r');
    fs.put('/d2/t/a', fs.snapshot('/d/t/a')!);
    fs.put('/state/r2', bytes!);
    const elsewhere = new PieceStore({ fs, directory: '/d2', layout, pieceHashes: hashes });
    const found = await verifiedAtStart(fs, '/state/r2', infoHash, elsewhere);
    // Only what was hashed: the pieces wholly inside a (b is missing there).
    expect(found.count).toBe(Math.floor(40_000 / PIECE));
    await elsewhere.close();
  });
});

describe('disk errors through the file-system seam', () => {
  it('a full disk is an IO_ERROR naming the file and ENOSPC; nothing counts as verified', async () => {
    const { layout, data, hashes } = torrentOf([['full.bin']], [50_000]);
    const base = memoryFileSystem();
    const full: FileSystem = {
      ...base,
      async open(path, mode) {
        const file = await base.open(path, mode);
        const fail = async () => {
          throw Object.assign(new Error('no space'), { code: 'ENOSPC' });
        };
        return { ...file, write: fail, writev: fail };
      },
    };
    const store = new PieceStore({ fs: full, directory: '/d', layout, pieceHashes: hashes });
    await verifiedAtStart(full, undefined, new Uint8Array(20), store);
    const error = await store.writeBlock(0, 0, data.slice(0, PIECE)).catch((e: unknown) => e);
    expect(codeOf(error)).toBe('IO_ERROR');
    expect(String((error as Error).message)).toBe(
      'cannot write /d/full.bin: no space left on device (ENOSPC)',
    );
    await store.close();
  });
});

describe('a seeder re-verifies a piece whose file changed', () => {
  it('a changed piece is not served and reported once; restored, it is served again', async () => {
    const { layout, data, hashes } = torrentOf([['s.bin']], [40_000]);
    const fs = memoryFileSystem();
    fs.put('/d/s.bin', data);
    const changed: number[] = [];
    const store = new PieceStore({
      fs,
      directory: '/d',
      layout,
      pieceHashes: hashes,
      onPieceChanged: (piece) => changed.push(piece),
    });
    const have = await verifiedAtStart(fs, undefined, new Uint8Array(20), store);
    expect(have.complete).toBe(true);
    expect(await store.readBlock(1, 0, 100)).toEqual(data.slice(PIECE, PIECE + 100));
    // Someone writes into the file in place (our open handle sees it, as on disk).
    const writer = await fs.open('/d/s.bin');
    await writer.write(new Uint8Array([data[PIECE + 5]! ^ 1]), PIECE + 5);
    for (let i = 0; i < 2; i++) {
      const error = await store.readBlock(1, 0, 100).catch((e: unknown) => e);
      expect(codeOf(error)).toBe('DATA_CHANGED');
    }
    expect(changed).toEqual([1]);
    // Pieces of the file that still match are served (after their own re-check).
    expect(await store.readBlock(0, 0, 10)).toEqual(data.slice(0, 10));
    await writer.write(data.subarray(PIECE + 5, PIECE + 6), PIECE + 5);
    await writer.close();
    expect(await store.readBlock(1, 0, 100)).toEqual(data.slice(PIECE, PIECE + 100));
    await store.close();
  });
});

describe('the lock', () => {
  it('refuses a second holder naming the process; a crashed holder’s lock is taken over', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'peerkit-lock-'));
    try {
      const path = join(dir, 'x.lock');
      const lock = await acquireLock(path, '/data/x');
      const error = await acquireLock(path, '/data/x').catch((e: unknown) => e);
      expect(codeOf(error)).toBe('LOCKED');
      expect(String((error as Error).message)).toMatch(
        new RegExp(`^/data/x is in use by process ${process.pid} .*this very process`),
      );
      await lock.release();
      expect(existsSync(path)).toBe(false);
      // A process that is gone (it ran and exited) left its lock behind.
      const gone = spawnSync(process.execPath, ['-e', 'console.log(process.pid)']);
      const pid = Number(String(gone.stdout).trim());
      await writeFile(
        path,
        JSON.stringify({
          pid,
          startedAt: 1,
          host: (await import('node:os')).hostname(),
          command: 'x',
        }),
      );
      const taken = await acquireLock(path, '/data/x');
      expect(JSON.parse(await readFile(path, 'utf8')).pid).toBe(process.pid);
      await taken.release();
      // A live PID whose process started at another time (the PID was reused after a crash)
      // does not hold the lock, where the start time can be read (Linux).
      if (process.platform === 'linux') {
        const host = (await import('node:os')).hostname();
        await writeFile(
          path,
          JSON.stringify({ pid: process.pid, startedAt: 1, host, command: 'x' }),
        );
        await (await acquireLock(path, '/data/x')).release();
      }
      // Garbage in the lock file is stale too.
      await writeFile(path, 'not json');
      await (await acquireLock(path, '/data/x')).release();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('links that lead outside, on a real disk', () => {
  it('a hard link is never written to (even with overwrite); complete, it is only read', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'peerkit-hardlink-'));
    try {
      const { layout, data, hashes } = torrentOf([['h.bin']], [40_000]);
      const root = join(dir, 'root');
      await mkdir(root);
      const outside = join(dir, 'outside.bin');
      // Partly this torrent's data (one piece), under another name outside the directory.
      const partial = Buffer.concat([data.subarray(0, PIECE), Buffer.alloc(40_000 - PIECE)]);
      await writeFile(outside, partial);
      await link(outside, join(root, 'h.bin'));
      const fs = nodeFileSystem();
      for (const existing of ['verify', 'overwrite'] as const) {
        const store = new PieceStore({ fs, directory: root, layout, pieceHashes: hashes });
        const error = await verifiedAtStart(fs, undefined, new Uint8Array(20), store, {
          existing,
        }).catch((e: unknown) => e);
        await store.close();
        expect(codeOf(error)).toBe('UNSAFE_PATH');
        expect(Buffer.compare(await readFile(outside), partial)).toBe(0);
      }
      // Complete: seeded as it is, nothing to write.
      await writeFile(outside, data);
      const store = new PieceStore({ fs, directory: root, layout, pieceHashes: hashes });
      const have = await verifiedAtStart(fs, undefined, new Uint8Array(20), store);
      expect(have.complete).toBe(true);
      await store.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('resume data inside the directory is not written through a symbolic link', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'peerkit-resume-link-'));
    try {
      const { layout, hashes } = torrentOf([['r.bin']], [20_000]);
      const root = join(dir, 'root');
      const outside = join(dir, 'outside');
      await mkdir(root);
      await mkdir(outside);
      await symlink(outside, join(root, '.peerkit'));
      const fs = nodeFileSystem();
      const store = new PieceStore({ fs, directory: root, layout, pieceHashes: hashes });
      const error = await verifiedAtStart(
        fs,
        join(root, '.peerkit', 'x.resume'),
        new Uint8Array(20),
        store,
      ).catch((e: unknown) => e);
      await store.close();
      expect(codeOf(error)).toBe('UNSAFE_PATH');
      expect(await readdir(outside)).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
