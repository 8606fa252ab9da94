/**
 * `@peerkit/piece-exchange/testing`: what peerkit's own tests use, for users to test their
 * implementations with the same properties (fast-check arbitraries and vitest suites; vitest and
 * fast-check are optional peer dependencies). Everything lives in `src/testing/`.
 */

// --- peer wire conformance rules against a live seeder, as vitest tests ---
export * from './conformance';
// --- BEP 3 choking rules ---
export { arbChokerPeers, type ChokeDecision, chokerRuleViolations } from './testing/choker-rules';
// --- metainfo and magnet links ---
export {
  arbMagnetLink,
  arbPathElement,
  arbTorrentInput,
  type TorrentInput,
} from './testing/metainfo-arbitraries';
export { describeMagnetCompliance, type MagnetCodec } from './testing/metainfo-compliance';
export {
  describePeerWireCompliance,
  type LiveSeeder,
  type PeerWireComplianceOptions,
} from './testing/peer-wire-compliance';
// --- the peer wire codec ---
export {
  arbChunking,
  arbExtensionHandshake,
  arbHandshake,
  arbMetadataMessage,
  arbPexMessage,
  arbTorrentGeometry,
  arbWireMessage,
  type WireArbitraryOptions,
} from './testing/wire-arbitraries';
export {
  describeWireCompliance,
  normaliseMessage,
  type WireCodec,
} from './testing/wire-compliance';
