/**
 * A model-based test of the file layout on a real disk (issue #14): random torrents are opened
 * in a directory holding random pre-existing files, directories and symbolic links (to a file
 * outside, to a directory outside, dangling), and names that collide. A small model predicts,
 * from the layout and what is on disk, whether opening must succeed or which error comes first;
 * then every missing piece is written. Always: nothing outside the directory changes and no
 * pre-existing file is touched on a refusal; on success every file equals the torrent's data.
 */
import { createHash } from 'node:crypto';
import { lstat, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { foldName } from '../src/storage/disk-paths';
import { nodeFileSystem } from '../src/storage/file-system';
import { FileLayout } from '../src/storage/layout';
import { PieceStore } from '../src/storage/piece-store';
import { type ExistingFilePolicy, verifiedAtStart } from '../src/storage/start';
import { StorageError } from '../src/storage/storage-error';
import { content } from './fixtures';

const PIECE = 16_384;
const NAMES = ['a', 'A', 'b', 'c.txt', 'C.TXT'];

type PlantKind =
  | 'file-link'
  | 'dir-link'
  | 'dangling-link'
  | 'directory'
  | 'foreign'
  | 'own'
  | 'own-prefix'
  | 'own-longer';

interface Plant {
  file: number;
  /** How many path elements of that file (1 = the torrent's top name). */
  depth: number;
  kind: PlantKind;
}

interface Case {
  paths: string[][];
  lengths: number[];
  plants: Plant[];
  policy: ExistingFilePolicy;
  seed: number;
}

const caseArbitrary: fc.Arbitrary<Case> = fc
  .record({
    top: fc.constantFrom('t', 'T'),
    files: fc.array(
      fc.record({
        rest: fc.array(fc.constantFrom(...NAMES), { minLength: 1, maxLength: 2 }),
        length: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 40_000 })),
      }),
      { minLength: 1, maxLength: 4 },
    ),
    single: fc.boolean(),
    plants: fc.array(
      fc.record({
        file: fc.nat(3),
        depth: fc.integer({ min: 1, max: 3 }),
        kind: fc.constantFrom<PlantKind>(
          'file-link',
          'dir-link',
          'dangling-link',
          'directory',
          'foreign',
          'own',
          'own-prefix',
          'own-longer',
        ),
      }),
      { minLength: 1, maxLength: 4 },
    ),
    policy: fc.constantFrom<ExistingFilePolicy>('verify', 'overwrite'),
    seed: fc.integer({ min: 1, max: 1_000_000 }),
  })
  .map(({ top, files, single, plants, policy, seed }) => {
    const paths = single ? [[top]] : files.map((f) => [top, ...f.rest]);
    const lengths: number[] = single ? [Math.max(1, files[0]!.length)] : files.map((f) => f.length);
    if (!lengths.some((l) => l > 0)) lengths[0] = 1;
    const fixed = plants
      .filter((p) => p.file < paths.length)
      .map((p) => ({ ...p, depth: Math.min(p.depth, paths[p.file]!.length) }));
    return { paths, lengths, plants: fixed, policy, seed };
  });

async function entryType(path: string): Promise<'file' | 'dir' | 'link' | undefined> {
  try {
    const s = await lstat(path);
    return s.isSymbolicLink() ? 'link' : s.isDirectory() ? 'dir' : 'file';
  } catch {
    return undefined;
  }
}

/** Every entry under `dir`, links not followed: what it is and, for a file, its bytes' hash. */
async function snapshot(dir: string): Promise<Map<string, string>> {
  const { readdir, readlink } = await import('node:fs/promises');
  const out = new Map<string, string>();
  const walk = async (path: string, shown: string) => {
    const type = await entryType(path);
    if (type === 'link') out.set(shown, `link ${await readlink(path)}`);
    else if (type === 'file')
      out.set(
        shown,
        createHash('sha1')
          .update(await readFile(path))
          .digest('hex'),
      );
    else if (type === 'dir') {
      out.set(shown, 'dir');
      for (const name of await readdir(path)) await walk(join(path, name), `${shown}/${name}`);
    }
  };
  await walk(dir, '.');
  return out;
}

