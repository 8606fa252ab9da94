/**
 * BEP 27 private torrents in the app: a private torrent's node never opens the DHT, so not one
 * packet reaches the DHT bootstrap node, even when the DHT is asked for; a public torrent's node
 * does query it. (No PEX either way is piece-exchange's, tested there.)
 */
import { createSocket } from 'node:dgram';
import { join } from 'node:path';
import { parseTorrent, requireV1, torrentInfoFromMetainfo } from '@peerkit/piece-exchange';
import { afterEach, describe, expect, it } from 'vitest';
import { makeTorrent } from '../src/commands/create';
import { startShareNode } from '../src/node';
import { openStateDir } from '../src/state-dir';
import { Harness, randomFile } from './helpers';

const harness = new Harness();
afterEach(() => harness.cleanup());

/** A UDP socket standing for the DHT bootstrap node: it counts what it receives. */
async function listeningBootstrap() {
  const socket = createSocket('udp4');
  const packets: Buffer[] = [];
  socket.on('message', (data) => packets.push(data));
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return {
    address: { host: '127.0.0.1', port: socket.address().port },
    packets,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

async function nodeFor(isPrivate: boolean, bootstrap: { host: string; port: number }) {
  const dir = await harness.tempDir();
  const path = join(dir, 'data.bin');
  await randomFile(path, 100_000);
  const made = await makeTorrent({ path, private: isPrivate });
  const info = torrentInfoFromMetainfo(requireV1(parseTorrent(made.bytes)));
  expect(info.private === true).toBe(isPrivate);
  return startShareNode({
    info,
    directory: dir,
    state: await openStateDir(join(dir, 'state')),
    host: '127.0.0.1',
    transport: 'tcp',
    dht: true,
    bootstrap: [bootstrap],
    assumeComplete: true,
  });
}

/** Waits until `done()` or `ms` of real time passed. */
async function waitFor(done: () => boolean, ms: number): Promise<void> {
  for (let waited = 0; waited < ms && !done(); waited += 20)
    await new Promise((resolve) => setTimeout(resolve, 20));
}

describe('private torrents (BEP 27) in peerkit-share', () => {
  it('a private torrent never starts the DHT: no packet reaches the bootstrap node', async () => {
    const bootstrap = await listeningBootstrap();
    const node = await nodeFor(true, bootstrap.address);
    try {
      expect(node.dht).toBeUndefined();
      expect(node.dhtAddress).toBeUndefined();
      await waitFor(() => bootstrap.packets.length > 0, 1_500);
      expect(bootstrap.packets).toHaveLength(0);
    } finally {
      await node.close();
      await bootstrap.close();
    }
  });

  it('a public torrent does query the DHT bootstrap node', async () => {
    const bootstrap = await listeningBootstrap();
    const node = await nodeFor(false, bootstrap.address);
    try {
      expect(node.dht).toBeDefined();
      await waitFor(() => bootstrap.packets.length > 0, 5_000);
      expect(bootstrap.packets.length).toBeGreaterThan(0);
      // A KRPC query (bencoded dictionary with `y` = `q`).
      expect(bootstrap.packets[0]!.toString('latin1')).toMatch(/^d.*1:y1:qe$/);
    } finally {
      await node.close();
      await bootstrap.close();
    }
  });
});
