/**
 * `@peerkit/gossip/testing`: fast-check arbitraries for the wire format and a compliance suite
 * of rules a live gossip node must satisfy over a socket.
 *
 * ```ts
 * import { describeGossipCompliance } from '@peerkit/gossip/testing';
 *
 * describeGossipCompliance('my node', async () => ({
 *   network,              // a Network the suite's test peers dial from
 *   target,               // the node's listening Address
 *   topic: 'compliance',  // a topic the node subscribes to
 *   publish: (data) => myNode.publish('compliance', data),
 *   close: async () => {},
 * }));
 * ```
 *
 * The suite speaks the wire spec (README, "Wire spec") as raw test peers with their own
 * Ed25519 identities; it waits only through the network's own clock, so it runs on real
 * sockets and in netsim (auto-run mode) alike. Every wait is bounded.
 */
import { encodeFrame, readFrames } from '@peerkit/framing';
import type { Address, Network, Stream } from '@peerkit/transport';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { defaultMessageId, type GossipMessage } from './message';
import { Identity, SignatureVerifier, signedBytes } from './signing';
import {
  type Control,
  DEFAULT_WIRE_LIMITS,
  type Frame,
  PROTOCOL_VERSION,
  type Rpc,
  WireCodec,
  type WireLimits,
} from './wire';

// ---- arbitraries -------------------------------------------------------------------------

/** Small limits so generated frames stay fast; pass them to `WireCodec` too. */
export const TEST_LIMITS: WireLimits = {
  ...DEFAULT_WIRE_LIMITS,
  maxRpcSize: 64 * 1024,
  maxMessageSize: 1024,
  maxTopicLength: 32,
  maxTopicsPerRpc: 8,
  maxMessagesPerRpc: 4,
  maxIHaveMessages: 3,
  maxIHaveLength: 8,
  maxIWantLength: 8,
  maxPrunePeers: 4,
  maxMessageIdLength: 48,
};

export const arbPeerId = (): fc.Arbitrary<Uint8Array> =>
  fc.uint8Array({ minLength: 32, maxLength: 32 });

export const arbTopic = (l: WireLimits = TEST_LIMITS): fc.Arbitrary<string> =>
  fc.string({ minLength: 1, maxLength: Math.min(l.maxTopicLength, 32) });

export const arbMessageId = (l: WireLimits = TEST_LIMITS): fc.Arbitrary<Uint8Array> =>
  fc.uint8Array({ minLength: 1, maxLength: Math.min(l.maxMessageIdLength, 48) });

/** A wire message (signature bytes arbitrary: the codec does not verify). */
export function arbMessage(l: WireLimits = TEST_LIMITS): fc.Arbitrary<GossipMessage> {
  return fc.record(
    {
      from: arbPeerId(),
      seqno: fc.maxSafeNat(),
      topic: arbTopic(l),
      data: fc.uint8Array({ maxLength: Math.min(l.maxMessageSize, 256) }),
      sig: fc.uint8Array({ minLength: 64, maxLength: 64 }),
    },
    { requiredKeys: ['topic', 'data'] },
  );
}

export function arbControl(l: WireLimits = TEST_LIMITS): fc.Arbitrary<Control> {
  const ids = (max: number) => fc.array(arbMessageId(l), { maxLength: Math.min(max, 8) });
  return fc.record(
    {
      ihave: fc.array(fc.record({ topic: arbTopic(l), ids: ids(l.maxIHaveLength) }), {
        maxLength: Math.min(l.maxIHaveMessages, 3),
      }),
      iwant: ids(l.maxIWantLength),
      graft: fc.array(arbTopic(l), { maxLength: Math.min(l.maxTopicsPerRpc, 4) }),
      prune: fc.array(
        fc.record(
          {
            topic: arbTopic(l),
            px: fc.array(
              fc.record(
                {
                  id: arbPeerId(),
                  host: fc.ipV4(),
                  port: fc.integer({ min: 1, max: 65535 }),
                },
                { requiredKeys: ['id'] },
              ),
              { maxLength: Math.min(l.maxPrunePeers, 4) },
            ),
            backoff: fc.integer({ min: 0, max: 86_400 }),
          },
          { requiredKeys: ['topic'] },
        ),
        { maxLength: Math.min(l.maxTopicsPerRpc, 4) },
      ),
    },
    { requiredKeys: [] },
  );
}

