/**
 * Gossip rules: peerkit's gossip wire spec (packages/gossip/README.md, "Wire spec" and "How it
 * works"), checked against a live node over TCP with raw test peers.
 */
import {
  defaultMessageId,
  type Frame,
  type GossipMessage,
  PROTOCOL_VERSION,
} from '@peerkit/gossip';
import * as fc from 'fast-check';
import { defineRule, ensure, type Rule, RuleViolation } from '../framework/rule';
import type { GossipContext } from '../gossip/context';
import type { GossipPeer } from '../gossip/peer';

const SPEC = 'peerkit gossip';
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const bytesEqual = (a: Uint8Array | undefined, b: Uint8Array | undefined) =>
  a !== undefined && b !== undefined && a.length === b.length && a.every((x, i) => x === b[i]);

function sleep(ctx: GossipContext, ms: number): Promise<void> {
  return new Promise((resolve) => ctx.network.clock.setTimeout(resolve, ms));
}

async function needsTopic(ctx: GossipContext): Promise<string | undefined> {
  return ctx.topic === undefined ? 'the node announces no subscription (pass --topic)' : undefined;
}

function topicOf(ctx: GossipContext): string {
  ensure(ctx.topic !== undefined, 'no topic');
  return ctx.topic;
}

/** Subscribes `peer` to the topic and grafts it into the node's mesh. */
async function join(peer: GossipPeer, topic: string, graft = true): Promise<void> {
  await peer.send({ type: 'rpc', subs: [{ topic, subscribe: true }] });
  if (graft) await peer.send({ type: 'rpc', control: { graft: [topic] } });
}

const messageWith = (m: GossipMessage) => (f: Frame) =>
  f.type === 'rpc'
    ? f.msgs?.find((x) => bytesEqual(defaultMessageId(x), defaultMessageId(m)))
    : undefined;

const hello = defineRule<GossipContext, { port: number | undefined }>({
  id: 'gossip.hello',
  title: 'a hello is answered with a hello: version 1 and a 32-byte id',
  cite: {
    spec: SPEC,
    section: 'Wire spec, hello',
    text: "`hello` — first frame in each direction: version 1; id bytes[32], the sender's peer id = its Ed25519 public key.",
  },
  cases: () =>
    fc.record({ port: fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }) }),
  async check(ctx, { port }) {
    const peer = await ctx.dial();
    try {
      await peer.send({
        type: 'hello',
        version: PROTOCOL_VERSION,
        id: peer.identity.publicKey,
        ...(port === undefined ? {} : { port }),
      });
      const h = await peer.next((f) => (f.type === 'hello' ? f : undefined), ctx.timeoutMs);
      ensure(h !== undefined, `no hello back${peer.error ? ` (${peer.error.message})` : ''}`);
      ensure(h.version === PROTOCOL_VERSION, `hello version ${h.version}`);
      ensure(h.id.length === 32, `hello id of ${h.id.length} bytes`);
    } finally {
      peer.close();
    }
  },
});

const helloVersion = defineRule<GossipContext, { version: number }>({
  id: 'gossip.hello.version',
  title: 'a hello with another version than 1 closes the connection',
  cite: {
    spec: SPEC,
    section: 'Wire spec, hello',
    text: 'version: `1`; any other version closes the connection (`BAD_HELLO`)',
  },
  cases: () =>
    fc.record({ version: fc.integer({ min: 0, max: 255 }).filter((v) => v !== PROTOCOL_VERSION) }),
  async check(ctx, { version }) {
    const peer = await ctx.dial();
    try {
      await peer.send({ type: 'hello', version, id: peer.identity.publicKey });
      ensure(
        await peer.closedWithin(ctx.timeoutMs),
        `connection still open ${ctx.timeoutMs} ms after a hello of version ${version}`,
      );
    } finally {
      peer.close();
    }
  },
});

