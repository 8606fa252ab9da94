/**
 * "Verified" means checked (issue #14), model-based (`fc.commands`) on a real disk: a torrent's
 * files are opened, partly downloaded, saved, closed or crashed, and between sessions someone
 * writes into them, cuts them, or puts a symbolic link (to a file outside) where one was. After
 * every open, each piece counted as verified really matches on disk (whatever resume data said),
 * an open fails exactly while a link is in the way, and nothing outside the directory changes.
 *
 * Another process's write changes the file's modification time; file systems keep it at a coarse
 * granularity (a few ms), so the tamper commands move it forward explicitly, as a later write
 * would. A write within the same tick as our last save, leaving the size unchanged, is not
 * detected (as with libtorrent): see the README.
 */
import { createHash } from 'node:crypto';
import {
  lstat,
  mkdir,
  mkdtemp,
  open,
  readFile,
  rm,
  stat,
  symlink,
  truncate,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Bitfield } from '../src/bitfield';
import { nodeFileSystem } from '../src/storage/file-system';
import { FileLayout } from '../src/storage/layout';
import { PieceStore } from '../src/storage/piece-store';
import { saveResume } from '../src/storage/resume';
import { verifiedAtStart } from '../src/storage/start';
import { StorageError } from '../src/storage/storage-error';
import { content } from './fixtures';

const PIECE = 16_384;
const LENGTHS = [40_000, 0, 30_000];
const PATHS = [
  ['t', 'a.bin'],
  ['t', 'empty'],
  ['t', 'sub', 'b.bin'],
];

interface Model {
  /** Files replaced by a symbolic link (an open must fail while any is). */
  linked: Set<number>;
  open: boolean;
}

interface Real {
  root: string;
  outside: string;
  resume: string;
  layout: FileLayout;
  data: Uint8Array;
  hashes: Uint8Array;
  store: PieceStore | undefined;
  have: Bitfield | undefined;
  /** Seconds added to modification times by tampering (each tamper is "later"). */
  clock: number;
  outsideBefore: string;
}

type Command = fc.AsyncCommand<Model, Real>;

const fs = nodeFileSystem();
const filePath = (r: Real, i: number) => join(r.root, ...PATHS[i]!);

async function outsideHash(r: Real): Promise<string> {
  return createHash('sha1')
    .update(await readFile(join(r.outside, 'secret.bin')))
    .digest('hex');
}

/** Moves the file's modification time forward, as a later write by someone else would. */
async function later(r: Real, path: string): Promise<void> {
  r.clock += 10;
  const s = await stat(path);
  await utimes(path, s.atime, new Date(s.mtimeMs + r.clock * 1000));
}

class Open implements Command {
  check = () => true;
  async run(m: Model, r: Real) {
    if (r.store !== undefined) {
      await saveResume(fs, r.resume, new Uint8Array(20), r.have!, r.store);
      await r.store.close();
    }
    r.store = new PieceStore({ fs, directory: r.root, layout: r.layout, pieceHashes: r.hashes });
    try {
      r.have = await verifiedAtStart(fs, r.resume, new Uint8Array(20), r.store);
      m.open = true;
    } catch (error) {
      await r.store.close();
      r.store = undefined;
      r.have = undefined;
      m.open = false;
      expect(error).toBeInstanceOf(StorageError);
      expect((error as StorageError).code).toBe('UNSAFE_PATH');
      expect(m.linked.size).toBeGreaterThan(0);
      return;
    }
    expect(m.linked.size).toBe(0);
    // Every piece counted as verified matches on disk.
    for (const piece of r.have.indices()) {
      const start = piece * PIECE;
      const want = r.data.subarray(start, start + r.layout.pieceSize(piece));
      const got = new Uint8Array(want.length);
      for (const s of r.layout.segments(piece, 0, want.length)) {
        const bytes = await readFile(filePath(r, s.file));
        got.set(bytes.subarray(s.position, s.position + s.length), s.at);
      }
      expect(Buffer.compare(got, want), `piece ${piece}`).toBe(0);
    }
    expect(await outsideHash(r)).toBe(r.outsideBefore);
  }
  toString = () => 'open';
}

class Download implements Command {
  constructor(readonly count: number) {}
  check = (m: Readonly<Model>) => m.open;
  async run(_m: Model, r: Real) {
    let left = this.count;
    for (let p = 0; p < r.layout.pieceCount && left > 0; p++) {
      if (r.have!.has(p)) continue;
      const size = r.layout.pieceSize(p);
      const check = await r.store!.writeBlock(p, 0, r.data.slice(p * PIECE, p * PIECE + size));
      expect(check?.ok).toBe(true);
      r.have!.set(p);
      left--;
    }
  }
  toString = () => `download ${this.count}`;
}

class Save implements Command {
  check = (m: Readonly<Model>) => m.open;
  async run(_m: Model, r: Real) {
    await saveResume(fs, r.resume, new Uint8Array(20), r.have!, r.store!);
  }
  toString = () => 'save';
}

/** A clean stop: resume data saved, files closed. */
class Close implements Command {
  check = (m: Readonly<Model>) => m.open;
  async run(m: Model, r: Real) {
    await saveResume(fs, r.resume, new Uint8Array(20), r.have!, r.store!);
    await r.store!.close();
    r.store = undefined;
    r.have = undefined;
    m.open = false;
  }
  toString = () => 'close';
}