export function arbRpc(l: WireLimits = TEST_LIMITS): fc.Arbitrary<Rpc> {
  return fc
    .record(
      {
        subs: fc.array(fc.record({ topic: arbTopic(l), subscribe: fc.boolean() }), {
          maxLength: Math.min(l.maxTopicsPerRpc, 4),
        }),
        msgs: fc.array(arbMessage(l), { maxLength: Math.min(l.maxMessagesPerRpc, 4) }),
        control: arbControl(l),
      },
      { requiredKeys: [] },
    )
    .map((r) => ({ type: 'rpc' as const, ...r }));
}

/** Any valid frame: a hello or an RPC. */
export function arbFrame(l: WireLimits = TEST_LIMITS): fc.Arbitrary<Frame> {
  const hello = fc
    .record(
      {
        version: fc.integer({ min: 0, max: 255 }),
        id: arbPeerId(),
        port: fc.integer({ min: 1, max: 65535 }),
      },
      { requiredKeys: ['version', 'id'] },
    )
    .map((h) => ({ type: 'hello' as const, ...h }));
  return fc.oneof(hello, arbRpc(l));
}

/** Hostile frame payloads: random bytes, and valid frames with a byte changed or cut. */
export function arbHostileFrameBytes(l: WireLimits = TEST_LIMITS): fc.Arbitrary<Uint8Array> {
  const codec = new WireCodec(l);
  const valid = arbFrame(l).map((f) => codec.encode(f));
  return fc.oneof(
    fc.uint8Array({ maxLength: 512 }),
    fc
      .record({ bytes: valid, i: fc.nat(), v: fc.integer({ min: 0, max: 255 }) })
      .map(({ bytes, i, v }) => {
        const copy = bytes.slice();
        if (copy.length > 0) copy[i % copy.length] = v;
        return copy;
      }),
    fc
      .record({ bytes: valid, n: fc.nat() })
      .map(({ bytes, n }) => bytes.subarray(0, n % (bytes.length + 1))),
  );
}

// ---- a raw test peer ---------------------------------------------------------------------

/** A test peer speaking the wire spec directly over a stream. */
export class RawPeer {
  readonly identity: Identity;
  readonly stream: Stream;
  readonly codec: WireCodec;
  private readonly frames: AsyncIterator<Uint8Array>;
  private readonly network: Network;
  private seqno = 0;
  /** The node's hello. */
  hello: Extract<Frame, { type: 'hello' }> | undefined;

  private constructor(network: Network, stream: Stream, identity: Identity) {
    this.network = network;
    this.stream = stream;
    this.identity = identity;
    this.codec = new WireCodec();
    this.frames = readFrames(stream, {
      prefix: 'uint32be',
      maxFrameSize: this.codec.limits.maxRpcSize,
    })[Symbol.asyncIterator]();
  }

  /** Dials `target` and sends our hello. */
  static async connect(network: Network, target: Address): Promise<RawPeer> {
    const stream = await network.dial(target, { timeoutMs: 10_000 });
    const peer = new RawPeer(network, stream, Identity.fromSeed(network.random.bytes(32)));
    await peer.send({ type: 'hello', version: PROTOCOL_VERSION, id: peer.identity.publicKey });
    return peer;
  }

  send(frame: Frame): Promise<void> {
    return this.sendRaw(this.codec.encode(frame));
  }

  sendRaw(payload: Uint8Array): Promise<void> {
    return this.stream.write(encodeFrame(payload, { prefix: 'uint32be', maxFrameSize: 1 << 30 }));
  }

