/**
 * The conventions shared by the three peerkit CLIs (docs/cli.md), for peerkit-share: every
 * command's `--json` output is envelopes only (`{"event","time",...}`), and a table of bad
 * inputs gets the right exit code (2 usage, 1 failure) and exactly one error line.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseEnvelope } from '@peerkit/cli-kit';
import { afterEach, describe, expect, it } from 'vitest';
import type { CliProcess } from '../src/cli-process';
import { Harness, randomFile } from './helpers';

const harness = new Harness();
afterEach(() => harness.cleanup());

/** Every stdout line is an envelope (CliProcess keeps the non-JSON ones in otherLines). */
function expectOnlyEnvelopes(p: CliProcess): void {
  expect(p.otherLines, p.stderr).toEqual([]);
  for (const e of p.events) {
    expect(parseEnvelope(JSON.stringify(e)), JSON.stringify(e)).toBeDefined();
    expect(Object.keys(e).slice(0, 2)).toEqual(['event', 'time']);
  }
}

describe('peerkit-share conventions', () => {
  it('every command prints only envelopes with --json', async () => {
    const dir = await harness.tempDir();
    await randomFile(join(dir, 'a.bin'), 100_000);
    const torrent = join(dir, 'a.torrent');
    const create = harness.spawn(['create', join(dir, 'a.bin'), '-o', torrent, '--json']);
    expect((await create.exited).code, create.stderr).toBe(0);
    expectOnlyEnvelopes(create);
    expect(create.events.map((e) => e.event)).toContain('created');

    const info = harness.spawn(['info', torrent, '--json']);
    expect((await info.exited).code, info.stderr).toBe(0);
    expectOnlyEnvelopes(info);
    expect(info.events.map((e) => e.event)).toEqual(['info']);

    const dhtNode = harness.spawn([
      'dht-node',
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--state-dir',
      join(dir, 'dht'),
      '--json',
    ]);
    await dhtNode.waitForEvent('listening', 20_000);
    expect((await dhtNode.stop('SIGINT')).code).toBe(0);
    expectOnlyEnvelopes(dhtNode);
    expect(dhtNode.events.at(-1)?.event).toBe('stopped');

    const tracker = harness.spawn(['tracker', '--host', '127.0.0.1', '--port', '0', '--json']);
    await tracker.waitForEvent('listening', 20_000);
    expect((await tracker.stop('SIGINT')).code).toBe(0);
    expectOnlyEnvelopes(tracker);
    expect(tracker.events.at(-1)?.event).toBe('stopped');

    const common = ['--host', '127.0.0.1', '--no-dht', '--json'];
    const share = harness.spawn([
      'share',
      join(dir, 'a.bin'),
      '--torrent',
      torrent,
      '--state-dir',
      join(dir, 'share'),
      ...common,
    ]);
    const port = (await share.waitForEvent('listening', 20_000)).port;
    const get = harness.spawn([
      'get',
      torrent,
      '--peer',
      `127.0.0.1:${port}`,
      '--out',
      join(dir, 'out'),
      '--state-dir',
      join(dir, 'get'),
      '--exit-when-done',
      ...common,
    ]);
    expect((await get.exited).code, get.stderr).toBe(0);
    expectOnlyEnvelopes(get);
    expect(get.events.map((e) => e.event)).toContain('done');
    expect((await share.stop('SIGINT')).code).toBe(0);
    expectOnlyEnvelopes(share);
    expect(share.events.at(-1)?.event).toBe('stopped');
  }, 120_000);

  it('a table of bad inputs: exit code and one error line (and one error event)', async () => {
    const dir = await harness.tempDir();
    await writeFile(join(dir, 'a.bin'), Buffer.alloc(20_000, 1));
    await writeFile(join(dir, 'a.bin.torrent'), 'exists');
    const hash = 'aa'.repeat(20);
    const get = (...args: string[]) => ['get', hash, '--no-dht', '--state-dir', dir, ...args];
    const table: [string[], number, RegExp][] = [
      [['frobnicate'], 2, /unknown command 'frobnicate'/],
      [['create'], 2, /missing required argument 'path'/],
      [['create', join(dir, 'a.bin'), '--bogus'], 2, /unknown option '--bogus'/],
      [['get', 'not-a-hash', '--no-dht', '--state-dir', dir], 2, /is not a magnet link/],
      [['info', 'not-a-hash'], 2, /is not a magnet link/],
      [['get', 'magnet:?xt=urn:btih:xyz', '--no-dht', '--state-dir', dir], 2, /invalid magnet/],
      [get('--peer', 'nope'), 2, /--peer: expected HOST:PORT/],
      [get('--bootstrap', '1.2.3.4'), 2, /--bootstrap: expected HOST:PORT/],
      [get('--port', '70000'), 2, /--port must be a port number 0-65535/],
      [get('--timeout', '0'), 2, /--timeout must be a number greater than 0/],
      [get('--max-download-rate', 'fast'), 2, /--max-download-rate must be a size/],
      [get('--seed-ratio', '-1'), 2, /--seed-ratio must be a number greater than 0/],
      [get('-q', '-v'), 2, /cannot be used with option/],
      [['create', join(dir, 'missing.bin')], 1, /no such file or directory/],
      [
        ['create', join(dir, 'a.bin'), '-o', join(dir, 'a.bin.torrent')],
        1,
        /already exists \(use --force/,
      ],
      [['info', join(dir, 'missing.torrent')], 1, /no such file/],
      [['info', join(dir, 'a.bin.torrent')], 1, /is not a valid \.torrent file/],
      [['share', join(dir, 'missing.bin'), '--no-dht', '--state-dir', dir], 1, /no such file/],
    ];
    for (const [args, code, pattern] of table) {
      for (const json of [false, true]) {
        const p = harness.spawn([...args, ...(json ? ['--json'] : [])], dir);
        const exit = await p.exited;
        const what = `${args.join(' ')}${json ? ' --json' : ''}`;
        expect(exit.code, `${what}: ${p.stderr}`).toBe(code);
        const lines = p.stderr.split('\n').filter((l) => l.trim() !== '');
        expect(lines, what).toHaveLength(1);
        expect(lines[0], what).toMatch(/^peerkit-share: error: /);
        expect(lines[0], what).toMatch(pattern);
        if (json) {
          expect(p.events, what).toHaveLength(1);
          expect(p.events[0], what).toMatchObject({ event: 'error', exitCode: code });
        } else expect(p.events.length + p.otherLines.length, what).toBe(0);
      }
    }
  }, 120_000);

  it('--version prints the version and exits 0', async () => {
    const version = harness.spawn(['--version']);
    expect((await version.exited).code).toBe(0);
    expect(version.otherLines).toEqual(['0.1.0']);
  });
});
