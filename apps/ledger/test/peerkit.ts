/**
 * A peerkit ledger node on loopback for the interop tests: ledger-core's Chain (full block
 * validation, scripts included), a wallet, the CPU miner, and the P2P node.
 */
import {
  addressToScript,
  Chain,
  createBlockTemplate,
  LedgerNode,
  Mempool,
  mineBlock,
  type Transaction,
  txid,
  unixTimeFrom,
  Wallet,
} from '@peerkit/ledger';
import { nodeNetwork } from '@peerkit/transport';

export interface PeerkitNode {
  node: LedgerNode;
  chain: Chain;
  mempool: Mempool;
  wallet: Wallet;
  port: number;
  /** Mines one block on the tip with the mempool's transactions, paying `address`, and relays it. */
  mine(options?: { address?: string }): Promise<string>;
  close(): Promise<void>;
}

export async function startPeerkit(): Promise<PeerkitNode> {
  const network = nodeNetwork();
  const epochMs = Date.now() - network.clock.now();
  const chain = await Chain.open({ now: unixTimeFrom(network.clock, epochMs / 1000) });
  const mempool = new Mempool({ chain });
  const wallet = new Wallet();
  const node = new LedgerNode({
    network,
    epochMs,
    chain,
    mempool,
    listen: { host: '127.0.0.1', port: 0 },
  });
  node.setHandlerErrorReporter(() => undefined);
  await node.start();
  const port = node.listenAddress?.port ?? 0;
  let extraNonce = 0;
  return {
    node,
    chain,
    mempool,
    wallet,
    port,
    async mine(options = {}) {
      const coinbaseScript = addressToScript(options.address ?? wallet.newAddress());
      const block = mineBlock(
        createBlockTemplate({ chain, mempool, coinbaseScript, extraNonce: extraNonce++ }),
      );
      if (!block) throw new Error('no block found');
      const status = await node.submitBlock(block);
      if (status !== 'connected') throw new Error(`mined block not connected: ${status}`);
      return Buffer.from(txid(block.transactions[0] as Transaction)).toString('hex');
    },
    close: async () => {
      await node.close();
      await chain.close();
    },
  };
}
