/**
 * The btc rule set: sentences of the Bitcoin developer reference ("P2P Network") and of BIP 31
 * turned into properties checked against a live node over raw connections. `peerkit-conform btc
 * HOST:PORT` runs them in this order.
 */
import { defineRule, ensure, type Rule } from '@peerkit/conformance';
import * as fc from 'fast-check';
import { bytesEqual, toHex } from '../hash';
import { MAX_HEADERS_RESULTS, MSG_BLOCK, MSG_TX } from '../p2p/constants';
import { encodeMessage } from '../p2p/envelope';
import { encodePayload } from '../p2p/messages/codec';
import { blockHash } from '../primitives/block';
import type { BtcContext } from './context';
import type { BtcProbe } from './probe';

const REF = 'Bitcoin developer reference, P2P Network';
const ZERO = new Uint8Array(32);
const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const arbHash = fc.uint8Array({ minLength: 32, maxLength: 32 });

async function withProbe<T>(
  ctx: BtcContext,
  handshake: boolean,
  body: (p: BtcProbe) => Promise<T>,
): Promise<T> {
  const probe = await ctx.open(handshake);
  try {
    return await body(probe);
  } finally {
    probe.close();
  }
}

export const versionReply = defineRule<
  BtcContext,
  { nonce: bigint; userAgent: string; startHeight: number }
>({
  id: 'btc.handshake.version-verack',
  title: "a version is answered with the node's own version and a verack",
  cite: {
    spec: REF,
    section: 'Control Messages: version',
    text: 'When a node creates an outgoing connection, it will immediately advertise its version. The remote node will respond with its version. No further communication is possible until both peers have exchanged their version.',
  },
  cases: () =>
    fc.record({
      nonce: u64,
      userAgent: fc.stringMatching(/^\/[a-z]{1,12}:[0-9]\.[0-9]\/$/),
      startHeight: fc.integer({ min: 0, max: 1000 }),
    }),
  async check(ctx, c) {
    await withProbe(ctx, false, async (p) => {
      const theirs = await p.handshake(ctx.timeoutMs, c);
      ensure(theirs !== undefined, 'no version and verack in answer to our version');
      ensure(
        theirs.version >= 31800,
        `the answering version ${theirs.version} is below 31800 (getheaders)`,
      );
      const vi = p.received.findIndex((m) => m.command === 'version');
      const ai = p.received.findIndex((m) => m.command === 'verack');
      ensure(vi >= 0 && ai >= 0, 'version or verack missing');
    });
  },
});

export const pingPong = defineRule<BtcContext, bigint>({
  id: 'btc.ping.nonce',
  title: 'pong echoes the nonce of the ping',
  cite: {
    spec: 'BIP 31',
    section: 'Specification',
    text: 'A pong message is sent as a response to a ping message... The nonce field contains the same nonce as the ping message.',
  },
  cases: () => u64,
  async check(ctx, nonce) {
    await withProbe(ctx, true, async (p) => {
      p.send({ command: 'ping', nonce });
      const pong = await p.expect((m) => m.command === 'pong', ctx.timeoutMs);
      ensure(pong?.command === 'pong', 'no pong');
      ensure(pong.nonce === nonce, `ping nonce ${nonce}, pong nonce ${pong.nonce}`);
    });
  },
});

export const getHeadersFromGenesis = defineRule<BtcContext, number>({
  id: 'btc.getheaders.linked',
  title:
    'getheaders from a locator answers with linked headers after the last common block, at most 2,000',
  cite: {
    spec: REF,
    section: 'Data Messages: getblocks / getheaders / headers',
    text: 'This allows the receiving peer to find, within that list, the last header hash they had in common and reply with all subsequent header hashes ... the headers reply to the getheaders message will include as many as 2,000 block headers.',
  },
  cases: (ctx) => fc.integer({ min: 0, max: Math.max(0, ctx.chain.length - 1) }),
  async check(ctx, from) {
    // A locator of one block of the target's chain (or genesis when it has none).
    const start = ctx.chain.length === 0 ? ctx.genesisHash : (ctx.chain[from] as Uint8Array);
    await withProbe(ctx, true, async (p) => {
      p.send({ command: 'getheaders', version: 70016, locator: [start], stop: ZERO });
      const m = await p.expect((x) => x.command === 'headers', ctx.timeoutMs);
      ensure(m?.command === 'headers', 'no headers message');
      ensure(m.headers.length <= MAX_HEADERS_RESULTS, `${m.headers.length} headers in one message`);
      let prev = start;
      for (const h of m.headers) {
        ensure(
          bytesEqual(h.prevBlock, prev),
          `header ${toHex(blockHash(h))} does not follow ${toHex(prev)}`,
        );
        prev = blockHash(h);
      }
      const expected =
        ctx.chain.length === 0 ? 0 : Math.min(MAX_HEADERS_RESULTS, ctx.chain.length - from - 1);
      ensure(
        m.headers.length >= Math.min(expected, 1),
        `expected headers after height ${from + 1}, got none`,
      );
    });
  },
});

