/**
 * `@peerkit/ledger/conformance`: the Bitcoin P2P conformance suite, one rule per sentence of the
 * developer reference (and BIP 31), checked against any live node over raw TCP connections.
 * `peerkit-conform btc HOST:PORT` runs these rules; so can `runRules` from
 * `@peerkit/conformance`:
 *
 * ```ts
 * import { btcRules, openBtcContext } from '@peerkit/ledger/conformance';
 * import { nodeNetwork } from '@peerkit/transport';
 * import { runRules } from '@peerkit/conformance';
 *
 * const ctx = await openBtcContext(nodeNetwork(), { host: '127.0.0.1', port: 18444 }, { timeoutMs: 2000 });
 * const report = await runRules('btc', '127.0.0.1:18444', btcRules, ctx, { runs: 10 });
 * await ctx.close();
 * ```
 *
 * No vitest here; fast-check is an optional peer dependency.
 */
export { type BtcContext, type BtcContextOptions, openBtcContext } from './conformance/context';
export { BtcProbe, probeVersion } from './conformance/probe';
export {
  badChecksum,
  beforeVersion,
  btcRules,
  getDataBlock,
  getDataNotFound,
  getHeadersFromGenesis,
  getHeadersStop,
  getHeadersUnknownLocator,
  oversized,
  pingPong,
  unknownCommand,
  versionReply,
  wrongMagic,
} from './conformance/rules';
