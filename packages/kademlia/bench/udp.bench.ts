/**
 * 200 DHT nodes on real UDP sockets (loopback) in one process, peerkit next to webtorrent's
 * bittorrent-dht 11 measured in the same run: 20 info-hashes are announced, then each is looked
 * up 5 times from random other nodes. Per lookup: wall-clock latency, queries sent by the
 * looking node, and whether the announced peer was found.
 *
 * Memory, measured the same way for both: after a warm-up run of each (so compiled code is not
 * counted), the growth of the V8 heap per node between before the first node starts and after
 * all nodes have bootstrapped and then sat idle for SETTLE_MS (so in-flight queries and
 * short-lived state are over), each after forced GCs (--expose-gc). "heap + buffers" adds
 * `process.memoryUsage().arrayBuffers`: our routing table keeps its nodes in an ArrayBuffer,
 * bittorrent-dht keeps ids in Buffers, and neither lives in the V8 heap proper.
 */

import { fmt, percentile, report } from '@peerkit/dev-kit/bench';
import { nodeNetwork } from '@peerkit/transport';
import BtDHT from 'bittorrent-dht';
import { DHT, randomId, toHex } from '../src/index';

const N = Number(process.env.KADEMLIA_BENCH_NODES ?? 200);
const INFO_HASHES = 20;
const LOOKUPS_PER_HASH = 5;
const SETTLE_MS = 2000;

interface BtNode {
  listen(port: number, host: string, cb: () => void): void;
  address(): { port: number };
  announce(infoHash: Buffer, port: number, cb: (err?: Error) => void): void;
  lookup(infoHash: Buffer, cb: (err?: Error) => void): void;
  on(event: string, fn: (...args: never[]) => void): void;
  removeListener(event: string, fn: (...args: never[]) => void): void;
  once(event: string, fn: () => void): void;
  ready: boolean;
  nodes: { count(): number };
  destroy(cb: () => void): void;
  _rpc: { socket: { query: (...args: unknown[]) => unknown } };
}
type BtCtor = new (opts: Record<string, unknown>) => BtNode;

interface Memory {
  heap: number;
  buffers: number;
}

function memory(): Memory {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc (pnpm bench does)');
  for (let i = 0; i < 3; i++) gc();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, buffers: m.arrayBuffers };
}

