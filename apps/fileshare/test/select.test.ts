/**
 * File selection from the command line, with real processes on loopback: `get --select`,
 * `--exclude`, `--priority` and a magnet's BEP 53 `so=` leave exactly the selected files in the
 * download directory (no partial or empty file of another: the bytes they share with selected
 * ones are kept in the state directory), each verified byte for byte; `info` numbers the files
 * as `--select` counts them; `stream --file` serves one file over HTTP with ranges.
 */
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness, randomFile, sha256File } from './helpers';

const harness = new Harness();
// Sizes that put every boundary inside a 16 KiB piece.
const FILES = [
  ['a.txt', 40_000],
  ['b.bin', 70_001],
  ['c.nfo', 5_000],
  ['sub/d.bin', 90_000],
  ['sub/e.txt', 33_333],
] as const;
const common = ['--host', '127.0.0.1', '--no-dht', '--json'];

let dir = '';
let torrent = '';
let magnet = '';
let port = 0;
const hashes = new Map<string, string>();

beforeAll(async () => {
  dir = await harness.tempDir();
  for (const [path, size] of FILES) {
    await mkdir(join(dir, 'seed', 'pack', 'sub'), { recursive: true });
    hashes.set(path, await randomFile(join(dir, 'seed', 'pack', path), size));
  }
  const share = harness.spawn([
    'share',
    join(dir, 'seed', 'pack'),
    '--piece-length',
    '16k',
    '--state-dir',
    join(dir, 'share'),
    ...common,
  ]);
  port = Number((await share.waitForEvent('listening', 20_000)).port);
  const made = await share.waitForEvent('torrent', 20_000);
  torrent = String(made.torrentFile);
  magnet = String(made.magnet);
}, 60_000);
afterAll(() => harness.cleanup());

/** Every file under `root`, as paths relative to it. */
async function filesUnder(root: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(root, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out.push(relative(root, join(entry.parentPath, entry.name)));
  }
  return out.sort();
}

async function get(target: string, name: string, ...flags: string[]) {
  const out = join(dir, name);
  const p = harness.spawn([
    'get',
    target,
    '--peer',
    `127.0.0.1:${port}`,
    '--out',
    out,
    '--state-dir',
    join(dir, `${name}-state`),
    '--exit-when-done',
    ...common,
    ...flags,
  ]);
  const exit = await p.exited;
  return { out, exit, p };
}

async function expectExactly(out: string, paths: readonly string[]): Promise<void> {
  expect(await filesUnder(out)).toEqual(paths.map((p) => join('pack', p)).sort());
  for (const p of paths) expect(await sha256File(join(out, 'pack', p))).toBe(hashes.get(p));
}

describe('get: file selection', () => {
  it('info numbers the files from 1 in the torrent order', async () => {
    const info = harness.spawn(['info', torrent, '--json']);
    expect((await info.exited).code).toBe(0);
    const files = info.events.find((e) => e.event === 'info')!.files as { index: number }[];
    expect(files.map((f) => f.index)).toEqual([1, 2, 3, 4, 5]);
    const text = harness.spawn(['info', torrent]);
    await text.exited;
    expect(text.otherLines.join('\n')).toMatch(/ 4 {2}pack\/sub\/d\.bin/);
  });

  it('--select 2,4-5 writes exactly those files', async () => {
    const { out, exit, p } = await get(torrent, 'select', '--select', '2,4-5');
    expect(exit.code, p.stderr).toBe(0);
    await expectExactly(out, ['b.bin', 'sub/d.bin', 'sub/e.txt']);
    // The bytes of a.txt and c.nfo in shared pieces are in the state directory, not the tree.
    const state = await filesUnder(join(dir, 'select-state'));
    expect(state.some((f) => /\.parts\/[02]$/.test(f))).toBe(true);
  }, 60_000);

  it('--exclude GLOB (repeatable) skips matching names', async () => {
    const { out, exit, p } = await get(
      torrent,
      'exclude',
      '--exclude',
      '*.txt',
      '--exclude',
      'c.*',
    );
    expect(exit.code, p.stderr).toBe(0);
    await expectExactly(out, ['b.bin', 'sub/d.bin']);
  }, 60_000);

  it('--priority skip:N and high:N', async () => {
    const { out, exit, p } = await get(
      torrent,
      'prio',
      '--priority',
      'skip:1-3',
      '--priority',
      'high:5',
    );
    expect(exit.code, p.stderr).toBe(0);
    await expectExactly(out, ['sub/d.bin', 'sub/e.txt']);
  }, 60_000);

  it('a magnet with BEP 53 so= downloads only those files (counted from 0)', async () => {
    const { out, exit, p } = await get(`${magnet}&so=0,2`, 'so');
    expect(exit.code, p.stderr).toBe(0);
    await expectExactly(out, ['a.txt', 'c.nfo']);
  }, 60_000);

  it('a bad --select is a usage error (exit 2, one line)', async () => {
    const syntax = await get(torrent, 'bad1', '--select', '2,x');
    expect(syntax.exit.code).toBe(2);
    expect(syntax.p.stderr.trim().split('\n')).toHaveLength(1);
    expect(syntax.p.stderr).toMatch(/--select/);
    const range = await get(torrent, 'bad2', '--select', '9');
    expect(range.exit.code).toBe(2);
    expect(range.p.stderr).toMatch(/no file 9/);
  }, 60_000);
});

describe('stream', () => {
  it('serves --file N over HTTP with ranges, downloading only what is selected', async () => {
    const out = join(dir, 'stream');
    const p = harness.spawn([
      'stream',
      torrent,
      '--file',
      '4',
      '--select',
      '4',
      '--port',
      '0',
      '--peer',
      `127.0.0.1:${port}`,
      '--out',
      out,
      '--state-dir',
      join(dir, 'stream-state'),
      ...common,
    ]);
    const serving = await p.waitForEvent('serving', 20_000);
    const url = String(serving.url);
    const response = await fetch(url, { headers: { Range: 'bytes=89000-' } });
    expect(response.status).toBe(206);
    expect(response.headers.get('content-range')).toBe('bytes 89000-89999/90000');
    const tail = Buffer.from(await response.arrayBuffer());
    const whole = await fetch(`${url}d.bin`);
    const all = Buffer.from(await whole.arrayBuffer());
    expect(all.length).toBe(90_000);
    expect(all.subarray(89_000).equals(tail)).toBe(true);
    await p.waitForEvent('done', 20_000);
    expect((await p.stop('SIGINT')).code).toBe(0);
    expect(await filesUnder(out)).toEqual([join('pack', 'sub', 'd.bin')]);
    expect(await sha256File(join(out, 'pack', 'sub', 'd.bin'))).toBe(hashes.get('sub/d.bin'));
    expect((await readFile(join(out, 'pack', 'sub', 'd.bin'))).equals(all)).toBe(true);
  }, 60_000);
});
