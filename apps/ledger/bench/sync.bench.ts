/**
 * Initial sync of a 2,000-block regtest chain with transactions, over loopback TCP, by a fresh
 * peerkit node and by a fresh bcoin 1.0.2 node in the same run (the reference). The chain is
 * mined first by a bcoin source node: mature coinbases, then blocks of signed P2PKH payments
 * from its wallet. Both syncing nodes verify every block (peerkit: scripts and signatures;
 * bcoin: its full validation) before it counts. Run: `pnpm bench` (or `node ../../scripts/bench.mjs`).
 */

import { fmt, report } from '@peerkit/dev-kit/bench';
import { waitFor } from '@peerkit/dev-kit/interop';
import { hashToHex } from '@peerkit/ledger';
import { LedgerRuntime } from '../src/runtime';
import { BCOIN_REGTEST_P2PKH, base58check, bcoinBin, startBcoin } from '../test/bcoin';

const BLOCKS = Number(process.env.BENCH_BLOCKS ?? 2000);
const TX_PER_BLOCK = Number(process.env.BENCH_TX_PER_BLOCK ?? 4);

async function main(): Promise<void> {
  if (!bcoinBin())
    throw new Error(
      'bcoin is not installed: the benchmark needs it as the source and the reference',
    );
  // The chain is mined by bcoin (its wallet's payments, then generatetoaddress), because bcoin's
  // regtest activates segwit only after BIP 9 signalling (~432 blocks) and rejects the coinbase
  // witness that peerkit's miner, like Core's, adds from genesis.
  const source = await startBcoin();
  const fresh = await startBcoin();
  try {
    const t0 = performance.now();
    await source.mine(200);
    // bcoin's wallet catches up with its chain asynchronously.
    const payee = base58check(BCOIN_REGTEST_P2PKH, new Uint8Array(20).fill(9));
    await waitFor(
      () =>
        source.wallet('sendtoaddress', [payee, 0.001]).then(
          () => true,
          () => false,
        ),
      120_000,
      "bcoin's wallet to see mature coins",
    );
    let txs = 0;
    while ((await source.rpc<number>('getblockcount')) < BLOCKS) {
      for (let i = 0; i < TX_PER_BLOCK; i++) {
        await source.wallet('sendtoaddress', [
          base58check(BCOIN_REGTEST_P2PKH, new Uint8Array(20).fill(i + 1)),
          0.001,
        ]);
        txs++;
      }
      await source.mine(1);
    }
    const tip = await source.rpc<string>('getbestblockhash');
    console.log(
      `source chain (bcoin): ${BLOCKS} blocks, ${txs} payments, mined in ${fmt((performance.now() - t0) / 1000)} s`,
    );
    const rows: (string | number)[][] = [];
    // peerkit: a fresh node dials the source and syncs headers-first.
    {
      const node = await LedgerRuntime.open({ port: 0 });
      const start = performance.now();
      await node.node.connect({ host: '127.0.0.1', port: source.p2pPort });
      await waitFor(() => hashToHex(node.chain.tip.hash) === tip, 600_000, 'peerkit to sync');
      const s = (performance.now() - start) / 1000;
      rows.push([
        'peerkit-ledger (scripts verified)',
        BLOCKS,
        txs,
        fmt(s),
        fmt(BLOCKS / s),
        fmt(txs / s),
      ]);
      await node.close();
    }
    // bcoin: a fresh bcoin node dials the source (bcoin syncs from its outbound peers).
    {
      const start = performance.now();
      await fresh.rpc('addnode', [`127.0.0.1:${source.p2pPort}`, 'onetry']);
      await waitFor(
        async () => (await fresh.rpc<string>('getbestblockhash')) === tip,
        1_200_000,
        'bcoin to sync',
      );
      const s = (performance.now() - start) / 1000;
      rows.push([
        'bcoin 1.0.2 (NODE_BACKEND=js)',
        BLOCKS,
        txs,
        fmt(s),
        fmt(BLOCKS / s),
        fmt(txs / s),
      ]);
    }
    report({
      package: '@peerkit/ledger-app',
      name: 'sync',
      title: `initial sync of a ${BLOCKS}-block regtest chain with ${txs} payments over loopback`,
      columns: ['syncing node', 'blocks', 'transactions', 'seconds', 'blocks/s', 'tx/s'],
      rows,
      notes: [
        'Both fresh nodes sync the same chain from the same bcoin source node on 127.0.0.1 and verify every block and signature. bcoin runs with its pure-JavaScript backend (no native add-ons are built here), so its signature checks use JavaScript secp256k1; peerkit uses node:crypto (OpenSSL).',
      ],
    });
  } finally {
    await fresh.stop();
    await source.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