/** Memory per node since `before`, after the nodes settled. */
async function perNode(before: Memory, n: number): Promise<Memory> {
  await sleep(SETTLE_MS);
  const after = memory();
  return { heap: (after.heap - before.heap) / n, buffers: (after.buffers - before.buffers) / n };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pick = <T>(xs: T[]) => xs[Math.floor(Math.random() * xs.length)]!;

interface Result {
  latency: number[];
  queries: number[];
  found: number;
  total: number;
  perNode: Memory;
  /** Routing table entries per node after bootstrap. */
  tableSize: number;
}

async function peerkit(n = N): Promise<Result> {
  const network = nodeNetwork();
  const before = memory();
  const nodes: DHT[] = [];
  for (let i = 0; i < n; i++) {
    const d = new DHT({ network, rpc: { ratePerSecond: 1000, rateBurst: 1000 } });
    await d.listen({ host: '127.0.0.1' });
    nodes.push(d);
  }
  const boot = nodes[0]!.address;
  for (let i = 1; i < n; i += 20)
    await Promise.all(nodes.slice(i, i + 20).map((d) => d.bootstrap([boot])));
  const mem = await perNode(before, n);
  const tableSize = nodes.reduce((sum, d) => sum + d.table.size, 0) / n;
  const out: Result = { latency: [], queries: [], found: 0, total: 0, perNode: mem, tableSize };
  for (let h = 0; h < INFO_HASHES; h++) {
    const infoHash = randomId(network.random);
    const announcer = pick(nodes);
    await announcer.announce(infoHash, 10_000 + h);
    for (let l = 0; l < LOOKUPS_PER_HASH; l++) {
      let asker = pick(nodes);
      while (asker === announcer) asker = pick(nodes);
      const sent = asker.stats.queriesSent;
      const t0 = performance.now();
      const peers = await asker.getPeers(infoHash);
      out.latency.push(performance.now() - t0);
      out.queries.push(asker.stats.queriesSent - sent);
      out.total++;
      if (peers.some((p) => p.port === 10_000 + h)) out.found++;
    }
  }
  await Promise.all(nodes.map((d) => d.close()));
  return out;
}

async function bittorrentDht(n = N): Promise<Result> {
  const Bt = BtDHT as unknown as BtCtor;
  const before = memory();
  const nodes: BtNode[] = [];
  const counts = new Map<BtNode, number>();
  const first = new Bt({ bootstrap: false, host: '127.0.0.1' });
  await new Promise<void>((r) => first.listen(0, '127.0.0.1', () => r()));
  nodes.push(first);
  const boot = `127.0.0.1:${first.address().port}`;
  for (let i = 1; i < n; i += 20) {
    await Promise.all(
      Array.from({ length: Math.min(20, n - i) }, async () => {
        const d = new Bt({ bootstrap: [boot], host: '127.0.0.1' });
        await new Promise<void>((r) => d.listen(0, '127.0.0.1', () => r()));
        if (!d.ready)
          await Promise.race([new Promise<void>((r) => d.once('ready', r)), sleep(10_000)]);
        nodes.push(d);
      }),
    );
  }
  const mem = await perNode(before, n);
  const tableSize = nodes.reduce((sum, d) => sum + d.nodes.count(), 0) / n;
  for (const d of nodes) {
    const socket = d._rpc.socket;
    const query = socket.query.bind(socket);
    counts.set(d, 0);
    socket.query = (...args: unknown[]) => {
      counts.set(d, (counts.get(d) ?? 0) + 1);
      return query(...args);
    };
  }
  const out: Result = { latency: [], queries: [], found: 0, total: 0, perNode: mem, tableSize };
  for (let h = 0; h < INFO_HASHES; h++) {
    const infoHash = Buffer.from(randomId(nodeNetwork().random));
    const announcer = pick(nodes);
    await new Promise<void>((r) => announcer.announce(infoHash, 20_000 + h, () => r()));
    for (let l = 0; l < LOOKUPS_PER_HASH; l++) {
      let asker = pick(nodes);
      while (asker === announcer) asker = pick(nodes);
      let found = false;
      const onPeer = (peer: { port: number }, ih: Buffer) => {
        if (peer.port === 20_000 + h && toHex(ih) === toHex(infoHash)) found = true;
      };
      asker.on('peer', onPeer as never);
      const sent = counts.get(asker) ?? 0;
      const t0 = performance.now();
      await new Promise<void>((r) => asker.lookup(infoHash, () => r()));
      out.latency.push(performance.now() - t0);
      out.queries.push((counts.get(asker) ?? 0) - sent);
      asker.removeListener('peer', onPeer as never);
      out.total++;
      if (found) out.found++;
    }
  }
  await Promise.all(nodes.map((d) => new Promise<void>((r) => d.destroy(() => r()))));
  return out;
}

// Warm-up runs first, so that heap growth counts node state, not compiled code.
await peerkit(20);
await bittorrentDht(20);
await sleep(200);
const ours = await peerkit();
await sleep(500);
const theirs = await bittorrentDht();
const row = (name: string, r: Result) => [
  name,
  `${r.found}/${r.total}`,
  fmt(percentile(r.latency, 50)),
  fmt(percentile(r.latency, 99)),
  percentile([...r.queries], 50),
  fmt(r.queries.reduce((a, b) => a + b, 0) / r.queries.length),
  fmt(r.tableSize),
  `${fmt(r.perNode.heap / 1024)} KiB`,
  `${fmt((r.perNode.heap + r.perNode.buffers) / 1024)} KiB`,
];
report({
  package: '@peerkit/kademlia',
  name: 'udp-200',
  title: `get_peers lookups, ${N} nodes on loopback UDP in one process`,
  columns: [
    'implementation',
    'peer found',
    'latency p50 (ms)',
    'latency p99 (ms)',
    'queries p50',
    'queries mean',
    'table entries per node',
    'heap per node',
    'heap + buffers per node',
  ],
  rows: [row('@peerkit/kademlia', ours), row('bittorrent-dht 11.0.12', theirs)],
  notes: [
    `Queries: KRPC queries the looking node sent during its lookup. Ratio of means (peerkit / bittorrent-dht): ${fmt(
      ours.queries.reduce((a, b) => a + b, 0) / theirs.queries.reduce((a, b) => a + b, 0),
    )}.`,
    `Memory per node (heap + buffers), peerkit / bittorrent-dht: ${fmt(
      (ours.perNode.heap + ours.perNode.buffers) / (theirs.perNode.heap + theirs.perNode.buffers),
    )}; measured after ${SETTLE_MS} ms idle, forced GC, same node count for both.`,
  ],
});
