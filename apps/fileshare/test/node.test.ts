/**
 * The share node in-process (`runShare`, `runGet`, `runDhtNode` with real loopback sockets):
 * a magnet download through the DHT, the events it reports, and that `close()` leaves no socket
 * or timer behind.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runDhtNode } from '../src/commands/dht-node';
import { runGet } from '../src/commands/get';
import { runShare } from '../src/commands/share';
import type { NodeEvent } from '../src/events';
import { openStateDir } from '../src/state-dir';
import { Harness, randomFile, sha256 } from './helpers';

const harness = new Harness();
afterEach(() => harness.cleanup());

/** Open sockets and timers of this process, by kind. */
function handles(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) {
    if (/TCP|UDP|Timeout|FSReq/.test(kind)) out[kind] = (out[kind] ?? 0) + 1;
  }
  return out;
}

async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setTimeout(resolve, 10));
}

describe('share node (in-process)', () => {
  it('fetches by magnet through the DHT, then closes every socket and timer', async () => {
    await settle();
    const before = handles();
    const dir = await harness.tempDir();
    await mkdir(join(dir, 'seed'));
    const hash = await randomFile(join(dir, 'seed', 'data.bin'), 700_000);

    const bootstrapNode = await runDhtNode({ host: '127.0.0.1', port: 0 });
    const bootstrap = [bootstrapNode.address];
    const seedEvents: NodeEvent[] = [];
    const seeder = await runShare({
      path: join(dir, 'seed', 'data.bin'),
      state: await openStateDir(join(dir, 'seed-state')),
      host: '127.0.0.1',
      bootstrap,
      onEvent: (e) => seedEvents.push(e),
    });
    await new Promise<void>((resolve) => {
      const check = setInterval(() => {
        if (seedEvents.some((e) => e.type === 'announced')) {
          clearInterval(check);
          resolve();
        }
      }, 10);
    });

    const getEvents: NodeEvent[] = [];
    const getter = await runGet({
      target: seeder.magnet,
      out: join(dir, 'out'),
      state: await openStateDir(join(dir, 'get-state')),
      host: '127.0.0.1',
      bootstrap,
      onEvent: (e) => getEvents.push(e),
    });
    await getter.whenDone();
    expect(sha256(await readFile(join(dir, 'out', 'data.bin')))).toBe(hash);
    const status = getter.status();
    expect(status).toMatchObject({ verified: status.pieces, length: 700_000, downloaded: 700_000 });
    const totals = getter.peerTotals();
    expect(totals[`127.0.0.1:${seeder.address.port}`]?.downloaded).toBe(700_000);

    await getter.close('test');
    await seeder.close('test');
    await bootstrapNode.close();
    const types = getEvents.map((e) => e.type);
    expect(types.slice(0, 2)).toEqual(['listening', 'torrent']);
    expect(types).toEqual(
      expect.arrayContaining([
        'dht-ready',
        'announced',
        'metadata',
        'resumed',
        'piece',
        'done',
        'stopping',
        'stopped',
      ]),
    );
    expect(types.at(-1)).toBe('stopped');

    await settle();
    expect(handles()).toEqual(before);
  });

  it('fetches by bare info-hash from a --peer, without DHT (metadata by BEP 9)', async () => {
    const dir = await harness.tempDir();
    await mkdir(join(dir, 'seed', 'set'), { recursive: true });
    const hashA = await randomFile(join(dir, 'seed', 'set', 'one.bin'), 50_000);
    const hashB = await randomFile(join(dir, 'seed', 'set', 'two.bin'), 70_000);
    const seeder = await runShare({
      path: join(dir, 'seed', 'set'),
      state: await openStateDir(join(dir, 'seed-state')),
      host: '127.0.0.1',
      dht: false,
    });
    const events: NodeEvent[] = [];
    const getter = await runGet({
      target: seeder.infoHashHex,
      out: join(dir, 'out'),
      state: await openStateDir(join(dir, 'get-state')),
      host: '127.0.0.1',
      dht: false,
      peers: [seeder.address],
      onEvent: (e) => events.push(e),
    });
    await getter.whenDone();
    await getter.close();
    await seeder.close();
    expect(events.find((e) => e.type === 'metadata')).toMatchObject({
      name: 'set',
      files: 2,
      fetched: true,
    });
    expect(sha256(await readFile(join(dir, 'out', 'set', 'one.bin')))).toBe(hashA);
    expect(sha256(await readFile(join(dir, 'out', 'set', 'two.bin')))).toBe(hashB);
  });
});