const helloFirst = defineRule<GossipContext, { topic: string; second: boolean }>({
  id: 'gossip.hello.first',
  title: 'an rpc before the hello, or a second hello, closes the connection',
  cite: {
    spec: SPEC,
    section: 'Wire spec, hello',
    text: 'Any other frame before the `hello`, a second `hello`, our own id, or no `hello` within 10 s closes the connection.',
  },
  cases: () =>
    fc.record({ topic: fc.string({ minLength: 1, maxLength: 16 }), second: fc.boolean() }),
  async check(ctx, { topic, second }) {
    const peer = await ctx.dial();
    try {
      if (second) {
        await peer.send({ type: 'hello', version: PROTOCOL_VERSION, id: peer.identity.publicKey });
        await peer.send({ type: 'hello', version: PROTOCOL_VERSION, id: peer.identity.publicKey });
      } else {
        await peer.send({ type: 'rpc', subs: [{ topic, subscribe: true }] });
      }
      ensure(
        await peer.closedWithin(ctx.timeoutMs),
        `connection still open after ${second ? 'a second hello' : 'an rpc before the hello'}`,
      );
    } finally {
      peer.close();
    }
  },
});

const forward = defineRule<GossipContext, { data: Uint8Array }>({
  id: 'gossip.forward',
  title: 'a valid signed message is forwarded unchanged to grafted peers, never back to its source',
  cite: {
    spec: SPEC,
    section: 'How it works, Messages',
    text: 'once accepted: stored in the message cache, delivered to onMessage handlers exactly once, and forwarded to the mesh peers except the one it came from and its author.',
  },
  applies: needsTopic,
  cases: () => fc.record({ data: fc.uint8Array({ maxLength: 256 }) }),
  async check(ctx, { data }) {
    const topic = topicOf(ctx);
    const a = await ctx.connect();
    const b = await ctx.connect();
    try {
      await join(b, topic);
      await join(a, topic);
      await sleep(ctx, 50);
      const m = a.message(topic, data);
      await a.send({ type: 'rpc', msgs: [m] });
      const got = await b.next(messageWith(m), ctx.timeoutMs);
      ensure(
        got !== undefined,
        `a grafted peer did not receive message ${hex(defaultMessageId(m))}`,
      );
      ensure(
        bytesEqual(got.data, m.data) &&
          bytesEqual(got.sig, m.sig) &&
          bytesEqual(got.from, m.from) &&
          got.seqno === m.seqno &&
          got.topic === m.topic,
        'the forwarded message differs from the one sent',
      );
      const back = await a.next(messageWith(m), 200);
      ensure(back === undefined, 'the message was sent back to its source');
    } finally {
      a.close();
      b.close();
    }
  },
});

const badSignature = defineRule<GossipContext, { data: Uint8Array; flip: number }>({
  id: 'gossip.signature',
  title: 'a message with a bad signature is not forwarded',
  cite: {
    spec: SPEC,
    section: 'How it works, Messages',
    text: 'must carry a valid Ed25519 signature (checked before the id is marked seen, so a forged copy cannot shadow the real message)',
  },
  applies: needsTopic,
  cases: () => fc.record({ data: fc.uint8Array({ maxLength: 64 }), flip: fc.nat(64 * 8 - 1) }),
  async check(ctx, { data, flip }) {
    const topic = topicOf(ctx);
    const a = await ctx.connect();
    const b = await ctx.connect();
    try {
      await join(b, topic);
      await join(a, topic);
      await sleep(ctx, 50);
      const forged = a.message(topic, data);
      const sig = (forged.sig as Uint8Array).slice();
      sig[flip >> 3] = (sig[flip >> 3] as number) ^ (1 << (flip & 7));
      const valid = a.message(topic, new Uint8Array([...data, 1]));
      await a.send({ type: 'rpc', msgs: [{ ...forged, sig }] });
      await a.send({ type: 'rpc', msgs: [valid] });
      let forwarded = false;
      const got = await b.next((f) => {
        if (messageWith(forged)(f) !== undefined) forwarded = true;
        return messageWith(valid)(f);
      }, ctx.timeoutMs);
      ensure(
        !forwarded,
        `forwarded message ${hex(defaultMessageId(forged))} with a corrupted signature (bit ${flip})`,
      );
      ensure(got !== undefined, 'the valid message sent after the forged one was not forwarded');
    } finally {
      a.close();
      b.close();
    }
  },
});