  /** A message signed by this peer. */
  message(topic: string, data: Uint8Array): GossipMessage {
    const from = this.identity.publicKey;
    const seqno = ++this.seqno;
    return {
      from,
      seqno,
      topic,
      data,
      sig: this.identity.sign(signedBytes(from, seqno, topic, data)),
    };
  }

  /**
   * Reads frames until one satisfies `match`; returns it, or `undefined` when the stream ends
   * or `timeoutMs` (on the network's clock) passes first.
   */
  async next<T>(match: (f: Frame) => T | undefined, timeoutMs = 5000): Promise<T | undefined> {
    let timer: { cancel(): void } | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = this.network.clock.setTimeout(() => resolve('timeout'), timeoutMs);
    });
    try {
      for (;;) {
        const r = await Promise.race([this.frames.next(), timeout]);
        if (r === 'timeout' || r.done) return undefined;
        const frame = this.codec.decode(r.value);
        if (frame.type === 'hello') this.hello = frame;
        const m = match(frame);
        if (m !== undefined) return m;
      }
    } catch {
      return undefined;
    } finally {
      timer?.cancel();
    }
  }

  /** Resolves true when the node ends or resets the stream within `timeoutMs`. */
  async closedWithin(timeoutMs: number): Promise<boolean> {
    let timer: { cancel(): void } | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = this.network.clock.setTimeout(() => resolve('timeout'), timeoutMs);
    });
    try {
      for (;;) {
        const r = await Promise.race([this.frames.next(), timeout]);
        if (r === 'timeout') return false;
        if (r.done) return true;
      }
    } catch {
      return true; // reset by the node
    } finally {
      timer?.cancel();
    }
  }

  sleep(ms: number): Promise<false> {
    return new Promise((resolve) => this.network.clock.setTimeout(() => resolve(false), ms));
  }

  close(): void {
    this.stream.destroy();
  }
}

// ---- compliance suite --------------------------------------------------------------------

export interface GossipUnderTest {
  /** The network the suite's raw peers dial from. */
  network: Network;
  /** The node's listening address. */
  target: Address;
  /** A topic the node subscribes to. */
  topic: string;
  /** Makes the node publish `data` to `topic`. */
  publish(data: Uint8Array): void;
  close(): Promise<void>;
}

const subscribedTo = (topic: string) => (f: Frame) =>
  f.type === 'rpc' && f.subs?.some((s) => s.topic === topic && s.subscribe) ? true : undefined;