/** Creates the plants whose parents are plain directories (or missing), never through links. */
async function plant(root: string, outside: string, c: Case, data: Uint8Array, offsets: number[]) {
  for (const p of c.plants) {
    const elements = c.paths[p.file]!.slice(0, p.depth);
    let dir = root;
    let ok = true;
    for (const e of elements.slice(0, -1)) {
      dir = join(dir, e);
      const type = await entryType(dir);
      if (type === undefined) await mkdir(dir);
      else if (type !== 'dir') ok = false;
      if (!ok) break;
    }
    const path = join(root, ...elements);
    if (!ok || (await entryType(path)) !== undefined) continue;
    const full = p.depth === c.paths[p.file]!.length;
    const own = data.subarray(offsets[p.file]!, offsets[p.file]! + c.lengths[p.file]!);
    switch (p.kind) {
      case 'file-link':
        await symlink(join(outside, 'secret.txt'), path);
        break;
      case 'dir-link':
        await symlink(outside, path);
        break;
      case 'dangling-link':
        await symlink(join(outside, 'nothing-here'), path);
        break;
      case 'directory':
        await mkdir(path);
        break;
      case 'foreign':
        await writeFile(path, content(1 + ((p.file * 7919) % 30_000), c.seed + 17));
        break;
      case 'own':
        await writeFile(path, full ? own : content(100, c.seed + 3));
        break;
      case 'own-prefix':
        await writeFile(
          path,
          full ? own.subarray(0, Math.floor(own.length / 2)) : new Uint8Array(0),
        );
        break;
      case 'own-longer':
        await writeFile(path, full ? Buffer.concat([own, Buffer.from('tail')]) : own);
        break;
    }
  }
}

type Outcome = 'ok' | 'PATH_CONFLICT' | 'UNSAFE_PATH' | 'FILE_EXISTS';

/** The model: what opening must do, from the layout and the entries on disk before it. */
async function predict(
  root: string,
  c: Case,
  data: Uint8Array,
  offsets: number[],
): Promise<Outcome> {
  // 1. Names that collide (letter case, file and directory).
  const kinds = new Map<string, boolean>();
  for (const path of c.paths) {
    for (let d = 1; d <= path.length; d++) {
      const key = path.slice(0, d).map(foldName).join('/');
      const file = d === path.length;
      const before = kinds.get(key);
      if (before !== undefined && (before || file)) return 'PATH_CONFLICT';
      kinds.set(key, file);
    }
  }
  // 2. Each file's path, component by component, in order.
  const existing = new Map<number, Uint8Array>();
  for (const [i, path] of c.paths.entries()) {
    for (let d = 1; d <= path.length; d++) {
      const type = await entryType(join(root, ...path.slice(0, d)));
      const last = d === path.length;
      if (type === undefined) break;
      if (type === 'link') return 'UNSAFE_PATH';
      if (!last && type === 'file') return 'PATH_CONFLICT';
      if (last && type === 'dir') return 'PATH_CONFLICT';
      if (last) existing.set(i, new Uint8Array(await readFile(join(root, ...path))));
    }
  }
  // 3. Longer than the torrent's file.
  for (const [i, bytes] of existing) {
    if (bytes.length > c.lengths[i]!) {
      if (c.policy === 'verify') return 'FILE_EXISTS';
      existing.set(i, bytes.subarray(0, c.lengths[i]!));
    }
  }
  if (c.policy === 'overwrite') return 'ok';
  // 4. A non-empty file that was there must hold at least one of its pieces.
  const pieceOk = (piece: number): boolean => {
    const start = piece * PIECE;
    const end = Math.min(data.length, start + PIECE);
    let touchesExisting = false;
    for (const [i, length] of c.lengths.entries()) {
      const from = Math.max(start, offsets[i]!);
      const to = Math.min(end, offsets[i]! + length);
      if (from >= to) continue;
      const bytes = existing.get(i);
      if (bytes === undefined || bytes.length < to - offsets[i]!) return false;
      touchesExisting = true;
      const want = data.subarray(from, to);
      const have = bytes.subarray(from - offsets[i]!, to - offsets[i]!);
      if (Buffer.compare(want, have) !== 0) return false;
    }
    return touchesExisting;
  };
  for (const [i, bytes] of existing) {
    if (bytes.length === 0) continue;
    const first = Math.floor(offsets[i]! / PIECE);
    const last = Math.floor((offsets[i]! + c.lengths[i]! - 1) / PIECE);
    let matches = false;
    for (let p = first; p <= last && !matches; p++) matches = pieceOk(p);
    if (!matches) return 'FILE_EXISTS';
  }
  return 'ok';
}

