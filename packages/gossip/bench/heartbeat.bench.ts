/**
 * The cost of one heartbeat (js-libp2p-gossipsub#256: a heartbeat that blocked the event loop
 * for a second). A router with 64 peers, 10 topics (every peer in every topic) and the message
 * cache full (1,000 messages per heartbeat window, 5 windows); measured against verifying one
 * Ed25519 signature in the same run.
 */
import { fmt, percentile, rate, report } from '@peerkit/dev-kit/bench';
import { SignatureVerifier, signedBytes } from '../src/index';
import { fakePeer, harness } from '../test/helpers/router';

const PEERS = 64;
const TOPICS = 10;
const PER_WINDOW = 1000;

const h = harness();
const peers = Array.from({ length: PEERS }, () => fakePeer());
const topics = Array.from({ length: TOPICS }, (_, i) => `topic-${i}`);
for (const [i, p] of peers.entries()) {
  h.router.addPeer(p.key, i % 2 === 0, `10.0.${i}.1`);
  h.router.handleRpc(p.key, {
    type: 'rpc',
    subs: topics.map((topic) => ({ topic, subscribe: true })),
  });
}
for (const topic of topics) h.router.subscribe(topic);
let n = 0;
const fill = () => {
  for (let i = 0; i < PER_WINDOW; i++) {
    const p = peers[n % PEERS] as (typeof peers)[number];
    const topic = topics[n % TOPICS] as string;
    h.router.handleRpc(p.key, {
      type: 'rpc',
      msgs: [p.message(topic, new Uint8Array([n & 255, n >> 8]))],
    });
    n++;
  }
};
for (let w = 0; w < 5; w++) {
  fill();
  h.clock.now += 1000;
  h.router.heartbeat();
}
h.sent.length = 0;

// Each measured heartbeat runs with the cache full: a new window of messages arrives first.
const times: number[] = [];
for (let i = 0; i < 30; i++) {
  fill();
  h.clock.now += 1000;
  const t0 = performance.now();
  h.router.heartbeat();
  times.push(performance.now() - t0);
  h.sent.length = 0;
}
const heartbeatMs = percentile(times, 50);
const heartbeatMax = Math.max(...times);
const ihaveIds = (PER_WINDOW * 3) / TOPICS; // ids per topic in the gossip windows
const p = fakePeer();
const m = p.message('x', new Uint8Array(32));
const verifier = new SignatureVerifier();
const signed = signedBytes(m.from as Uint8Array, m.seqno as number, m.topic, m.data);
const verifies = rate(
  () => verifier.verify(m.from as Uint8Array, signed, m.sig as Uint8Array),
  1000,
);

report({
  package: '@peerkit/gossip',
  name: 'heartbeat',
  title: `one heartbeat: ${PEERS} peers, ${TOPICS} topics, ${PER_WINDOW * 5} cached messages`,
  columns: ['operation', 'median ms', 'max ms', 'in Ed25519 verifies (median)'],
  rows: [
    ['router.heartbeat()', heartbeatMs, heartbeatMax, heartbeatMs / (1000 / verifies)],
    ['Ed25519 verify (reference)', 1000 / verifies, '', 1],
  ],
  notes: [
    `a heartbeat (IHAVE of ${ihaveIds} ids per topic to max(Dlazy, 0.25 × eligible) peers, mesh upkeep, score refresh) costs about ${fmt(heartbeatMs / (1000 / verifies))} signature verifications`,
  ],
});
