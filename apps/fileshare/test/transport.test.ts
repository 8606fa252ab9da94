/**
 * Peer connections over uTP (BEP 29) and TCP with real processes on loopback: `--transport utp`
 * on both sides, the default `both` (uTP first), `--transport tcp`, and one UDP port for the DHT
 * and uTP. The `peer` events say which transport each connection uses.
 */
import { mkdir } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { CliEvent, CliProcess } from '../src/cli-process';
import { Harness, randomFile, sha256File } from './helpers';

const harness = new Harness();
afterEach(() => harness.cleanup());

/** The `transport` of every `peer` `connect` event of a process. */
function connectTransports(p: CliProcess): unknown[] {
  return p.events
    .filter((e: CliEvent) => e.event === 'peer' && e.action === 'connect')
    .map((e) => e.transport);
}

/** Whether a TCP connection to 127.0.0.1:`port` is accepted. */
function tcpAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * `share` a random file with `shareArgs`, then `get` it from that one peer with `getArgs`
 * (no DHT); returns both processes after the getter exited, its content checked.
 */
async function transfer(
  shareArgs: readonly string[],
  getArgs: readonly string[],
): Promise<{ seeder: CliProcess; getter: CliProcess; port: number }> {
  const dir = await harness.tempDir();
  await mkdir(join(dir, 'seed'));
  const hash = await randomFile(join(dir, 'seed', 'data.bin'), 900_000);
  const seeder = harness.spawn([
    'share',
    join(dir, 'seed', 'data.bin'),
    '--host',
    '127.0.0.1',
    '--no-dht',
    '--state-dir',
    join(dir, 'seed-state'),
    '--json',
    ...shareArgs,
  ]);
  const listening = await seeder.waitForEvent('listening', 20_000);
  const torrent = await seeder.waitForEvent('torrent', 20_000);
  const port = Number(listening.port);
  const getter = harness.spawn([
    'get',
    String(torrent.magnet),
    '--peer',
    `127.0.0.1:${port}`,
    '--no-dht',
    '--host',
    '127.0.0.1',
    '--out',
    join(dir, 'out'),
    '--state-dir',
    join(dir, 'get-state'),
    '--exit-when-done',
    '--json',
    ...getArgs,
  ]);
  const exit = await getter.exited;
  expect(exit.code, getter.stderr).toBe(0);
  expect(getter.events.find((e) => e.event === 'done')).toMatchObject({ downloaded: 900_000 });
  await seeder.waitFor((e) => e.event === 'peer' && e.action === 'connect', 10_000, 'connect');
  expect(await sha256File(join(dir, 'out', 'data.bin'))).toBe(hash);
  return { seeder, getter, port };
}

