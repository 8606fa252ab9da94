/**
 * Bad input gets one clear line on stderr and a non-zero exit: a missing path, a corrupt
 * .torrent, a malformed magnet, a port in use. And `--help` works on every command.
 */

import { createSocket } from 'node:dgram';
import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Harness } from './helpers';

const harness = new Harness();
afterEach(() => harness.cleanup());

async function run(args: string[], cwd?: string) {
  const p = harness.spawn(args, cwd);
  const exit = await p.exited;
  return { code: exit.code, stderr: p.stderr, stdout: p.otherLines, events: p.events };
}

/** Exactly one non-empty stderr line, starting with the program name. */
function oneLine(stderr: string): string {
  const lines = stderr.split('\n').filter((l) => l.trim() !== '');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^peerkit-share: error: /);
  return lines[0]!;
}

describe('peerkit-share errors', () => {
  it('a corrupt .torrent: info and get fail with one line', async () => {
    const dir = await harness.tempDir();
    const path = join(dir, 'corrupt.torrent');
    await writeFile(path, 'd8:announce3:xyz4:infod4:name1:a6:lengthi-5eee');
    const info = await run(['info', path]);
    expect(info.code).toBe(1);
    expect(oneLine(info.stderr)).toContain('corrupt.torrent is not a valid .torrent file');
    const garbage = join(dir, 'garbage.torrent');
    await writeFile(garbage, Buffer.from([0x64, 0x31, 0xff, 0x00]));
    const get = await run([
      'get',
      garbage,
      '--no-dht',
      '--state-dir',
      join(dir, 'state'),
      '--out',
      dir,
    ]);
    expect(get.code).toBe(1);
    // The same words as `info` for the same bad file (issue #16).
    expect(oneLine(get.stderr)).toMatch(
      /garbage\.torrent is not a valid \.torrent file: .*\(INVALID_BENCODING\)/,
    );
  });

  it('--encryption takes prefer, require or plain; anything else fails naming the choices', async () => {
    const dir = await harness.tempDir();
    const bad = await run([
      'get',
      '0123456789abcdef0123456789abcdef01234567',
      '--no-dht',
      '--encryption',
      'rot13',
      '--state-dir',
      join(dir, 'state'),
    ]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('Allowed choices are prefer, require, plain');
  });

  it('a malformed magnet link fails with one line (and a JSON error event)', async () => {
    const dir = await harness.tempDir();
    const bad = await run([
      'get',
      'magnet:?xt=urn:btih:xyz&dn=a',
      '--no-dht',
      '--state-dir',
      dir,
      '--json',
    ]);
    // A malformed argument is a usage error: exit 2 (docs/cli.md).
    expect(bad.code).toBe(2);
    expect(oneLine(bad.stderr)).toContain('invalid magnet link');
    expect(bad.events).toEqual([
      expect.objectContaining({ event: 'error', code: 'INVALID_MAGNET' }),
    ]);
    const noHash = await run(['info', 'magnet:?dn=nothing']);
    expect(noHash.code).toBe(2);
    expect(oneLine(noHash.stderr)).toContain('MISSING_INFO_HASH');
  });

  it('a missing path fails with one line', async () => {
    const dir = await harness.tempDir();
    for (const args of [
      ['share', join(dir, 'nope.bin'), '--no-dht', '--state-dir', dir],
      ['create', join(dir, 'nope.bin')],
      ['get', join(dir, 'nope.torrent'), '--no-dht', '--state-dir', dir],
    ]) {
      const r = await run(args);
      expect(r.code, args.join(' ')).toBe(1);
      expect(oneLine(r.stderr)).toMatch(/no such file/);
    }
  });

  it('a TCP port in use fails with one line', async () => {
    const dir = await harness.tempDir();
    await writeFile(join(dir, 'a.bin'), Buffer.alloc(40_000, 7));
    const server: Server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    try {
      const r = await run([
        'share',
        join(dir, 'a.bin'),
        '--host',
        '127.0.0.1',
        '--port',
        String(port),
        '--no-dht',
        '--state-dir',
        join(dir, 's'),
      ]);
      expect(r.code).toBe(1);
      expect(oneLine(r.stderr)).toContain(`TCP port ${port} is already in use`);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('a UDP port in use (DHT) fails with one line', async () => {
    const dir = await harness.tempDir();
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    const port = socket.address().port;
    try {
      const r = await run([
        'dht-node',
        '--host',
        '127.0.0.1',
        '--port',
        String(port),
        '--state-dir',
        dir,
      ]);
      expect(r.code).toBe(1);
      expect(oneLine(r.stderr)).toContain(`UDP port ${port} is already in use`);
      await writeFile(join(dir, 'a.bin'), Buffer.alloc(40_000, 7));
      const share = await run([
        'share',
        join(dir, 'a.bin'),
        '--host',
        '127.0.0.1',
        '--dht-port',
        String(port),
        '--state-dir',
        join(dir, 's'),
      ]);
      expect(share.code).toBe(1);
      expect(oneLine(share.stderr)).toContain(
        `UDP port ${port} is already in use (choose another with --dht-port)`,
      );
    } finally {
      await new Promise<void>((resolve) => socket.close(() => resolve()));
    }
  });

  it('an argument that is nothing fetchable fails with one line', async () => {
    const dir = await harness.tempDir();
    const r = await run(['get', 'not-a-hash', '--no-dht', '--state-dir', dir]);
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toContain(
      'is not a magnet link, a .torrent file or a 40-hex/32-base32 info-hash',
    );
  });

  it('--help works on every command', async () => {
    for (const command of [[], ['create'], ['info'], ['share'], ['get'], ['dht-node']]) {
      const r = await run([...command, '--help']);
      expect(r.code, command.join(' ')).toBe(0);
      expect(r.stdout.join('\n')).toContain('Usage: peerkit-share');
    }
  });
});
