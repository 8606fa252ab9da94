/**
 * The share node in-process (`runShare`, `runGet`, `runDhtNode` with real loopback sockets):
 * a magnet download through the DHT, the events it reports, and that `close()` leaves no socket
 * or timer behind.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { connect } from 'node:net';
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
    const seederAddress = `127.0.0.1:${seeder.address.port}`;
    expect(totals[seederAddress]?.downloaded).toBe(700_000);
    // Every piece came from the seeder, counted piece by piece (not bytes ÷ piece length).
    expect(totals[seederAddress]?.pieces).toBe(status.pieces);
    const pieceEvents = getEvents.filter((e) => e.type === 'piece');
    expect(pieceEvents).toHaveLength(status.pieces);
    for (const e of pieceEvents) expect(e.from).toEqual([seederAddress]);
    expect(status.left).toBe(0);
    expect(status.eta).toBeUndefined();

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
    const seedState = await openStateDir(join(dir, 'seed-state'));
    const seedEvents: NodeEvent[] = [];
    const seeder = await runShare({
      path: join(dir, 'seed', 'set'),
      state: seedState,
      host: '127.0.0.1',
      dht: false,
      // Plain BitTorrent only, so that the junk below is refused in the BitTorrent handshake
      // at once (under `prefer` it is taken as an MSE/PE opening and waits for more bytes).
      encryption: 'plain',
      onEvent: (e) => seedEvents.push(e),
    });
    // The torrent was just made from these files: the node seeds at once, without resume data
    // (written when it closes) and without hashing them again.
    const resumePath = seedState.resumePath(seeder.infoHashHex);
    expect(existsSync(resumePath)).toBe(false);
    expect(seeder.torrent.done).toBe(true);
    const resumed = seedEvents.find((e) => e.type === 'resumed');
    expect(resumed?.type === 'resumed' && resumed.verified === resumed.pieces).toBe(true);
    expect(seeder.status().left).toBe(0);

    // A connection that is not BitTorrent (as an encrypted MSE/PE attempt looks) is `rejected`,
    // and no `disconnect` is reported for a connection that never opened.
    const junk = connect(seeder.address.port, '127.0.0.1');
    junk.on('error', () => undefined);
    junk.write(Buffer.alloc(68, 0xab));
    for (let i = 0; i < 200 && !seedEvents.some((e) => e.type === 'peer'); i++)
      await new Promise((resolve) => setTimeout(resolve, 10));
    junk.destroy();
    const refused = seedEvents.filter((e) => e.type === 'peer');
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({ action: 'rejected' });
    expect(String((refused[0] as { reason?: string }).reason)).toMatch(/^handshake: /);

    const events: NodeEvent[] = [];
    const getter = await runGet({
      target: seeder.infoHashHex,
      out: join(dir, 'out'),
      state: await openStateDir(join(dir, 'get-state')),
      host: '127.0.0.1',
      dht: false,
      peers: [seeder.address],
      encryption: 'plain', // the seeder is plain: no MSE attempt to refuse first
      onEvent: (e) => events.push(e),
    });
    await getter.whenDone();
    await getter.close();
    await seeder.close();
    expect(existsSync(resumePath)).toBe(true);
    const actions = seedEvents.flatMap((e) => (e.type === 'peer' ? [e.action] : []));
    expect(actions).toEqual(['rejected', 'connect', 'disconnect']);
    expect(events.find((e) => e.type === 'metadata')).toMatchObject({
      name: 'set',
      files: 2,
      fetched: true,
    });
    expect(sha256(await readFile(join(dir, 'out', 'set', 'one.bin')))).toBe(hashA);
    expect(sha256(await readFile(join(dir, 'out', 'set', 'two.bin')))).toBe(hashB);
  });
});
