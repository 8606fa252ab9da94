/**
 * Rules of the connection's start (README, "Wire spec", `hello`; "How it works",
 * "Subscriptions"): the hello exchange, and the subscriptions announced after it.
 */
import { defineRule, ensure } from '@peerkit/conformance';
import * as fc from 'fast-check';
import { arbTopic } from '../../testing/arbitraries';
import { PROTOCOL_VERSION } from '../../wire';
import type { GossipContext } from '../context';
import { needsTopic, SPEC, subscribedTo, topicOf } from './shared';

export const hello = defineRule<GossipContext, { port: number | undefined }>({
  id: 'gossip.hello',
  title: 'a hello is answered with a hello first: version 1 and a 32-byte id',
  cite: {
    spec: SPEC,
    section: 'Wire spec, hello',
    text: "`hello` — first frame in each direction [...] `version` [...] `1`; any other version closes the connection [...] `id` [...] bytes[32] [...] the sender's peer id = its Ed25519 public key",
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
      const first = await peer.next((f) => f, ctx.timeoutMs);
      ensure(first !== undefined, `no hello back${peer.error ? ` (${peer.error.message})` : ''}`);
      ensure(first.type === 'hello', `the node's first frame is an ${first.type}, not a hello`);
      const h = first;
      ensure(h.version === PROTOCOL_VERSION, `hello version ${h.version}`);
      ensure(h.id.length === 32, `hello id of ${h.id.length} bytes`);
    } finally {
      peer.close();
    }
  },
});

export const helloVersion = defineRule<GossipContext, { version: number }>({
  id: 'gossip.hello.version',
  title: 'a hello with another version than 1 closes the connection',
  cite: {
    spec: SPEC,
    section: 'Wire spec, hello',
    text: '`1`; any other version closes the connection (`BAD_HELLO`)',
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

export const helloFirst = defineRule<GossipContext, { topic: string; second: boolean }>({
  id: 'gossip.hello.first',
  title: 'an rpc before the hello, or a second hello, closes the connection',
  cite: {
    spec: SPEC,
    section: 'Wire spec, hello',
    text: 'Any other frame before the `hello`, a second `hello`, our own id, [...] or no `hello` within 10 s closes the connection.',
  },
  cases: () => fc.record({ topic: arbTopic(), second: fc.boolean() }),
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

export const subscriptions = defineRule<GossipContext, { ours: string[] }>({
  id: 'gossip.subscriptions',
  title: 'after its hello, the node announces its subscriptions',
  cite: {
    spec: SPEC,
    section: 'How it works, Subscriptions',
    text: 'On connecting, each side sends its `hello`, then its subscriptions (`subs`)',
  },
  applies: needsTopic,
  // Whatever the peer subscribes to itself, the node announces its own topic.
  cases: () => fc.record({ ours: fc.array(arbTopic(), { maxLength: 3 }) }),
  async check(ctx, { ours }) {
    const topic = topicOf(ctx);
    const peer = await ctx.connect();
    try {
      if (ours.length > 0) {
        await peer.send({
          type: 'rpc',
          subs: ours.map((t) => ({ topic: t, subscribe: true })),
        });
      }
      const announced =
        peer.subscriptions.has(topic) ||
        (await peer.next(subscribedTo(topic), ctx.timeoutMs)) === true;
      ensure(
        announced,
        `no subscription to "${topic}" announced within ${ctx.timeoutMs} ms of the hello`,
      );
    } finally {
      peer.close();
    }
  },
});
