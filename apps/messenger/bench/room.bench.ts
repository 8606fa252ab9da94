/**
 * Messenger benchmark, on loopback in one process (real TCP, real Noise, real gossip):
 *
 * 1. Throughput: 20 nodes in one room; 400 messages published round-robin by every node; the
 *    rate at which messages are delivered to all 19 other members. Reference in the same run:
 *    the Ed25519 work one delivery needs (verify the gossip and the envelope signatures), i.e.
 *    what one core could do if nothing else cost anything.
 * 2. Join-to-first-message latency: a 21st node joins the room (5 messages/s); time from `join()` until
 *    it shows the first message (history sync), and until the first live message arrives.
 */
import { performance } from 'node:perf_hooks';
import { fmt, percentile, rate, report } from '@peerkit/dev-kit/bench';
import { runBootstrapNode } from '@peerkit/kademlia';
import { generateIdentity, signWithIdentity, verifyIdentitySignature } from '@peerkit/noise';
import { nodeNetwork } from '@peerkit/transport';
import { EnvelopeCodec, verifyRoomMessage } from '../src/envelope';
import type { ChatEvent } from '../src/events';
import { MessengerNode } from '../src/node';

const NODES = 20;
const MESSAGES = 400;
const ROOM = 'bench';
const limits = { ratePerSecond: 1e6, rateBurst: 1e6 }; // measure the pipeline, not the limiter

async function until(predicate: () => boolean, what: string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const network = nodeNetwork();
const boot = await runBootstrapNode({ network, host: '127.0.0.1', port: 0 });
const nodes: MessengerNode[] = [];
const received: number[] = [];
for (let i = 0; i < NODES; i++) {
  const index = i;
  received.push(0);
  const node = await MessengerNode.start({
    network,
    identity: generateIdentity(),
    host: '127.0.0.1',
    bootstrap: [boot.address],
    aloneRetryMs: 200,
    refreshMs: 15000,
    limits,
    onEvent: (e) => {
      if (e.type === 'message' && !e.own) received[index]!++;
    },
  });
  nodes.push(node);
  await node.join(ROOM);
}
await until(() => nodes.every((n) => n.roomPeers(ROOM).length >= 4), 'the mesh to form');
await new Promise((r) => setTimeout(r, 1500)); // a few heartbeats: mesh within D_lo..D_hi

const start = performance.now();
for (let m = 0; m < MESSAGES; m++) {
  nodes[m % NODES]!.say(ROOM, `message ${m} ${'x'.repeat(80)}`);
  if (m % 20 === 19) await new Promise((r) => setImmediate(r));
}
const expected = MESSAGES - MESSAGES / NODES; // each node receives everyone else's
await until(() => received.every((n) => n >= expected), 'every delivery');
const elapsed = (performance.now() - start) / 1000;
const deliveries = MESSAGES * (NODES - 1);

// Reference: the signature work of one delivery (gossip signature + envelope signature).
const codec = new EnvelopeCodec();
const id = generateIdentity();
const sample = codec.signRoom(id, { room: ROOM, ts: 1, seq: 1, text: 'x'.repeat(90) });
const gossipBytes = new Uint8Array(200);
const gossipSig = signWithIdentity(id, gossipBytes);
const verifyRate = rate(() => {
  verifyRoomMessage(sample);
  verifyIdentitySignature(id.publicKey, gossipBytes, gossipSig);
}, 1000);

// Join-to-first-message latency, 5 late joiners while one member keeps talking.
const lateNodes: MessengerNode[] = [];
const historyMs: number[] = [];
const liveMs: number[] = [];
let talking = true;
const talker = (async () => {
  let k = 0;
  while (talking) {
    nodes[k % NODES]!.say(ROOM, `live ${k++}`);
    await new Promise((r) => setTimeout(r, 200));
  }
})();
for (let j = 0; j < 5; j++) {
  const events: [number, ChatEvent][] = [];
  const t0 = performance.now();
  const late = await MessengerNode.start({
    network,
    identity: generateIdentity(),
    host: '127.0.0.1',
    bootstrap: [boot.address],
    limits,
    onEvent: (e) => events.push([performance.now(), e]),
  });
  await late.join(ROOM);
  await until(() => events.some(([, e]) => e.type === 'message' && !e.own), 'a live message');
  const first = (type: string) =>
    events.find(([, e]) => e.type === type && !('own' in e && e.own))?.[0];
  historyMs.push((first('history') ?? Number.NaN) - t0);
  liveMs.push((first('message') ?? Number.NaN) - t0);
  lateNodes.push(late); // stays: a member that left would slow later DHT lookups (README)
}
talking = false;
await talker;
await Promise.all([...nodes, ...lateNodes].map((n) => n.close()));
await boot.close();

report({
  package: '@peerkit/messenger',
  name: 'room',
  title: `a room of ${NODES} nodes on loopback (one process, real TCP + Noise + gossip)`,
  columns: ['what', 'value', 'reference'],
  rows: [
    [
      'room messages delivered to all 19 others',
      `${fmt(MESSAGES / elapsed)} messages/s (${fmt(deliveries / elapsed)} deliveries/s)`,
      `Ed25519 work per delivery (2 verifications): ${fmt(verifyRate)}/s on one core`,
    ],
    [
      'join to first message shown (history sync), p50 / max of 5',
      `${fmt(percentile([...historyMs], 50))} ms / ${fmt(Math.max(...historyMs))} ms`,
      'includes DHT bootstrap, announce + get_peers, Noise XX, history request',
    ],
    [
      'join to first live message, p50 / max of 5',
      `${fmt(percentile([...liveMs], 50))} ms / ${fmt(Math.max(...liveMs))} ms`,
      'a member publishes every 200 ms',
    ],
  ],
  notes: [
    `${MESSAGES} messages of ~100 bytes, published round-robin by the ${NODES} nodes; delivery counted at the application after verification. Node ${process.version}, all nodes share this process's one event loop.`,
  ],
});
