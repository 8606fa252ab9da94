/** Headers, locators, getheaders answers, missing blocks and the orphan bound of the chain. */
import { describe, expect, it } from 'vitest';
import { checkProofOfWork } from '../src/consensus/pow';
import {
  type Block,
  blockHash,
  Chain,
  COIN,
  generateBlocks,
  LedgerError,
  toHex,
  unixTimeFrom,
} from '../src/index';
import { buildBlock, coinbaseTx, GENESIS, OP_TRUE, type ParentInfo } from './helpers/blocks';

const NOW = () => 2_000_000_000;

/** A chain of `n` blocks on genesis, built without a Chain. */
function branch(n: number, from: ParentInfo = GENESIS, tag = 0): Block[] {
  const blocks: Block[] = [];
  let parent = from;
  for (let i = 0; i < n; i++) {
    const b = buildBlock(parent, [coinbaseTx(parent.height + 1, 50n * COIN, OP_TRUE, tag)]);
    blocks.push(b);
    parent = { hash: blockHash(b.header), height: parent.height + 1, time: b.header.time };
  }
  return blocks;
}

describe('headers-first', () => {
  it('accepts headers, reports the missing blocks lowest first, and connects them as they come', async () => {
    const chain = await Chain.open({ now: NOW });
    const blocks = branch(30);
    const { added } = chain.acceptHeaders(blocks.map((b) => b.header));
    expect(added).toHaveLength(30);
    expect(chain.bestHeader.height).toBe(30);
    expect(chain.tip.height).toBe(0);
    expect(chain.missingBlocks(5).map((e) => e.height)).toEqual([1, 2, 3, 4, 5]);
    // Blocks arriving out of order wait as stored (not orphans: their headers are known).
    expect((await chain.acceptBlock(blocks[1]!)).status).toBe('stored');
    expect((await chain.acceptBlock(blocks[0]!)).status).toBe('connected');
    expect(chain.tip.height).toBe(2);
    expect(chain.missingBlocks(2).map((e) => e.height)).toEqual([3, 4]);
    for (const b of blocks.slice(2)) await chain.acceptBlock(b);
    expect(chain.tip.height).toBe(30);
    expect(chain.missingBlocks(10)).toEqual([]);
  });

  it('refuses headers that do not connect or break a rule', async () => {
    const chain = await Chain.open({ now: NOW });
    const blocks = branch(3);
    expect(() => chain.acceptHeaders([blocks[2]!.header])).toThrow(
      expect.objectContaining({ code: 'ORPHAN' }),
    );
    const bad = { ...blocks[0]!.header, time: GENESIS.time - 100 };
    expect(() => chain.acceptHeaders([bad])).toThrow(LedgerError);
  });

  it('builds Core-style locators and answers getheaders from the fork point', async () => {
    const chain = await Chain.open({ now: NOW });
    await generateBlocks({ chain, coinbaseScript: OP_TRUE, count: 40 });
    const locator = chain.locator();
    const heights = locator.map((h) => chain.getEntry(h)!.height);
    expect(heights.slice(0, 11)).toEqual([40, 39, 38, 37, 36, 35, 34, 33, 32, 31, 30]);
    // Core's CChain::GetLocator: ten single steps, then the step doubles after each hash.
    expect(heights.slice(11)).toEqual([29, 27, 23, 15, 0]);
    // A locator from a peer at height 10: headers 11… up to the limit.
    const headers = chain.headersAfter([chain.entryAt(10)!.hash], new Uint8Array(32), 5);
    expect(headers.map((h) => chain.getEntry(blockHash(h))!.height)).toEqual([11, 12, 13, 14, 15]);
    // Stops at `stop`.
    const stopped = chain.headersAfter([chain.entryAt(10)!.hash], chain.entryAt(12)!.hash, 2000);
    expect(stopped).toHaveLength(2);
    // No known hash: from block 1 (the peer is assumed to have genesis).
    const unknown = chain.headersAfter([new Uint8Array(32).fill(9)], new Uint8Array(32), 3);
    expect(unknown.map((h) => chain.getEntry(blockHash(h))!.height)).toEqual([1, 2, 3]);
    // A hash on a side branch answers from its fork with the active chain.
    const side = branch(
      2,
      { hash: chain.entryAt(20)!.hash, height: 20, time: chain.entryAt(20)!.header.time },
      7,
    );
    for (const b of side) await chain.acceptBlock(b);
    const fromSide = chain.headersAfter([blockHash(side[1]!.header)], new Uint8Array(32), 2);
    expect(fromSide.map((h) => chain.getEntry(blockHash(h))!.height)).toEqual([21, 22]);
  });
});

describe('orphan blocks', () => {
  it('are kept bounded (oldest dropped) and connected when the parent arrives', async () => {
    const chain = await Chain.open({ now: NOW, maxOrphanBlocks: 2 });
    const blocks = branch(5);
    for (const b of blocks.slice(1)) expect((await chain.acceptBlock(b)).status).toBe('orphan');
    expect(chain.orphanCount).toBe(2); // blocks 2 and 3 were dropped
    const result = await chain.acceptBlock(blocks[0]!);
    expect(result.status).toBe('connected');
    expect(chain.tip.height).toBe(1); // 4 and 5 wait for 2 and 3, which were dropped
    await chain.acceptBlock(blocks[1]!);
    // Block 3 connects, and with it the orphans 4 and 5 that were kept.
    await chain.acceptBlock(blocks[2]!);
    expect(chain.tip.height).toBe(5);
    expect(chain.orphanCount).toBe(0);
    expect(toHex(chain.tip.hash)).toBe(toHex(blockHash(blocks[4]!.header)));
  });

  it('refuses to keep an orphan without valid proof of work', async () => {
    const chain = await Chain.open({ now: NOW });
    const orphan = branch(2)[1]!;
    orphan.header.nonce ^= 1;
    let found = false;
    for (let i = 0; i < 64 && !found; i++) {
      try {
        await chain.acceptBlock(orphan);
        orphan.header.nonce++;
      } catch (e) {
        expect((e as LedgerError).code).toMatch(/INVALID_(HEADER|BLOCK)/);
        found = true;
      }
    }
    expect(found).toBe(true);
    expect(chain.orphanCount).toBeLessThan(64);
  });
});

describe('time from an injected clock', () => {
  it("unixTimeFrom turns transport Clock milliseconds into the chain's network time", async () => {
    let ms = 0;
    const clock = {
      now: () => ms,
      setTimeout: () => ({ cancel: () => undefined }),
      setInterval: () => ({ cancel: () => undefined }),
    };
    const epoch = GENESIS.time + 100;
    const chain = await Chain.open({ now: unixTimeFrom(clock, epoch) });
    const future = branch(1)[0]!;
    future.header.time = epoch + 2 * 3600 + 1;
    future.header.nonce = 0;
    while (!checkProofOfWork(blockHash(future.header), future.header.bits, chain.params.powLimit))
      future.header.nonce++;
    await expect(chain.acceptBlock(future)).rejects.toMatchObject({ code: 'INVALID_HEADER' });
    ms = 1000; // one second later the same block is acceptable
    const later = await Chain.open({ now: unixTimeFrom(clock, epoch) });
    expect((await later.acceptBlock(future)).status).toBe('connected');
  });
});