const iwant = defineRule<GossipContext, { data: Uint8Array; unknown: Uint8Array[] }>({
  id: 'gossip.iwant',
  title: 'IWANT is answered with the cached message, and nothing for ids it never saw',
  cite: {
    spec: SPEC,
    section: 'How it works, Gossip',
    text: 'A received IWANT is answered from the cache, at most gossipRetransmission (3) times per message per peer.',
  },
  applies: needsTopic,
  cases: () =>
    fc.record({
      data: fc.uint8Array({ maxLength: 64 }),
      unknown: fc.array(fc.uint8Array({ minLength: 40, maxLength: 40 }), { maxLength: 3 }),
    }),
  async check(ctx, { data, unknown }) {
    const topic = topicOf(ctx);
    const a = await ctx.connect();
    const b = await ctx.connect();
    try {
      await join(b, topic);
      await join(a, topic);
      await sleep(ctx, 50);
      const m = a.message(topic, data);
      await a.send({ type: 'rpc', msgs: [m] });
      ensure(
        (await b.next(messageWith(m), ctx.timeoutMs)) !== undefined,
        'the message was not forwarded to a grafted peer',
      );
      await b.send({ type: 'rpc', control: { iwant: [...unknown, defaultMessageId(m)] } });
      let other: GossipMessage | undefined;
      const got = await b.next((f) => {
        for (const x of f.type === 'rpc' ? (f.msgs ?? []) : []) {
          if (!bytesEqual(defaultMessageId(x), defaultMessageId(m))) other ??= x;
        }
        return messageWith(m)(f);
      }, ctx.timeoutMs);
      if (other !== undefined) {
        throw new RuleViolation(
          `IWANT answered with a message we did not ask for: ${hex(defaultMessageId(other))}`,
        );
      }
      ensure(
        got !== undefined,
        `IWANT for ${hex(defaultMessageId(m))}, just forwarded to us, got no answer`,
      );
    } finally {
      a.close();
      b.close();
    }
  },
});

const ihave = defineRule<GossipContext, { data: Uint8Array }>({
  id: 'gossip.ihave',
  title: 'a subscribed peer outside the mesh receives IHAVE for a new message, and IWANT gets it',
  cite: {
    spec: SPEC,
    section: 'How it works, Gossip',
    text: 'Each heartbeat, for every topic in the mesh or fanout, the ids in the last mcacheGossip (3) windows are sent in an IHAVE to max(Dlazy, gossipFactor × eligible) random subscribed peers outside the mesh',
  },
  applies: needsTopic,
  cases: () => fc.record({ data: fc.uint8Array({ maxLength: 64 }) }),
  async check(ctx, { data }) {
    const topic = topicOf(ctx);
    const a = await ctx.connect();
    const b = await ctx.connect();
    try {
      // b subscribes but prunes itself: the node keeps it out of the mesh for the backoff.
      await join(b, topic, false);
      await b.send({ type: 'rpc', control: { prune: [{ topic, backoff: 600 }] } });
      await join(a, topic);
      await sleep(ctx, 50);
      const m = a.message(topic, data);
      const id = defaultMessageId(m);
      await a.send({ type: 'rpc', msgs: [m] });
      const wait = Math.max(ctx.timeoutMs, 5_000); // a few heartbeats
      let early = false;
      const announced = await b.next((f) => {
        if (messageWith(m)(f) !== undefined) early = true;
        return f.type === 'rpc' &&
          f.control?.ihave?.some((e) => e.topic === topic && e.ids.some((x) => bytesEqual(x, id)))
          ? true
          : undefined;
      }, wait);
      ensure(!early, 'the message was pushed to a peer that pruned itself from the mesh');
      ensure(announced, `no IHAVE for ${hex(id)} within ${wait} ms`);
      await b.send({ type: 'rpc', control: { iwant: [id] } });
      ensure(
        (await b.next(messageWith(m), ctx.timeoutMs)) !== undefined,
        'IWANT after the IHAVE got no message',
      );
    } finally {
      a.close();
      b.close();
    }
  },
});