const messageWith = (data: Uint8Array) => (f: Frame) =>
  f.type === 'rpc' ? f.msgs?.find((m) => bytesEqual(m.data, data)) : undefined;

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Registers the gossip compliance tests (vitest `describe`) for a live node. */
export function describeGossipCompliance(
  name: string,
  factory: () => Promise<GossipUnderTest>,
): void {
  describe(`gossip compliance: ${name}`, () => {
    let env: GossipUnderTest;
    const peers: RawPeer[] = [];
    const connect = async () => {
      const p = await RawPeer.connect(env.network, env.target);
      peers.push(p);
      return p;
    };
    beforeEach(async () => {
      env = await factory();
    });
    afterEach(async () => {
      for (const p of peers.splice(0)) p.close();
      await env.close();
    });

    test('answers with a hello (version 1, 32-byte id) and announces its subscriptions', async () => {
      const p = await connect();
      const hello = await p.next((f) => (f.type === 'hello' ? f : undefined));
      expect(hello?.version).toBe(PROTOCOL_VERSION);
      expect(hello?.id.length).toBe(32);
      expect(await p.next(subscribedTo(env.topic))).toBe(true);
    });

    test('delivers its published messages to a subscribed peer, signed by its id', async () => {
      const p = await connect();
      await p.next(subscribedTo(env.topic));
      await p.send({ type: 'rpc', subs: [{ topic: env.topic, subscribe: true }] });
      await p.send({ type: 'rpc', control: { graft: [env.topic] } });
      await p.sleep(50);
      const data = new Uint8Array([1, 2, 3, 4]);
      env.publish(data);
      const m = await p.next(messageWith(data));
      expect(m).toBeDefined();
      const { from, seqno, sig } = m as GossipMessage;
      expect(from).toEqual(p.hello?.id);
      const ok = new SignatureVerifier().verify(
        from as Uint8Array,
        signedBytes(from as Uint8Array, seqno as number, env.topic, data),
        sig as Uint8Array,
      );
      expect(ok).toBe(true);
    });

    test('forwards a valid message to grafted peers and never back to its source', async () => {
      const a = await connect();
      const b = await connect();
      for (const p of [a, b]) {
        await p.next(subscribedTo(env.topic));
        await p.send({ type: 'rpc', subs: [{ topic: env.topic, subscribe: true }] });
        await p.send({ type: 'rpc', control: { graft: [env.topic] } });
      }
      await a.sleep(50);
      const data = new Uint8Array([9, 8, 7]);
      await a.send({ type: 'rpc', msgs: [a.message(env.topic, data)] });
      expect(await b.next(messageWith(data))).toBeDefined();
      expect(await a.next(messageWith(data), 1000)).toBeUndefined();
    });

    test('drops a message with a bad signature', async () => {
      const a = await connect();
      const b = await connect();
      for (const p of [a, b]) {
        await p.next(subscribedTo(env.topic));
        await p.send({ type: 'rpc', subs: [{ topic: env.topic, subscribe: true }] });
        await p.send({ type: 'rpc', control: { graft: [env.topic] } });
      }
      await a.sleep(50);
      const data = new Uint8Array([6, 6, 6]);
      const forged = { ...a.message(env.topic, data), data: new Uint8Array([6, 6, 7]) };
      await a.send({ type: 'rpc', msgs: [forged] });
      expect(await b.next(messageWith(forged.data), 1000)).toBeUndefined();
    });

    test('answers IWANT for a cached message', async () => {
      const p = await connect();
      await p.next(subscribedTo(env.topic));
      await p.send({ type: 'rpc', subs: [{ topic: env.topic, subscribe: true }] });
      await p.sleep(50);
      const data = new Uint8Array([5, 5]);
      env.publish(data);
      const m = (await p.next(messageWith(data))) as GossipMessage;
      expect(m).toBeDefined();
      await p.send({ type: 'rpc', control: { iwant: [defaultMessageId(m)] } });
      expect(await p.next(messageWith(data))).toBeDefined();
    });

    test('answers a GRAFT during backoff with a PRUNE carrying a backoff', async () => {
      const p = await connect();
      await p.next(subscribedTo(env.topic));
      await p.send({ type: 'rpc', subs: [{ topic: env.topic, subscribe: true }] });
      await p.send({ type: 'rpc', control: { prune: [{ topic: env.topic, backoff: 60 }] } });
      await p.send({ type: 'rpc', control: { graft: [env.topic] } });
      const prune = await p.next((f) =>
        f.type === 'rpc' ? f.control?.prune?.find((e) => e.topic === env.topic) : undefined,
      );
      expect(prune?.backoff).toBeGreaterThan(0);
    });

    test('disconnects a peer that sends garbage, and keeps serving others', async () => {
      const bad = await connect();
      await bad.next((f) => (f.type === 'hello' ? f : undefined));
      await bad.sendRaw(new Uint8Array([0xc1, 0xff, 0x00]));
      expect(await bad.closedWithin(5000)).toBe(true);
      const good = await connect();
      expect(await good.next((f) => (f.type === 'hello' ? f : undefined))).toBeDefined();
    });

    test('disconnects a peer whose frame exceeds its size limit', async () => {
      const bad = await connect();
      await bad.next((f) => (f.type === 'hello' ? f : undefined));
      const header = new Uint8Array([0x7f, 0xff, 0xff, 0xff]);
      await bad.stream.write(header);
      expect(await bad.closedWithin(5000)).toBe(true);
    });
  });
}
