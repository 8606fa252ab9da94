/**
 * BEP 44 rules (storing arbitrary data in the DHT): immutable and mutable items, checked against
 * a live node. Not applicable when the node does not answer `get` with a token.
 */
import { createHash } from 'node:crypto';
import { type BencodeInput, encode } from '@peerkit/bencode';
import { defineRule, ensure, type Rule } from '@peerkit/conformance';
import * as fc from 'fast-check';
import { mutableTarget, publicKeyFromSecret, signMutable } from '../bep44';
import { KRPC_ERROR, type KrpcQuery } from '../krpc';
import type { DhtContext } from './context';
import { bytesEqual, describeReply, expectResponse, hex, query, tokenOf } from './support';

const BEP44 = 'BEP 44';

async function supportsBep44(ctx: DhtContext): Promise<string | undefined> {
  const reply = await ctx.probe.exchange(
    query(ctx, 'get', { target: ctx.network.random.bytes(20) }),
    ctx.timeoutMs,
  );
  const m = reply?.message;
  if (m?.y === 'r' && m.r.token !== undefined) return undefined;
  return `the node does not support BEP 44 "get" (answer: ${reply === undefined ? 'none' : describeReply(reply)})`;
}

const arbBencodeValue: fc.Arbitrary<BencodeInput> = fc.letrec<{ value: BencodeInput }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.integer(),
    fc.uint8Array({ maxLength: 40 }),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.string({ minLength: 1, maxLength: 6 }), tie('value'), { maxKeys: 4 }),
  ),
})).value;

/** Values a BEP 44 node must store: at most 1000 bytes bencoded ("v" too big is error 205). */
const arbItemValue = arbBencodeValue.filter((v) => encode(v).length <= 1000);

const immutableItems = defineRule<DhtContext, { value: BencodeInput }>({
  id: 'dht.bep44.immutable',
  title: 'an immutable item put with a valid token is returned by get under its SHA-1',
  cite: {
    spec: BEP44,
    section: 'Immutable items',
    text: 'Immutable items are stored under their SHA-1 hash, and since they cannot be modified, there is no need to authenticate the origin of them.',
  },
  applies: supportsBep44,
  cases: () => fc.record({ value: arbItemValue }),
  async check(ctx, { value }) {
    const v = encode(value);
    const target = new Uint8Array(createHash('sha1').update(v).digest());
    const first = expectResponse(
      await ctx.probe.exchange(query(ctx, 'get', { target }), ctx.timeoutMs),
      'get',
    );
    const token = tokenOf(first, 'get');
    expectResponse(
      await ctx.probe.exchange(query(ctx, 'put', { v, token }), ctx.timeoutMs),
      'put of an immutable item',
    );
    const got = expectResponse(
      await ctx.probe.exchange(query(ctx, 'get', { target }), ctx.timeoutMs),
      'get after put',
    );
    ensure(got.r.v !== undefined, `get(${hex(target)}) after the put returned no "v"`);
    ensure(bytesEqual(got.r.v, v), `get returned v=${hex(got.r.v)}, the put stored ${hex(v)}`);
  },
});

const immutableBadBencoding = defineRule<DhtContext, { value: BencodeInput }>({
  id: 'dht.bep44.bad-bencoding',
  title: 'a put whose value is invalid bencoding (unsorted keys) is rejected',
  cite: {
    spec: BEP44,
    section: 'Messages',
    text: 'If the value in a put request contains invalid bencoding (e.g. a dictionary with unsorted keys), the storing node MUST reject the request and SHOULD return an error message with code 203.',
  },
  applies: supportsBep44,
  cases: () => fc.record({ value: arbItemValue }),
  async check(ctx, { value }) {
    // d1:bi1e1:ai0ee has its keys out of order; it is wrapped in a list with the arbitrary value.
    const inner = encode(value);
    const v = new Uint8Array([...Buffer.from('ld1:bi1e1:ai0ee'), ...inner, 0x65]);
    const target = new Uint8Array(createHash('sha1').update(v).digest());
    const first = expectResponse(
      await ctx.probe.exchange(query(ctx, 'get', { target }), ctx.timeoutMs),
      'get',
    );
    const token = tokenOf(first, 'get');
    const put = encode({ t: 'pu', y: 'q', q: 'put', a: { id: ctx.probeId, token, v: 0 } });
    // Splice the raw, invalid v in place of the placeholder `i0e`.
    const at = Buffer.from(put).indexOf('1:vi0e') + 3;
    const bytes = new Uint8Array([...put.subarray(0, at), ...v, ...put.subarray(at + 3)]);
    const { replies, sentinel } = await ctx.probe.exchangeWithSentinel(
      bytes,
      ctx.probeId,
      ctx.timeoutMs,
    );
    ensure(sentinel !== undefined, 'no answer to a ping sent right after the put');
    for (const reply of replies) {
      ensure(
        reply.message?.y !== 'r',
        `the put of invalid bencoding was accepted: ${describeReply(reply)}`,
      );
    }
  },
});

const arbMutable = () =>
  fc.record({
    secret: fc.uint8Array({ minLength: 32, maxLength: 32 }),
    value: arbItemValue,
    seq: fc.integer({ min: 1, max: 2 ** 31 }),
    salt: fc.uint8Array({ maxLength: 16 }),
  });

type MutableCase = { secret: Uint8Array; value: BencodeInput; seq: number; salt: Uint8Array };

