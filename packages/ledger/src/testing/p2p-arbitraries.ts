/**
 * fast-check arbitraries for every P2P message (src/p2p/messages), used by the codec
 * properties and exported for testing other implementations' codecs.
 */
import fc from 'fast-check';
import { MAX_COMPACT_INDEX } from '../p2p/constants';
import { bytesToIp, type NetAddress, type TimedNetAddress } from '../p2p/messages/net-address';
import type { CompactBlock, InvVector, Message } from '../p2p/messages/types';
import { hasWitness } from '../primitives/transaction';
import { arbBlock, arbBlockHeader, arbHash, arbTransaction } from './arbitraries';

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const i64 = fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n });

export function arbNetAddress(): fc.Arbitrary<NetAddress> {
  const ipv4 = fc
    .uint8Array({ minLength: 4, maxLength: 4 })
    .map((b) => `${b[0]}.${b[1]}.${b[2]}.${b[3]}`);
  const ipv6 = fc.uint8Array({ minLength: 16, maxLength: 16 }).map(bytesToIp);
  return fc.record({
    services: u64,
    host: fc.oneof(ipv4, ipv6),
    port: fc.integer({ min: 0, max: 0xffff }),
  });
}

export function arbTimedNetAddress(): fc.Arbitrary<TimedNetAddress> {
  return fc.tuple(u32, arbNetAddress()).map(([time, a]) => ({ time, ...a }));
}

export function arbInvVector(): fc.Arbitrary<InvVector> {
  return fc.record({ type: u32, hash: arbHash() });
}

export function arbCompactBlock(): fc.Arbitrary<CompactBlock> {
  return fc
    .record({
      header: arbBlockHeader(),
      nonce: u64,
      shortIds: fc.array(fc.integer({ min: 0, max: 2 ** 48 - 1 }), { maxLength: 20 }),
      gaps: fc.array(fc.integer({ min: 0, max: 300 }), { maxLength: 3 }),
      txs: fc.array(arbTransaction({ witness: false, maxInputs: 2, maxOutputs: 2 }), {
        minLength: 3,
        maxLength: 3,
      }),
    })
    .map(({ header, nonce, shortIds, gaps, txs }) => {
      let index = -1;
      const prefilled = gaps.map((g, i) => {
        index = Math.min(index + 1 + g, MAX_COMPACT_INDEX);
        return { index, tx: txs[i] as (typeof txs)[number] };
      });
      return {
        header,
        nonce,
        shortIds,
        prefilled: prefilled.filter((p, i) => i === 0 || p.index > (prefilled[i - 1]?.index ?? -1)),
      };
    });
}

/** Any message peerkit speaks, with values that survive an encode/decode round trip. */
export function arbMessage(): fc.Arbitrary<Message> {
  const empty = fc.constantFrom(
    'verack',
    'sendheaders',
    'getaddr',
    'mempool',
    'wtxidrelay',
    'sendaddrv2' as const,
  );
  return fc.oneof(
    empty.map((command) => ({ command }) as Message),
    fc.record({
      command: fc.constant('version' as const),
      version: fc.integer({ min: -0x80000000, max: 0x7fffffff }),
      services: u64,
      timestamp: i64,
      receiver: arbNetAddress(),
      sender: arbNetAddress(),
      nonce: u64,
      userAgent: fc.string({ maxLength: 60 }),
      startHeight: fc.integer({ min: -0x80000000, max: 0x7fffffff }),
      relay: fc.boolean(),
    }),
    fc.record({ command: fc.constantFrom('ping' as const, 'pong' as const), nonce: u64 }),
    fc.record({
      command: fc.constant('addr' as const),
      addresses: fc.array(arbTimedNetAddress(), { maxLength: 10 }),
    }),
    fc.record({
      command: fc.constantFrom('inv' as const, 'getdata' as const, 'notfound' as const),
      inventory: fc.array(arbInvVector(), { maxLength: 10 }),
    }),
    fc.record({
      command: fc.constantFrom('getheaders' as const, 'getblocks' as const),
      version: u32,
      locator: fc.array(arbHash(), { maxLength: 12 }),
      stop: arbHash(),
    }),
    fc.record({
      command: fc.constant('headers' as const),
      headers: fc.array(arbBlockHeader(), { maxLength: 10 }),
    }),
    arbBlock({ witness: true, maxTransactions: 3 }).map(
      (block) =>
        ({ command: 'block', block, witness: block.transactions.some(hasWitness) }) as Message,
    ),
    arbTransaction({ witness: true }).map(
      (tx) => ({ command: 'tx', tx, witness: hasWitness(tx) }) as Message,
    ),
    fc.record({ command: fc.constant('feefilter' as const), feeRate: i64 }),
    fc.record({ command: fc.constant('sendcmpct' as const), announce: fc.boolean(), version: u64 }),
    arbCompactBlock().map(
      (compact) => ({ command: 'cmpctblock', compact, witness: false }) as Message,
    ),
    fc
      .record({
        blockHash: arbHash(),
        gaps: fc.array(fc.integer({ min: 0, max: 1000 }), { maxLength: 20 }),
      })
      .map(({ blockHash, gaps }) => {
        let index = -1;
        const indexes: number[] = [];
        for (const g of gaps) {
          if (index + 1 + g > MAX_COMPACT_INDEX) break;
          index += 1 + g;
          indexes.push(index);
        }
        return { command: 'getblocktxn', request: { blockHash, indexes } } as Message;
      }),
    fc
      .record({
        blockHash: arbHash(),
        transactions: fc.array(arbTransaction({ witness: false }), { maxLength: 3 }),
      })
      .map((response) => ({ command: 'blocktxn', response, witness: false }) as Message),
  );
}