const graftBackoff = defineRule<GossipContext, { backoff: number }>({
  id: 'gossip.graft.backoff',
  title: 'a GRAFT during the backoff of our own PRUNE is answered with a PRUNE carrying a backoff',
  cite: {
    spec: SPEC,
    section: 'How it works, The mesh',
    text: 'A received GRAFT is accepted unless: [...] the peer is in backoff [...] Refusals are answered with a PRUNE carrying a backoff',
  },
  applies: needsTopic,
  cases: () => fc.record({ backoff: fc.integer({ min: 30, max: 86_400 }) }),
  async check(ctx, { backoff }) {
    const topic = topicOf(ctx);
    const p = await ctx.connect();
    try {
      await join(p, topic, false);
      await p.send({ type: 'rpc', control: { prune: [{ topic, backoff }] } });
      await p.send({ type: 'rpc', control: { graft: [topic] } });
      const prune = await p.next(
        (f) => (f.type === 'rpc' ? f.control?.prune?.find((e) => e.topic === topic) : undefined),
        ctx.timeoutMs,
      );
      ensure(
        prune !== undefined,
        `GRAFT within a ${backoff} s backoff was not answered with a PRUNE`,
      );
      ensure((prune.backoff ?? 0) > 0, 'the PRUNE carries no backoff');
    } finally {
      p.close();
    }
  },
});

const graftUnsubscribed = defineRule<GossipContext, { topic: string }>({
  id: 'gossip.graft.not-subscribed',
  title: 'a GRAFT for a topic the node does not subscribe to is answered with a PRUNE',
  cite: {
    spec: SPEC,
    section: 'How it works, The mesh',
    text: 'A received GRAFT is accepted unless: we do not subscribe to the topic (not-subscribed) [...] Refusals are answered with a PRUNE carrying a backoff',
  },
  cases: () =>
    fc.record({ topic: fc.string({ minLength: 1, maxLength: 32 }).map((t) => `conform/${t}`) }),
  async check(ctx, { topic }) {
    const p = await ctx.connect();
    try {
      await sleep(ctx, 20);
      if (p.subscriptions.has(topic)) return;
      await join(p, topic);
      const prune = await p.next(
        (f) => (f.type === 'rpc' ? f.control?.prune?.find((e) => e.topic === topic) : undefined),
        ctx.timeoutMs,
      );
      ensure(
        prune !== undefined,
        `GRAFT for "${topic}", which the node does not subscribe to, got no PRUNE`,
      );
    } finally {
      p.close();
    }
  },
});

const badFrame = defineRule<GossipContext, Uint8Array>({
  id: 'gossip.bad-frame',
  title:
    'a frame that is not a valid hello or rpc closes the connection, and the node keeps serving others',
  cite: {
    spec: SPEC,
    section: 'Wire spec, Errors',
    text: 'BAD_RPC: a frame is not a valid hello/rpc (closes the connection, +1 behaviour penalty)',
  },
  cases: () =>
    fc.oneof(
      fc.uint8Array({ minLength: 1, maxLength: 128 }),
      fc.constantFrom(
        new Uint8Array([0xc1]),
        new Uint8Array([0x80]),
        new Uint8Array([0x81, 0xa4, 0x74, 0x79, 0x70, 0x65, 0xa3, 0x72, 0x70, 0x64]),
      ),
    ),
  async check(ctx, payload) {
    const p = await ctx.connect();
    try {
      let valid = true;
      try {
        p.codec.decode(payload);
      } catch {
        valid = false;
      }
      fc.pre(!valid);
      await p.sendRaw(payload);
      ensure(
        await p.closedWithin(ctx.timeoutMs),
        `connection still open after an invalid frame (${hex(payload.subarray(0, 32))})`,
      );
    } finally {
      p.close();
    }
  },
});

const oversizeFrame = defineRule<GossipContext, { length: number }>({
  id: 'gossip.frame-size',
  title: 'a frame header above maxRpcSize closes the connection before the frame is read',
  cite: {
    spec: SPEC,
    section: 'Wire spec',
    text: 'Frames larger than `maxRpcSize` are refused before they are read, and the connection is closed.',
  },
  cases: () =>
    fc.record({ length: fc.integer({ min: 4 * 1024 * 1024 + 64 * 1024 + 1, max: 2 ** 32 - 1 }) }),
  async check(ctx, { length }) {
    const p = await ctx.connect();
    try {
      const header = new Uint8Array(4);
      new DataView(header.buffer).setUint32(0, length);
      await p.write(header);
      ensure(
        await p.closedWithin(ctx.timeoutMs),
        `connection still open after a frame header of ${length} bytes`,
      );
    } finally {
      p.close();
    }
  },
});

export const gossipRules: readonly Rule<GossipContext>[] = [
  hello,
  helloVersion,
  helloFirst,
  forward,
  badSignature,
  iwant,
  ihave,
  graftBackoff,
  graftUnsubscribed,
  badFrame,
  oversizeFrame,
];