export const getHeadersUnknownLocator = defineRule<BtcContext, Uint8Array[]>({
  id: 'btc.getheaders.unknown-locator',
  title: 'a locator with no known hash is answered from the block after genesis',
  cite: {
    spec: REF,
    section: 'Data Messages: getblocks',
    text: 'If the receiving peer does not find a common header hash within the list, it will assume the last common block was the genesis block (block zero), so it will reply with ... header hashes starting with block one (the first block after the genesis block).',
  },
  applies: async (ctx) =>
    ctx.chain.length === 0 ? 'the target has no blocks after genesis' : undefined,
  cases: () => fc.array(arbHash, { minLength: 1, maxLength: 10 }),
  async check(ctx, locator) {
    await withProbe(ctx, true, async (p) => {
      p.send({ command: 'getheaders', version: 70016, locator, stop: ZERO });
      const m = await p.expect((x) => x.command === 'headers', ctx.timeoutMs);
      ensure(m?.command === 'headers', 'no headers message');
      const first = m.headers[0];
      ensure(first !== undefined, 'empty headers although the target has blocks');
      ensure(
        bytesEqual(first.prevBlock, ctx.genesisHash),
        'the first header does not follow genesis',
      );
    });
  },
});

export const getHeadersStop = defineRule<BtcContext, number>({
  id: 'btc.getheaders.stop',
  title: 'getheaders stops at the stop hash',
  cite: {
    spec: REF,
    section: 'Data Messages: getblocks',
    text: 'stop hash: The header hash of the last header hash being requested; set to all zeroes to request ... all subsequent header hashes',
  },
  applies: async (ctx) => (ctx.chain.length < 2 ? 'the target has fewer than 2 blocks' : undefined),
  cases: (ctx) => fc.integer({ min: 0, max: ctx.chain.length - 1 }),
  async check(ctx, index) {
    const stop = ctx.chain[index] as Uint8Array;
    await withProbe(ctx, true, async (p) => {
      p.send({ command: 'getheaders', version: 70016, locator: [ctx.genesisHash], stop });
      const m = await p.expect((x) => x.command === 'headers', ctx.timeoutMs);
      ensure(m?.command === 'headers', 'no headers message');
      ensure(
        m.headers.length === index + 1,
        `stop at height ${index + 1}: got ${m.headers.length} headers`,
      );
      const last = m.headers.at(-1);
      ensure(last && bytesEqual(blockHash(last), stop), 'the last header is not the stop hash');
    });
  },
});

export const getDataBlock = defineRule<BtcContext, number>({
  id: 'btc.getdata.block',
  title: 'getdata of a block of the chain is answered with that block',
  cite: {
    spec: REF,
    section: 'Data Messages: getdata',
    text: 'The getdata message requests one or more data objects from another node. The objects are requested by an inventory ... ',
  },
  applies: async (ctx) =>
    ctx.chain.length === 0 ? 'the target has no blocks after genesis' : undefined,
  cases: (ctx) => fc.integer({ min: 0, max: ctx.chain.length - 1 }),
  async check(ctx, index) {
    const hash = ctx.chain[index] as Uint8Array;
    await withProbe(ctx, true, async (p) => {
      p.send({ command: 'getdata', inventory: [{ type: MSG_BLOCK, hash }] });
      const m = await p.expect((x) => x.command === 'block', ctx.timeoutMs);
      ensure(m?.command === 'block', `no block for getdata ${toHex(hash)}`);
      ensure(bytesEqual(blockHash(m.block.header), hash), 'a different block came back');
    });
  },
});

export const getDataNotFound = defineRule<BtcContext, Uint8Array>({
  id: 'btc.getdata.notfound',
  title: 'getdata of an unknown transaction is answered with notfound',
  cite: {
    spec: REF,
    section: 'Data Messages: notfound',
    text: 'The notfound message is a reply to a getdata message which requested an object the receiving node does not have available for relay.',
  },
  cases: () => arbHash,
  async check(ctx, hash) {
    await withProbe(ctx, true, async (p) => {
      p.send({ command: 'getdata', inventory: [{ type: MSG_TX, hash }] });
      const m = await p.expect(
        (x) => x.command === 'notfound' || x.command === 'tx',
        ctx.timeoutMs,
      );
      ensure(m !== undefined, 'no answer to getdata of an unknown transaction');
      ensure(m.command === 'notfound', `answered with ${m.command}`);
      ensure(
        m.inventory.some((v) => bytesEqual(v.hash, hash)),
        'notfound does not list the requested hash',
      );
    });
  },
});

export const beforeVersion = defineRule<BtcContext, bigint>({
  id: 'btc.handshake.version-first',
  title: 'nothing is answered before the version handshake',
  cite: {
    spec: REF,
    section: 'Control Messages: version',
    text: 'No further communication is possible until both peers have exchanged their version.',
  },
  cases: () => u64,
  async check(ctx, nonce) {
    await withProbe(ctx, false, async (p) => {
      p.send({ command: 'ping', nonce });
      const pong = await p.expect(
        (m) => m.command === 'pong' && m.nonce === nonce,
        Math.min(ctx.timeoutMs, 1000),
      );
      ensure(pong === undefined, 'a ping sent before version was answered');
    });
  },
});

