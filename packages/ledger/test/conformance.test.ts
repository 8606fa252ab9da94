/**
 * The btc conformance rules (src/conformance) against peerkit's own node on loopback TCP.
 * Replay a failure with the printed `CONFORM_SEED`.
 */

import { describeRules } from '@peerkit/conformance/testing';
import { nodeNetwork } from '@peerkit/transport';
import { btcRules, openBtcContext } from '../src/conformance';
import { LedgerNode } from '../src/node';
import { MemoryChain, MemoryMempool, mineBlock } from './helpers/memory-chain';

describeRules(
  'peerkit ledger node on loopback',
  btcRules,
  async () => {
    const chain = new MemoryChain();
    for (let i = 0; i < 30; i++) await chain.acceptBlock(mineBlock(chain.tip, [], 5000 + i));
    const network = nodeNetwork();
    const node = new LedgerNode({
      network,
      chain,
      mempool: new MemoryMempool(),
      listen: { host: '127.0.0.1', port: 0 },
    });
    node.setHandlerErrorReporter(() => undefined);
    await node.start();
    const address = node.listenAddress;
    if (!address) throw new Error('not listening');
    const ctx = await openBtcContext(network, address, { timeoutMs: 2000 });
    return {
      ...ctx,
      async close() {
        await ctx.close();
        await node.close();
      },
    };
  },
  { runs: 5 },
);
