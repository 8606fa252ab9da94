/**
 * `@peerkit/kademlia/conformance`: the Mainline DHT conformance suite, one rule per BEP sentence
 * (BEP 5 KRPC, BEP 44 items and BEP 51 samples where the node supports them), checked against any live node over
 * UDP with raw datagrams. `peerkit-conform dht HOST:PORT` runs these rules; so does
 * `describeKrpcCompliance` in `./testing`, and `runRules` from `@peerkit/conformance`.
 *
 * ```ts
 * import { dhtRules, openDhtContext } from '@peerkit/kademlia/conformance';
 * import { nodeNetwork } from '@peerkit/transport';
 * import { runRules } from '@peerkit/conformance';
 *
 * const ctx = await openDhtContext(nodeNetwork(), { host: '127.0.0.1', port: 6881 }, { timeoutMs: 2000 });
 * const report = await runRules('dht', '127.0.0.1:6881', dhtRules, ctx, { runs: 30 });
 * await ctx.close();
 * ```
 *
 * No vitest here (command-line tools bundle this entry); fast-check is an optional peer
 * dependency.
 */
export { bep44Rules } from './conformance/bep44-rules';
export { bep51Rules } from './conformance/bep51-rules';
export { type DhtContext, type DhtContextOptions, openDhtContext } from './conformance/context';
export { KrpcProbe, type KrpcReply, localHostFor, Pacer } from './conformance/probe';
export { dhtRules } from './conformance/rules';
export {
  arbId,
  arbTransactionId,
  compactNodes,
  describeReply,
  expectError,
  expectResponse,
  nodesKey,
  peerSize,
  query,
  tokenOf,
} from './conformance/support';