export const unknownCommand = defineRule<
  BtcContext,
  { name: string; payload: Uint8Array; nonce: bigint }
>({
  id: 'btc.message.unknown-command',
  title: 'an unknown command is ignored and the connection goes on',
  cite: {
    spec: REF,
    section: 'Message Headers',
    text: 'command name: ASCII string which identifies what message type is contained in the payload.',
  },
  cases: () =>
    fc.record({
      name: fc.stringMatching(/^zz[a-z]{1,10}$/),
      payload: fc.uint8Array({ maxLength: 64 }),
      nonce: u64,
    }),
  async check(ctx, c) {
    await withProbe(ctx, true, async (p) => {
      p.sendRaw(encodeMessage(ctx.magic, c.name, c.payload));
      p.send({ command: 'ping', nonce: c.nonce });
      const pong = await p.expect(
        (m) => m.command === 'pong' && m.nonce === c.nonce,
        ctx.timeoutMs,
      );
      ensure(pong !== undefined, `no pong after an unknown "${c.name}" message`);
    });
  },
});

export const badChecksum = defineRule<BtcContext, { nonce: bigint; flip: number }>({
  id: 'btc.message.bad-checksum',
  title: 'a message whose checksum does not match is not processed',
  cite: {
    spec: REF,
    section: 'Message Headers',
    text: 'checksum: First 4 bytes of SHA256(SHA256(payload)) in internal byte order.',
  },
  cases: () => fc.record({ nonce: u64, flip: fc.integer({ min: 1, max: 255 }) }),
  async check(ctx, c) {
    await withProbe(ctx, true, async (p) => {
      const bytes = encodeMessage(
        ctx.magic,
        'ping',
        encodePayload({ command: 'ping', nonce: c.nonce }),
      );
      bytes[20] = (bytes[20] as number) ^ c.flip;
      p.sendRaw(bytes);
      const pong = await p.expect(
        (m) => m.command === 'pong' && m.nonce === c.nonce,
        Math.min(ctx.timeoutMs, 1000),
      );
      ensure(pong === undefined, 'a ping with a wrong checksum was answered');
    });
  },
});

export const wrongMagic = defineRule<BtcContext, Uint8Array>({
  id: 'btc.message.wrong-magic',
  title: "a message with another network's start string ends the connection",
  cite: {
    spec: REF,
    section: 'Message Headers',
    text: 'start string: Magic bytes indicating the originating network; used to seek to next message when stream state is unknown.',
  },
  cases: (ctx) =>
    fc.uint8Array({ minLength: 4, maxLength: 4 }).filter((m) => !bytesEqual(m, ctx.magic)),
  async check(ctx, magic) {
    await withProbe(ctx, true, async (p) => {
      p.sendRaw(encodeMessage(magic, 'ping', new Uint8Array(8)));
      p.send({ command: 'ping', nonce: 7n });
      const pong = await p.expect(
        (m) => m.command === 'pong' && m.nonce === 7n,
        Math.min(ctx.timeoutMs, 1000),
      );
      ensure(pong === undefined, 'the connection went on after a message from another network');
    });
  },
});

export const oversized = defineRule<BtcContext, number>({
  id: 'btc.message.oversized',
  title: 'a payload size above the limit is rejected',
  cite: {
    spec: REF,
    section: 'Message Headers',
    text: 'payload size: ... messages with a payload size larger than this will be dropped or rejected.',
  },
  cases: () => fc.integer({ min: 0x02000001, max: 0xffffffff }),
  async check(ctx, size) {
    await withProbe(ctx, true, async (p) => {
      const header = encodeMessage(ctx.magic, 'ping', new Uint8Array(8)).slice(0, 24);
      new DataView(header.buffer).setUint32(16, size, true);
      p.sendRaw(header);
      // "Dropped" (the header skipped, the next message read) or "rejected" (the connection
      // closed) both conform; waiting for gigabytes that never come does not.
      p.send({ command: 'ping', nonce: 11n });
      const pong = p.expect((m) => m.command === 'pong' && m.nonce === 11n, ctx.timeoutMs);
      const closed = p.waitClosed(ctx.timeoutMs);
      const [answered, wasClosed] = await Promise.all([pong, closed]);
      ensure(
        answered !== undefined || wasClosed,
        `neither dropped nor rejected: the target waits for a ${size}-byte payload`,
      );
    });
  },
});

export const btcRules: readonly Rule<BtcContext>[] = [
  versionReply,
  beforeVersion,
  pingPong,
  getHeadersFromGenesis,
  getHeadersUnknownLocator,
  getHeadersStop,
  getDataBlock,
  getDataNotFound,
  unknownCommand,
  badChecksum,
  wrongMagic,
  oversized,
];