/** A get for the item's target (for a token), then the put query of the item with that token. */
async function mutablePut(
  ctx: DhtContext,
  c: MutableCase,
  seq: number,
  sig?: (sig: Uint8Array) => Uint8Array,
): Promise<{ put: KrpcQuery; target: Uint8Array }> {
  const k = publicKeyFromSecret(c.secret);
  const salt = c.salt.length > 0 ? c.salt : undefined;
  const target = mutableTarget(k, salt);
  const first = expectResponse(
    await ctx.probe.exchange(query(ctx, 'get', { target }), ctx.timeoutMs),
    'get',
  );
  const token = tokenOf(first, 'get');
  const v = encode(c.value);
  const signature = signMutable(c.secret, seq, v, salt);
  const a = { v, k, sig: sig ? sig(signature) : signature, seq, token, ...(salt ? { salt } : {}) };
  return { put: query(ctx, 'put', a), target };
}

async function putMutable(ctx: DhtContext, c: MutableCase, seq: number) {
  const { put } = await mutablePut(ctx, c, seq);
  return ctx.probe.exchange(put, ctx.timeoutMs);
}

async function supportsMutable(ctx: DhtContext): Promise<string | undefined> {
  const bep44 = await supportsBep44(ctx);
  if (bep44 !== undefined) return bep44;
  const probe = {
    secret: ctx.network.random.bytes(32),
    value: 'peerkit-conform',
    seq: 1,
    salt: new Uint8Array(0),
  };
  const reply = await putMutable(ctx, probe, 1);
  if (reply?.message?.y === 'r') return undefined;
  return `a valid mutable put is not accepted (answer: ${reply === undefined ? 'none' : describeReply(reply)})`;
}

const mutableSignature = defineRule<DhtContext, MutableCase & { bit: number }>({
  id: 'dht.bep44.signature',
  title:
    'a mutable put whose signature does not verify is refused (error 206 or no answer) and not stored',
  cite: {
    spec: BEP44,
    section: 'Signature Verification',
    text: 'On the storage node, the signature MUST be verified before accepting the store command.',
  },
  applies: supportsMutable,
  cases: () => fc.tuple(arbMutable(), fc.nat(511)).map(([c, bit]) => ({ ...c, bit })),
  async check(ctx, c) {
    const flip = (sig: Uint8Array) => {
      const out = sig.slice();
      out[c.bit >> 3] = (out[c.bit >> 3] as number) ^ (1 << (c.bit & 7));
      return out;
    };
    const { put, target } = await mutablePut(ctx, c, c.seq, flip);
    const { replies, sentinel } = await ctx.probe.exchangeWithSentinel(
      put,
      ctx.probeId,
      ctx.timeoutMs,
    );
    ensure(sentinel !== undefined, 'no answer to a ping sent right after the put');
    for (const reply of replies) {
      const m = reply.message;
      ensure(
        m?.y === 'e' && m.e.code === KRPC_ERROR.INVALID_SIGNATURE,
        `put with signature bit ${c.bit} flipped: expected error 206 or no answer, got ${describeReply(reply)}`,
      );
    }
    const got = expectResponse(
      await ctx.probe.exchange(query(ctx, 'get', { target }), ctx.timeoutMs),
      'get after the put',
    );
    ensure(
      got.r.sig === undefined || !bytesEqual(got.r.sig, put.a.sig ?? new Uint8Array()),
      'the item with the bad signature was stored',
    );
  },
});

const mutableSequence = defineRule<DhtContext, MutableCase & { equal: boolean }>({
  id: 'dht.bep44.sequence',
  title:
    'a mutable put with a lower seq than the stored one (or the same seq and another value) is refused, and the item is kept',
  cite: {
    spec: BEP44,
    section: 'Mutable items',
    text: "Storing nodes receiving a put request where seq is lower than or equal to what's already stored on the node, MUST reject the request.",
  },
  applies: supportsMutable,
  cases: () => fc.tuple(arbMutable(), fc.boolean()).map(([c, equal]) => ({ ...c, equal })),
  async check(ctx, c) {
    expectResponse(await putMutable(ctx, c, c.seq), `put of a mutable item with seq ${c.seq}`);
    // Equal seq: another value (the stored one wrapped in a list), which must not replace it.
    const seq = c.equal ? c.seq : c.seq - 1;
    const what = `put with seq ${seq}${c.equal ? ' and another value' : ''} after seq ${c.seq}`;
    const { put, target } = await mutablePut(ctx, { ...c, value: [c.value] }, seq);
    const { replies, sentinel } = await ctx.probe.exchangeWithSentinel(
      put,
      ctx.probeId,
      ctx.timeoutMs,
    );
    ensure(sentinel !== undefined, 'no answer to a ping sent right after the put');
    for (const reply of replies) {
      // Any error will do (BEP 44 suggests 302 for a lower seq), or no answer.
      ensure(reply.message?.y === 'e', `${what}: accepted (${describeReply(reply)})`);
    }
    const got = expectResponse(
      await ctx.probe.exchange(query(ctx, 'get', { target }), ctx.timeoutMs),
      `get after the ${what}`,
    );
    ensure(got.r.seq === c.seq, `get after the ${what} returned seq ${got.r.seq}`);
    ensure(
      got.r.v !== undefined && bytesEqual(got.r.v, encode(c.value)),
      `get after the ${what} no longer returns the stored value`,
    );
  },
});

export const bep44Rules: readonly Rule<DhtContext>[] = [
  immutableItems,
  immutableBadBencoding,
  mutableSignature,
  mutableSequence,
];
