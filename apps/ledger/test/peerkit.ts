/**
 * A peerkit ledger node on loopback for the interop tests.
 *
 * The chain and mempool are the reference doubles of @peerkit/ledger's tests (header tree with
 * proof of work, merkle checks, most-work reorgs; no script validation): these tests prove the
 * wire protocol against bcoin. Consensus against bcoin (blocks validated by ledger-core's
 * Chain, signed payments) is the business of the tests that use ledger-core's chain.
 */
import { LedgerNode } from '@peerkit/ledger';
import { nodeNetwork } from '@peerkit/transport';
import { MemoryChain, MemoryMempool } from '../../../packages/ledger/test/helpers/memory-chain';

export interface PeerkitNode {
  node: LedgerNode;
  chain: MemoryChain;
  mempool: MemoryMempool;
  port: number;
  close(): Promise<void>;
}

export async function startPeerkit(): Promise<PeerkitNode> {
  const chain = new MemoryChain();
  const mempool = new MemoryMempool();
  const network = nodeNetwork();
  const node = new LedgerNode({
    network,
    epochMs: Date.now() - network.clock.now(),
    chain,
    mempool,
    listen: { host: '127.0.0.1', port: 0 },
  });
  node.setHandlerErrorReporter(() => undefined);
  await node.start();
  const port = node.listenAddress?.port ?? 0;
  return { node, chain, mempool, port, close: () => node.close() };
}
