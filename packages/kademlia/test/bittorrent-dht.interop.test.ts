/**
 * Interop with webtorrent's `bittorrent-dht` (npm) on loopback: each side bootstraps from the
 * other, announces an info-hash and finds the other's peer. With INTEROP_REQUIRED=1 a missing
 * or unreachable bittorrent-dht fails the run instead of skipping it.
 *
 * The conformance rules (`dhtRules`) against bittorrent-dht, with the exact set of outcomes
 * expected, are in `apps/conform/test/dht.interop.test.ts`.
 */
import { nodeNetwork } from '@peerkit/transport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DHT, randomId, toHex } from '../src/index';

const required = process.env.INTEROP_REQUIRED === '1';

interface BtPeer {
  host: string;
  port: number;
}
interface BtDht {
  listen(port: number, host: string, cb: () => void): void;
  address(): { address: string; port: number };
  announce(infoHash: Uint8Array, port: number, cb: (err?: Error) => void): void;
  lookup(infoHash: Uint8Array, cb: (err?: Error) => void): void;
  on(event: 'peer', fn: (peer: BtPeer, infoHash: Uint8Array) => void): void;
  on(event: 'ready', fn: () => void): void;
  once(event: 'ready', fn: () => void): void;
  ready: boolean;
  nodes: { count(): number };
  destroy(cb: () => void): void;
}
type BtCtor = new (opts: Record<string, unknown>) => BtDht;

let Bt: BtCtor | undefined;
let loadError: unknown;
try {
  Bt = ((await import('bittorrent-dht')) as { default: BtCtor }).default;
} catch (e) {
  loadError = e;
}
if (!Bt && required)
  throw new Error(`INTEROP_REQUIRED=1 but bittorrent-dht cannot be loaded: ${String(loadError)}`);

const withTimeout = <T>(p: Promise<T>, ms: number, what: string) =>
  Promise.race([
    p,
    new Promise<T>((_, reject) =>
      setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms),
    ),
  ]);

describe.skipIf(!Bt)('interop with bittorrent-dht 11 on loopback', () => {
  const network = nodeNetwork();
  const ours = new DHT({ network });
  let theirs: BtDht;

  beforeAll(async () => {
    await ours.listen({ host: '127.0.0.1' });
    // bittorrent-dht bootstraps from us...
    theirs = new Bt!({ bootstrap: [`127.0.0.1:${ours.address.port}`], host: '127.0.0.1' });
    await withTimeout(
      new Promise<void>((resolve) => theirs.listen(0, '127.0.0.1', () => resolve())),
      5000,
      'bittorrent-dht listen',
    );
    if (!theirs.ready)
      await withTimeout(
        new Promise<void>((r) => theirs.once('ready', r)),
        10_000,
        'bittorrent-dht ready',
      );
    // ...and we bootstrap from it.
    await ours.bootstrap([{ host: '127.0.0.1', port: theirs.address().port }]);
  });

  afterAll(async () => {
    await ours.close();
    await new Promise<void>((resolve) => theirs?.destroy(() => resolve()));
  });

  it('each side has the other in its routing table', () => {
    expect(ours.table.size).toBe(1);
    expect(theirs.nodes.count()).toBeGreaterThanOrEqual(1);
  });

  it('each side announces an info-hash and finds the peer the other announced', async () => {
    const infoHash = randomId(network.random);
    const { announced } = await ours.announce(infoHash, 7001);
    expect(announced).toBe(1);
    await withTimeout(
      new Promise<void>((resolve, reject) =>
        theirs.announce(infoHash, 7002, (err) => (err ? reject(err) : resolve())),
      ),
      10_000,
      'bittorrent-dht announce',
    );
    // We find bittorrent-dht's peer (it announced to us, the only other node; the lookup asks it too).
    const peers = await ours.getPeers(infoHash);
    expect(peers).toContainEqual({ host: '127.0.0.1', port: 7002 });
    // bittorrent-dht finds ours.
    const found: BtPeer[] = [];
    theirs.on('peer', (peer, ih) => {
      if (toHex(ih) === toHex(infoHash)) found.push(peer);
    });
    await withTimeout(
      new Promise<void>((resolve, reject) =>
        theirs.lookup(infoHash, (err) => (err ? reject(err) : resolve())),
      ),
      10_000,
      'bittorrent-dht lookup',
    );
    expect(found).toContainEqual({ host: '127.0.0.1', port: 7001 });
  });
});
