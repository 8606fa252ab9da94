/**
 * @peerkit/ledger-app: the pieces of `peerkit-ledger` for embedding and tests — the runtime
 * (chain, mempool, wallet, miner, P2P node), the JSON-RPC server with Bitcoin Core's method
 * names, and its client.
 */
export { type ClientOptions, RpcCallError, rpcCall } from './client';
export { type LedgerDemoOptions, type LedgerDemoSummary, runLedgerDemo } from './demo';
export { InputError, parseCount, parseHostPort, parsePort } from './input';
export { callMethod, METHOD_NAMES, parseAmount, RpcError, toCoins } from './rpc-methods';
export { type RpcServer, type RpcServerOptions, startRpcServer } from './rpc-server';
export { LedgerRuntime, type RuntimeOptions } from './runtime';