describe('--transport', () => {
  it('utp on both sides: the download completes and verifies over uTP only', async () => {
    const { seeder, getter, port } = await transfer(['--transport', 'utp'], ['--transport', 'utp']);
    expect(seeder.events.find((e) => e.event === 'listening')).toMatchObject({
      transport: 'utp',
    });
    expect(connectTransports(getter)).toEqual(['utp']);
    expect(connectTransports(seeder)).toEqual(['utp']);
    // uTP only: nothing listens on TCP.
    expect(await tcpAccepts(port)).toBe(false);
  });

  it('both (the default): two peerkit nodes connect over uTP, TCP is open as well', async () => {
    const { seeder, getter, port } = await transfer([], []);
    expect(seeder.events.find((e) => e.event === 'listening')).toMatchObject({
      transport: 'both',
    });
    expect(connectTransports(getter)).toEqual(['utp']);
    expect(connectTransports(seeder)).toEqual(['utp']);
    expect(await tcpAccepts(port)).toBe(true);
  });

  it('tcp: the connection is TCP', async () => {
    const { seeder, getter } = await transfer(['--transport', 'tcp'], ['--transport', 'tcp']);
    expect(connectTransports(getter)).toEqual(['tcp']);
    expect(connectTransports(seeder)).toEqual(['tcp']);
  });

  it('both: a TCP-only peer is reached over TCP after uTP gets no answer', async () => {
    const { getter } = await transfer(['--transport', 'tcp'], []);
    expect(connectTransports(getter)).toEqual(['tcp']);
  });

  it('-v says which transport each peer uses', async () => {
    const dir = await harness.tempDir();
    await writeSeed(dir);
    const seeder = harness.spawn([
      'share',
      join(dir, 'a.bin'),
      '--host',
      '127.0.0.1',
      '--no-dht',
      '--transport',
      'utp',
      '--state-dir',
      join(dir, 's'),
      '--json',
    ]);
    const port = Number((await seeder.waitForEvent('listening', 20_000)).port);
    const torrent = await seeder.waitForEvent('torrent', 20_000);
    const getter = harness.spawn([
      'get',
      String(torrent.magnet),
      '--peer',
      `127.0.0.1:${port}`,
      '--no-dht',
      '--host',
      '127.0.0.1',
      '--transport',
      'utp',
      '--out',
      join(dir, 'out'),
      '--state-dir',
      join(dir, 'g'),
      '--exit-when-done',
      '-v',
    ]);
    expect((await getter.exited).code, getter.stderr).toBe(0);
    expect(getter.stderr).toContain('listening on uTP 127.0.0.1:');
    expect(getter.stderr).toContain(`peer 127.0.0.1:${port} connected over uTP`);
  });

  it('an unknown transport is a usage error (exit 2)', async () => {
    const dir = await harness.tempDir();
    const p = harness.spawn(['get', 'a'.repeat(40), '--transport', 'quic', '--state-dir', dir]);
    const exit = await p.exited;
    expect(exit.code).toBe(2);
    expect(p.stderr).toContain('--transport must be utp, tcp or both');
  });
});

describe('one UDP port for the DHT and uTP', () => {
  it('the DHT answers on the uTP port, and a magnet found through it downloads over uTP', async () => {
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
    await mkdir(join(dir, 'seed'));
    const hash = await randomFile(join(dir, 'seed', 'one-port.bin'), 600_000);
    const seeder = harness.spawn([
      'share',
      join(dir, 'seed', 'one-port.bin'),
      '--host',
      '127.0.0.1',
      '--bootstrap',
      bootstrap,
      '--state-dir',
      join(dir, 'seed-state'),
      '--json',
    ]);
    const listening = await seeder.waitForEvent('listening', 20_000);
    expect(listening.transport).toBe('both');
    expect(listening.dhtPort).toBe(listening.port);
    const torrent = await seeder.waitForEvent('torrent', 20_000);
    await seeder.waitForEvent('announced', 20_000);

    const getter = harness.spawn([
      'get',
      String(torrent.magnet),
      '--out',
      join(dir, 'out'),
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
    const getListening = getter.events.find((e) => e.event === 'listening');
    expect(getListening?.dhtPort).toBe(getListening?.port);
    // Found through the DHT only (no --peer), then connected over uTP on the same port.
    expect(getter.events.map((e) => e.event)).toContain('lookup');
    expect(connectTransports(getter)).toContain('utp');
    expect(await sha256File(join(dir, 'out', 'one-port.bin'))).toBe(hash);
  });

  it('with --transport tcp the DHT has its own UDP port', async () => {
    const dir = await harness.tempDir();
    await writeSeed(dir);
    const seeder = harness.spawn([
      'share',
      join(dir, 'a.bin'),
      '--host',
      '127.0.0.1',
      '--transport',
      'tcp',
      '--state-dir',
      join(dir, 's'),
      '--json',
    ]);
    const listening = await seeder.waitForEvent('listening', 20_000);
    expect(listening.transport).toBe('tcp');
    expect(typeof listening.dhtPort).toBe('number');
  });
});

async function writeSeed(dir: string): Promise<void> {
  await randomFile(join(dir, 'a.bin'), 50_000);
}