describe('file layout on disk (model-based)', () => {
  it('random torrents over random pre-existing files, links and conflicts: nothing outside changes, completed files equal the torrent', async () => {
    const base = await mkdtemp(join(tmpdir(), 'peerkit-layout-model-'));
    let run = 0;
    const seen = new Set<Outcome>();
    try {
      await fc.assert(
        fc.asyncProperty(caseArbitrary, async (c) => {
          const dir = join(base, String(run++));
          const root = join(dir, 'root');
          const outside = join(dir, 'outside');
          await mkdir(root, { recursive: true });
          await mkdir(join(outside, 'sub'), { recursive: true });
          await writeFile(join(outside, 'secret.txt'), 'outside\n');
          const total = c.lengths.reduce((a, b) => a + b, 0);
          const data = content(total, c.seed);
          const offsets: number[] = [];
          c.lengths.reduce((at, l) => {
            offsets.push(at);
            return at + l;
          }, 0);
          await plant(root, outside, c, data, offsets);
          const outsideBefore = await snapshot(outside);
          const rootBefore = await snapshot(root);
          const expected = await predict(root, c, data, offsets);

          const pieceCount = Math.ceil(total / PIECE);
          const hashes = new Uint8Array(pieceCount * 20);
          for (let p = 0; p < pieceCount; p++)
            hashes.set(
              createHash('sha1')
                .update(data.subarray(p * PIECE, (p + 1) * PIECE))
                .digest(),
              p * 20,
            );
          const layout = new FileLayout(
            c.paths.map((path, i) => ({ path, length: c.lengths[i]! })),
            PIECE,
          );
          const fs = nodeFileSystem();
          let outcome: Outcome = 'ok';
          let store: PieceStore | undefined;
          try {
            store = new PieceStore({
              fs,
              directory: root,
              layout,
              pieceHashes: hashes,
              pathRules: 'posix',
            });
            const have = await verifiedAtStart(fs, undefined, new Uint8Array(20), store, {
              existing: c.policy,
            });
            for (let p = 0; p < pieceCount; p++) {
              if (have.has(p)) continue;
              const size = layout.pieceSize(p);
              const check = await store.writeBlock(p, 0, data.slice(p * PIECE, p * PIECE + size));
              expect(check?.ok).toBe(true);
            }
            await store.flush();
          } catch (error) {
            if (!(error instanceof StorageError)) throw error;
            outcome = error.code as Outcome;
          } finally {
            await store?.close();
          }

          expect(outcome).toBe(expected);
          seen.add(outcome);
          expect(await snapshot(outside)).toEqual(outsideBefore);
          const rootAfter = await snapshot(root);
          if (outcome === 'ok') {
            for (const [i, path] of c.paths.entries()) {
              const file = join(root, ...path);
              expect(await entryType(file)).toBe('file');
              const bytes = await readFile(file);
              expect(bytes.length).toBe(c.lengths[i]);
              expect(
                Buffer.compare(bytes, data.subarray(offsets[i]!, offsets[i]! + c.lengths[i]!)),
              ).toBe(0);
            }
          } else {
            // A refusal changes nothing that was there (directories and empty files may be new).
            for (const [path, what] of rootBefore) expect(rootAfter.get(path)).toBe(what);
          }
          await rm(dir, { recursive: true, force: true });
        }),
        { numRuns: 200 },
      );
      // The generator reaches every outcome (a model that always says "ok" would not do).
      expect([...seen].sort()).toEqual(['FILE_EXISTS', 'PATH_CONFLICT', 'UNSAFE_PATH', 'ok']);
    } finally {
      await rm(base, { recursive: true, force: true });
    }
  }, 120_000);
});
