/**
 * @peerkit/fileshare: the pieces of `peerkit-share`, usable in-process (tests, other apps):
 * a share node wiring a DHT to a torrent session, and one function per command.
 */

export { type CliEvent, CliProcess, type SpawnCliOptions, spawnCli } from './cli-process';
export {
  type CreateOptions,
  createTorrentFile,
  type MadeTorrent,
  makeTorrent,
} from './commands/create';
export { type DhtNodeOptions, runDhtNode } from './commands/dht-node';
export { type GetOptions, runGet } from './commands/get';
export { describeTarget, formatSummary, type TorrentSummary } from './commands/info';
export { runShare, type ShareOptions } from './commands/share';
export { type DhtDiscoveryOptions, startDhtDiscovery } from './dht-discovery';
export { CliError, type CliErrorCode, describeError, errorCode } from './errors';
export type { NodeEvent, NodeEventHandler, PeerTotals, StatusFields } from './events';
export {
  parseInfoHash,
  parsePeerAddress,
  parsePort,
  parseSize,
  readMagnet,
  readTarget,
  readTorrentFile,
  type Target,
} from './input';
export { type ShareNode, type ShareNodeOptions, startShareNode } from './node';
export { startNodeTrackers, trackerTiers } from './node-trackers';
export { PeerTotalsTracker } from './peer-totals';
export { buildProgram, main } from './program';
export { formatBytes, formatRate } from './report';
export { defaultStateDir, openStateDir, type StateDir } from './state-dir';
export { TokenBucket, throttledNetwork } from './throttle';
