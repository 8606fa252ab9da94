/**
 * Rules of messages (README, "How it works", "Messages"; "Wire spec", _message_): forwarding
 * to the mesh, signature checks, and the node's own publications.
 */
import { defineRule, ensure } from '@peerkit/conformance';
import * as fc from 'fast-check';
import { defaultMessageId, type GossipMessage } from '../../message';
import { SignatureVerifier, signedBytes } from '../../signing';
import type { Frame } from '../../wire';
import type { GossipContext } from '../context';
import { bytesEqual, handled, hex, join, messageWith, needsTopic, SPEC, topicOf } from './shared';

export const forward = defineRule<GossipContext, { data: Uint8Array }>({
  id: 'gossip.forward',
  title: 'a valid signed message is forwarded unchanged to grafted peers, never back to its source',
  cite: {
    spec: SPEC,
    section: 'How it works, Messages',
    text: 'once accepted: stored in the message cache, delivered to `onMessage` handlers exactly once, and forwarded to the mesh peers except the one it came from and its author.',
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
      await handled(ctx, a, b);
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

type Tamper = { field: 'sig'; bit: number } | { field: 'data'; bit: number };

/** `m` with one bit flipped in its signature, or in its data (then the signature no longer fits). */
function tampered(m: GossipMessage, tamper: Tamper): GossipMessage {
  const flip = (bytes: Uint8Array, bit: number) => {
    const out = bytes.length === 0 ? new Uint8Array(1) : bytes.slice();
    const i = (bit >> 3) % out.length;
    out[i] = (out[i] as number) ^ (1 << (bit & 7));
    return out;
  };
  return tamper.field === 'sig'
    ? { ...m, sig: flip(m.sig as Uint8Array, tamper.bit) }
    : { ...m, data: flip(m.data, tamper.bit) };
}

export const signature = defineRule<GossipContext, { data: Uint8Array; tamper: Tamper }>({
  id: 'gossip.signature',
  title:
    'a message whose signature does not verify is not forwarded, and does not shadow the genuine one',
  cite: {
    spec: SPEC,
    section: 'How it works, Messages',
    text: 'must carry a valid Ed25519 signature (checked _before_ the id is marked seen, so a forged copy cannot shadow the real message);',
  },
  applies: needsTopic,
  cases: () =>
    fc.record({
      data: fc.uint8Array({ maxLength: 64 }),
      tamper: fc.oneof(
        fc.record({ field: fc.constant('sig' as const), bit: fc.nat(64 * 8 - 1) }),
        fc.record({ field: fc.constant('data' as const), bit: fc.nat(64 * 8 - 1) }),
      ),
    }),
  async check(ctx, { data, tamper }) {
    const topic = topicOf(ctx);
    const a = await ctx.connect();
    const b = await ctx.connect();
    try {
      await join(b, topic);
      await join(a, topic);
      await handled(ctx, a, b);
      // The forged copy has the genuine message's id (from || seqno): it comes first, then the
      // genuine message, which must still be accepted and forwarded.
      const genuine = a.message(topic, data);
      const forged = tampered(genuine, tamper);
      await a.send({ type: 'rpc', msgs: [forged] });
      await a.send({ type: 'rpc', msgs: [genuine] });
      let forwardedForged = false;
      const got = await b.next((f: Frame) => {
        const copy = messageWith(genuine)(f);
        if (copy === undefined) return undefined;
        if (bytesEqual(copy.data, genuine.data) && bytesEqual(copy.sig, genuine.sig)) return copy;
        forwardedForged = true;
        return undefined;
      }, ctx.timeoutMs);
      ensure(
        !forwardedForged,
        `forwarded message ${hex(defaultMessageId(forged))} with a flipped ${tamper.field} bit (bit ${tamper.bit})`,
      );
      ensure(
        got !== undefined,
        'the genuine message sent after a forged copy with the same id was not forwarded',
      );
    } finally {
      a.close();
      b.close();
    }
  },
});

/** Publishes through the context, retrying while the node does not yet know our subscription. */
async function publishWithin(ctx: GossipContext, data: Uint8Array): Promise<void> {
  const publish = ctx.publish;
  ensure(publish !== undefined, 'no publish capability');
  const deadline = ctx.network.clock.now() + ctx.timeoutMs;
  for (;;) {
    try {
      await publish(data);
      return;
    } catch (error) {
      // e.g. NO_PEERS_SUBSCRIBED while our subscription is still in flight.
      if (ctx.network.clock.now() >= deadline) {
        const reason = error instanceof Error ? error.message : String(error);
        ensure(false, `the node could not publish to a subscribed peer: ${reason}`);
      }
      await ctx.sleep(20);
    }
  }
}

export const publish = defineRule<GossipContext, { data: Uint8Array }>({
  id: 'gossip.publish',
  title:
    "a message the node publishes reaches a grafted peer, authored by the node's id and signed by it",
  cite: {
    spec: SPEC,
    section: 'How it works, Messages',
    text: '`publish(topic, data)` builds `{ from, seqno, topic, data, sig }` (or `{ topic, data }` under `strict-no-sign`), marks its id seen, stores it in the message cache and sends it',
  },
  async applies(ctx) {
    if (ctx.publish === undefined) {
      return 'no publish capability: only a test that runs the node can make it publish';
    }
    return needsTopic(ctx);
  },
  cases: () => fc.record({ data: fc.uint8Array({ maxLength: 256 }) }),
  async check(ctx, { data }) {
    const topic = topicOf(ctx);
    const p = await ctx.connect();
    try {
      const nodeId = p.hello?.id;
      ensure(nodeId !== undefined, 'no hello from the node');
      await join(p, topic);
      await handled(ctx, p);
      await publishWithin(ctx, data);
      const m = await p.next(
        (f) =>
          f.type === 'rpc'
            ? f.msgs?.find((x) => x.topic === topic && bytesEqual(x.data, data))
            : undefined,
        ctx.timeoutMs,
      );
      ensure(m !== undefined, `a grafted peer did not receive the published ${hex(data)}`);
      if (m.from === undefined) {
        // strict-no-sign: an anonymous message carries none of from, seqno and sig.
        ensure(
          m.seqno === undefined && m.sig === undefined,
          'an anonymous message carries a seqno or a signature',
        );
        return;
      }
      ensure(
        bytesEqual(m.from, nodeId),
        `from is ${hex(m.from)}, not the node's id ${hex(nodeId)}`,
      );
      ensure(m.seqno !== undefined && m.sig !== undefined, 'a signed message without seqno or sig');
      const valid = new SignatureVerifier().verify(
        m.from,
        signedBytes(m.from, m.seqno, topic, data),
        m.sig,
      );
      ensure(valid, `the signature of message ${hex(defaultMessageId(m))} does not verify`);
    } finally {
      p.close();
    }
  },
});
