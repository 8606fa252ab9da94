/**
 * Interop with bcoin 1.0.2 (regtest, in memory) on loopback: headers-first sync, blocks mined by
 * peerkit (one carrying a P2PKH payment peerkit signed) taken by bcoin, a payment from bcoin's
 * wallet relayed to peerkit and credited to its wallet, compact blocks rebuilt from the mempool
 * both ways, and reorgs to the most-work chain in both directions. bcoin runs as a child
 * process (test/bcoin.ts); peerkit validates everything with its own Chain.
 */

import { waitFor } from '@peerkit/dev-kit/interop';
import { COIN, hashToHex, REGTEST, toHex, txid, Wallet } from '@peerkit/ledger';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  BCOIN_REGTEST_P2PKH,
  type Bcoin,
  base58check,
  base58decode,
  bcoinBin,
  startBcoin,
} from './bcoin';
import { type PeerkitNode, startPeerkit } from './peerkit';

const SYNC_BLOCKS = 520;

describe.skipIf(!bcoinBin())('peerkit ledger node against bcoin', () => {
  let bcoin: Bcoin;
  let pk: PeerkitNode;
  const bcoinAddress = () => ({ host: '127.0.0.1', port: bcoin.p2pPort });
  const bcoinTip = () => bcoin.rpc<string>('getbestblockhash');
  const bcoinHeight = () => bcoin.rpc<number>('getblockcount');
  const inMempool = (hex: string) =>
    [...pk.mempool.transactions()].find((tx) => hashToHex(txid(tx)) === hex);

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
      180_000,
      () => `peerkit at ${pk.chain.tip.height}`,
    );
    expect(pk.chain.tip.height).toBe(SYNC_BLOCKS);
  }, 300_000);

  test('bcoin takes blocks mined by peerkit, one of them carrying a P2PKH payment signed by peerkit', async () => {
    const ours = pk.wallet.newAddress();
    // 101 blocks: the first coinbase matures (COINBASE_MATURITY = 100).
    for (let i = 0; i < 101; i++) await pk.mine({ address: ours });
    const tip = hashToHex(pk.chain.tip.hash);
    await waitFor(
      async () => (await bcoinTip()) === tip,
      60_000,
      `bcoin to take peerkit's block ${tip}`,
    );
    const bcoinKeyHash = await bcoin.newKeyHash();
    const payment = pk.wallet.createPayment({
      chain: pk.chain,
      mempool: pk.mempool,
      to: base58check(REGTEST.pubkeyHashPrefix, bcoinKeyHash),
      amount: 2n * COIN,
    });
    const id = hashToHex(txid(payment));
    await pk.node.submitTransaction(payment);
    // bcoin validated peerkit's signature when it took the payment into its mempool.
    await waitFor(
      async () => (await bcoin.rpc<string[]>('getrawmempool')).includes(id),
      30_000,
      'bcoin to take the payment',
    );
    await pk.mine();
    const withPayment = hashToHex(pk.chain.tip.hash);
    await waitFor(
      async () => (await bcoinTip()) === withPayment,
      30_000,
      'bcoin to take the block with the payment',
    );
    const block = await bcoin.rpc<{ tx: string[] }>('getblock', [withPayment]);
    expect(block.tx).toContain(id);
    // bcoin filled the compact block from its own mempool: no getblocktxn round trip.
    expect(bcoin.proc.output()).toContain(`Received full compact block ${withPayment}`);
  }, 180_000);

  test("a payment from bcoin's wallet reaches peerkit's mempool by relay, then its wallet balance", async () => {
    // A wallet of its own, so that maturing coinbases of the earlier blocks don't mix in.
    const receiving = new Wallet();
    const address = receiving.newAddress();
    const keyHash = base58decode(address).payload;
    const compact: { fromMempool: number; missing: number }[] = [];
    const off = pk.node.on('compact', (e) => compact.push(e));
    const id = await bcoin.wallet<string>('sendtoaddress', [
      base58check(BCOIN_REGTEST_P2PKH, keyHash),
      1.25,
    ]);
    await waitFor(() => inMempool(id) !== undefined, 30_000, 'the payment to reach peerkit');
    const tx = inMempool(id);
    expect(tx?.outputs.some((o) => toHex(o.scriptPubKey) === `76a914${toHex(keyHash)}88ac`)).toBe(
      true,
    );
    expect(receiving.balance(pk.chain, pk.mempool).unconfirmed).toBe(125_000_000n);
    // bcoin mines it; peerkit rebuilds bcoin's compact block from its mempool.
    const [hash] = await bcoin.mine(1);
    await waitFor(
      () => hashToHex(pk.chain.tip.hash) === hash,
      30_000,
      "peerkit to take bcoin's block",
    );
    off();
    expect(compact.at(-1)).toMatchObject({ missing: 0 });
    expect(compact.at(-1)?.fromMempool).toBeGreaterThanOrEqual(1);
    expect(inMempool(id)).toBeUndefined();
    expect(receiving.balance(pk.chain).confirmed).toBe(125_000_000n);
  }, 120_000);

  test('reorg in both directions: after a split, both end on the most-work tip', async () => {
    // 1. peerkit's branch is longer: bcoin reorganises to it.
    expect(pk.node.disconnect(bcoinAddress())).toBe(1);
    await waitFor(() => pk.node.readyPeers().length === 0, 10_000, 'the disconnect');
    await bcoin.mine(2);
    for (let i = 0; i < 4; i++) await pk.mine();
    const longer = hashToHex(pk.chain.tip.hash);
    // bcoin syncs only from its outbound peers (its "loader"): it reconnects to us.
    await bcoin.rpc('addnode', [`127.0.0.1:${pk.port}`, 'onetry']);
    await waitFor(
      async () => (await bcoinTip()) === longer,
      60_000,
      "bcoin to reorganise to peerkit's branch",
    );
    // 2. bcoin's branch is longer: peerkit reorganises to it.
    for (const peer of pk.node.readyPeers()) peer.close('split the network');
    await waitFor(() => pk.node.readyPeers().length === 0, 10_000, 'the disconnect');
    const reorgs: number[] = [];
    pk.node.on('tip', (e) => {
      if (e.disconnected.length > 0) reorgs.push(e.disconnected.length);
    });
    await pk.mine();
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
