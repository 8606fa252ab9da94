/**
 * Interop with bcoin 1.0.2 (regtest, in memory) on loopback: headers-first sync, block relay
 * both ways, transaction relay, compact blocks rebuilt from the mempool both ways, and reorgs to
 * the most-work chain in both directions. bcoin runs as a child process (test/bcoin.ts).
 */
import { hashToHex, toHex, txid } from '@peerkit/ledger';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { mineBlock } from '../../../packages/ledger/test/helpers/memory-chain';
import { waitFor } from '../../../scripts/interop-kit';
import { BCOIN_REGTEST_P2PKH, type Bcoin, base58check, bcoinBin, startBcoin } from './bcoin';
import { type PeerkitNode, startPeerkit } from './peerkit';

const SYNC_BLOCKS = 520;
/** Block times near the wall clock, or bcoin takes itself for out of sync and ignores invs. */
const now = () => Math.floor(Date.now() / 1000);

describe.skipIf(!bcoinBin())('peerkit ledger node against bcoin', () => {
  let bcoin: Bcoin;
  let pk: PeerkitNode;
  const bcoinAddress = () => ({ host: '127.0.0.1', port: bcoin.p2pPort });
  const bcoinTip = () => bcoin.rpc<string>('getbestblockhash');
  const bcoinHeight = () => bcoin.rpc<number>('getblockcount');

  beforeAll(async () => {
    bcoin = await startBcoin();
    pk = await startPeerkit();
  }, 120_000);
  afterAll(async () => {
    await pk?.close();
    await bcoin?.stop();
  });

  test(`syncs a ${SYNC_BLOCKS}-block bcoin chain headers-first and reaches bcoin's tip`, async () => {
    await bcoin.mine(SYNC_BLOCKS);
    const tip = await bcoinTip();
    await pk.node.connect(bcoinAddress());
    await waitFor(
      () => hashToHex(pk.chain.tip.hash) === tip,
      120_000,
      () => `peerkit at ${pk.chain.tip.height}`,
    );
    expect(pk.chain.tip.height).toBe(SYNC_BLOCKS);
    expect(pk.chain.bestHeader.height).toBe(SYNC_BLOCKS);
  }, 300_000);

  test('bcoin takes blocks mined by peerkit as its tip', async () => {
    for (let i = 0; i < 3; i++) {
      const block = mineBlock(pk.chain.tip, [], 0x10000 + i, { time: now() });
      expect(await pk.node.submitBlock(block)).toBe('connected');
      const ours = hashToHex(pk.chain.tip.hash);
      await waitFor(async () => (await bcoinTip()) === ours, 30_000, `bcoin to take block ${ours}`);
    }
  }, 120_000);

  test("a payment from bcoin's wallet reaches peerkit's mempool by relay; a compact block carrying it is rebuilt by bcoin from its mempool", async () => {
    const keyHash = new Uint8Array(20).fill(0x42);
    const txidHex = await bcoin.wallet<string>('sendtoaddress', [
      base58check(BCOIN_REGTEST_P2PKH, keyHash),
      1.5,
    ]);
    await waitFor(
      () => [...pk.mempool.transactions()].some((tx) => hashToHex(txid(tx)) === txidHex),
      30_000,
      'the tx to reach peerkit',
    );
    const tx = [...pk.mempool.transactions()].find((t) => hashToHex(txid(t)) === txidHex);
    if (!tx) throw new Error('unreachable');
    expect(tx.outputs.some((o) => toHex(o.scriptPubKey) === `76a914${toHex(keyHash)}88ac`)).toBe(
      true,
    );
    const block = mineBlock(pk.chain.tip, [tx], 0x20000, { time: now() });
    await pk.node.submitBlock(block);
    const ours = hashToHex(pk.chain.tip.hash);
    await waitFor(async () => (await bcoinTip()) === ours, 30_000, 'bcoin to take the block');
    // bcoin filled the compact block from its own mempool: no getblocktxn round trip.
    expect(bcoin.proc.output()).toContain(`Received full compact block ${ours}`);
  }, 120_000);

  test("bcoin's compact block is rebuilt by peerkit from its mempool", async () => {
    const compact: { fromMempool: number; missing: number }[] = [];
    const off = pk.node.on('compact', (e) => compact.push(e));
    const txidHex = await bcoin.wallet<string>('sendtoaddress', [
      base58check(BCOIN_REGTEST_P2PKH, new Uint8Array(20).fill(7)),
      0.5,
    ]);
    await waitFor(
      () => [...pk.mempool.transactions()].some((tx) => hashToHex(txid(tx)) === txidHex),
      30_000,
      'the tx to reach peerkit',
    );
    const [hash] = await bcoin.mine(1);
    await waitFor(
      () => hashToHex(pk.chain.tip.hash) === hash,
      30_000,
      "peerkit to take bcoin's block",
    );
    off();
    expect(compact.length).toBeGreaterThan(0);
    expect(compact.at(-1)).toMatchObject({ missing: 0 });
    expect(compact.at(-1)?.fromMempool).toBeGreaterThanOrEqual(1);
    expect(pk.mempool.has(Buffer.from(txidHex, 'hex').reverse())).toBe(false);
  }, 120_000);

  test('reorg in both directions: after a split, both end on the most-work tip', async () => {
    // 1. peerkit's branch is longer: bcoin reorganises to it.
    expect(pk.node.disconnect(bcoinAddress())).toBe(1);
    await waitFor(() => pk.node.readyPeers().length === 0, 10_000, 'the disconnect');
    await bcoin.mine(2);
    for (let i = 0; i < 4; i++)
      await pk.node.submitBlock(mineBlock(pk.chain.tip, [], 0x30000 + i, { time: now() }));
    const longer = hashToHex(pk.chain.tip.hash);
    // bcoin syncs only from its outbound peers (its "loader"): it reconnects to us.
    await bcoin.rpc('addnode', [`127.0.0.1:${pk.port}`, 'onetry']);
    await waitFor(
      async () => (await bcoinTip()) === longer,
      60_000,
      "bcoin to reorganise to peerkit's branch",
    );
    expect(hashToHex(pk.chain.tip.hash)).toBe(longer);
    // 2. bcoin's branch is longer: peerkit reorganises to it.
    for (const peer of pk.node.readyPeers()) peer.close('split the network');
    await waitFor(() => pk.node.readyPeers().length === 0, 10_000, 'the disconnect');
    const reorgs: number[] = [];
    pk.node.on('tip', (e) => {
      if (e.disconnected.length > 0) reorgs.push(e.disconnected.length);
    });
    await pk.node.submitBlock(mineBlock(pk.chain.tip, [], 0x40000, { time: now() }));
    await bcoin.mine(3);
    const theirs = await bcoinTip();
    await pk.node.connect(bcoinAddress());
    await waitFor(
      () => hashToHex(pk.chain.tip.hash) === theirs,
      60_000,
      "peerkit to reorganise to bcoin's branch",
    );
    expect(reorgs).toContain(1);
    expect(await bcoinHeight()).toBe(pk.chain.tip.height);
  }, 180_000);
});
