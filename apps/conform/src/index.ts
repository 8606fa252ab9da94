/**
 * @peerkit/conform: property-based conformance testing of live peers over the wire. The
 * `peerkit-conform` command runs these suites; the API runs them from code, and the rule
 * framework lets you write rules of your own.
 */
export { type DhtContext, type DhtContextOptions, openDhtContext } from './dht/context';
export { KrpcProbe, type KrpcReply } from './dht/probe';
export { type AdaptOptions, adaptExampleChecks, type ExampleCheck } from './framework/adapt';
export { formatJson, formatTable } from './framework/report';
export {
  defineRule,
  ensure,
  type Rule,
  type RuleDefinition,
  RuleViolation,
  type SpecCitation,
  type TargetContext,
  TargetDown,
} from './framework/rule';
export {
  DEFAULT_RUNS,
  type Outcome,
  type RuleResult,
  type RunOptions,
  randomSeed,
  runRules,
  type SuiteReport,
  selects,
} from './framework/runner';
export { type GossipContext, openGossipContext } from './gossip/context';
export { frameBytes, GossipPeer } from './gossip/peer';
export { parseHostPort } from './host-port';
export { PeerConnection } from './peer/connection';
export { openPeerContext, type PeerContext, type PeerContextOptions } from './peer/context';
export { dhtRules } from './rules/dht';
export { gossipRules } from './rules/gossip';
export { peerRules } from './rules/peer';
export {
  DEFAULT_TIMEOUT_MS,
  type DhtSuiteOptions,
  formatAddress,
  type GossipSuiteOptions,
  loadTorrent,
  type PeerSuiteOptions,
  runDhtSuite,
  runGossipSuite,
  runPeerSuite,
  type SuiteOptions,
} from './suites';
