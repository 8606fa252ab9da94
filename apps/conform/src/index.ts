/**
 * @peerkit/conform: property-based conformance testing of live peers over the wire. The
 * `peerkit-conform` command runs these suites; the API runs them from code.
 *
 * The rules are the protocol packages' own conformance suites (their `./conformance` entries,
 * which their `./testing` entries run as vitest tests): this package only opens their contexts
 * against a live address, runs them with the rule framework of `@peerkit/conformance`
 * and formats the report. They are re-exported here so that one import gives everything.
 */

export {
  DEFAULT_RUNS,
  defineRule,
  ensure,
  type Outcome,
  type Rule,
  type RuleDefinition,
  type RuleResult,
  RuleViolation,
  type RunOptions,
  randomSeed,
  runRules,
  type SpecCitation,
  type SuiteReport,
  selects,
  type TargetContext,
  TargetDown,
} from '@peerkit/conformance';
export {
  type GossipContext,
  type GossipContextOptions,
  gossipRules,
  openGossipContext,
  RawPeer,
} from '@peerkit/gossip/conformance';
export {
  type DhtContext,
  type DhtContextOptions,
  dhtRules,
  KrpcProbe,
  type KrpcReply,
  openDhtContext,
} from '@peerkit/kademlia/conformance';
export {
  openPeerContext,
  type PeerContext,
  type PeerContextOptions,
  peerRules,
  WireProbe,
} from '@peerkit/piece-exchange/conformance';
export { formatJson, formatTable } from './framework/report';
export { parseHostPort } from './host-port';
export {
  DEFAULT_DHT_RATE,
  DEFAULT_TIMEOUT_MS,
  type DhtSuiteOptions,
  type GossipSuiteOptions,
  loadTorrent,
  type PeerSuiteOptions,
  runDhtSuite,
  runGossipSuite,
  runPeerSuite,
  type SuiteOptions,
  TargetError,
} from './suites';