class Crash implements Command {
  check = (m: Readonly<Model>) => m.open;
  async run(m: Model, r: Real) {
    await r.store!.abandon();
    r.store = undefined;
    r.have = undefined;
    m.open = false;
  }
  toString = () => 'crash';
}

/** Someone writes a byte into a file between sessions. */
class Tamper implements Command {
  constructor(
    readonly file: number,
    readonly at: number,
  ) {}
  check = (m: Readonly<Model>) => !m.open && !m.linked.has(this.file);
  async run(_m: Model, r: Real) {
    const path = filePath(r, this.file);
    const s = await lstat(path).catch(() => undefined);
    if (s === undefined || s.size === 0) return;
    const h = await open(path, 'r+');
    const at = this.at % s.size;
    const byte = Buffer.alloc(1);
    await h.read(byte, 0, 1, at);
    byte[0] = byte[0]! ^ 0xff;
    await h.write(byte, 0, 1, at);
    await h.close();
    await later(r, path);
  }
  toString = () => `tamper ${this.file}@${this.at}`;
}

class Cut implements Command {
  constructor(
    readonly file: number,
    readonly to: number,
  ) {}
  check = (m: Readonly<Model>) => !m.open && !m.linked.has(this.file);
  async run(_m: Model, r: Real) {
    const path = filePath(r, this.file);
    const s = await lstat(path).catch(() => undefined);
    if (s === undefined) return;
    await truncate(path, Math.min(s.size, this.to));
    await later(r, path);
  }
  toString = () => `cut ${this.file} to ${this.to}`;
}

/** A symbolic link to a file outside replaces one of the torrent's files. */
class Link implements Command {
  constructor(readonly file: number) {}
  check = (m: Readonly<Model>) => !m.open && !m.linked.has(this.file);
  async run(m: Model, r: Real) {
    const path = filePath(r, this.file);
    await rm(path, { force: true });
    await mkdir(join(path, '..'), { recursive: true });
    await symlink(join(r.outside, 'secret.bin'), path);
    m.linked.add(this.file);
  }
  toString = () => `link ${this.file}`;
}

class Unlink implements Command {
  constructor(readonly file: number) {}
  check = (m: Readonly<Model>) => !m.open && m.linked.has(this.file);
  async run(m: Model, r: Real) {
    await rm(filePath(r, this.file));
    m.linked.delete(this.file);
  }
  toString = () => `unlink ${this.file}`;
}

const download = fc.integer({ min: 1, max: 3 }).map((n) => new Download(n));
const tamper = fc.tuple(fc.nat(2), fc.nat(50_000)).map(([f, at]) => new Tamper(f, at));
// Downloads, stops and tampering come up more often than the rest.
const commands = [
  fc.constant(new Open()),
  download,
  download,
  fc.constant(new Save()),
  fc.constant(new Close()),
  fc.constant(new Close()),
  fc.constant(new Crash()),
  tamper,
  tamper,
  fc.tuple(fc.nat(2), fc.nat(50_000)).map(([f, to]) => new Cut(f, to)),
  fc.nat(2).map((f) => new Link(f)),
  fc.nat(2).map((f) => new Unlink(f)),
];

/** Runs `commands` between two opens on a fresh directory under `dir`. */
async function runScenario(dir: string, seed: number, commands: Iterable<Command>): Promise<void> {
  const layout = new FileLayout(
    PATHS.map((path, i) => ({ path, length: LENGTHS[i]! })),
    PIECE,
  );
  const data = content(layout.totalLength, seed);
  const hashes = new Uint8Array(layout.pieceCount * 20);
  for (let p = 0; p < layout.pieceCount; p++)
    hashes.set(
      createHash('sha1')
        .update(data.subarray(p * PIECE, (p + 1) * PIECE))
        .digest(),
      p * 20,
    );
  const outside = join(dir, 'outside');
  await mkdir(outside, { recursive: true });
  await writeFile(join(outside, 'secret.bin'), content(50_000, seed + 1));
  const real: Real = {
    root: join(dir, 'root'),
    outside,
    resume: join(dir, 'state', 'x.resume'),
    layout,
    data,
    hashes,
    store: undefined,
    have: undefined,
    clock: 0,
    outsideBefore: '',
  };
  real.outsideBefore = await outsideHash(real);
  try {
    await fc.asyncModelRun(
      () => ({ model: { linked: new Set<number>(), open: false }, real }),
      [new Open(), ...commands, new Open()],
    );
  } finally {
    await real.store?.close();
  }
}

describe('resume data is trusted only for unchanged files (model-based)', () => {
  it('a byte changed between sessions (a later write) is hashed again, not taken from resume data', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'peerkit-resume-model-'));
    try {
      await runScenario(dir, 7, [new Download(3), new Close(), new Tamper(0, 100)]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('after any sequence of sessions, crashes and tampering, every verified piece matches on disk', async () => {
    const base = await mkdtemp(join(tmpdir(), 'peerkit-resume-model-'));
    let run = 0;
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.commands(commands, { maxCommands: 25 }),
          fc.integer({ min: 1, max: 1000 }),
          async (cmds, seed) => {
            const dir = join(base, String(run++));
            try {
              await runScenario(dir, seed, cmds);
            } finally {
              await rm(dir, { recursive: true, force: true });
            }
          },
        ),
        { numRuns: 100 },
      );
    } finally {
      await rm(base, { recursive: true, force: true });
    }
  }, 120_000);
});
