// --- peer wire, metainfo and magnet arbitraries ---
export * from './metainfo/arbitraries';
export * from './metainfo/compliance';
export * from './wire/arbitraries';
export * from './wire/compliance';
// --- end peer wire, metainfo and magnet arbitraries ---

// --- peer wire conformance rules against a live seeder ---
export * from './conformance';
export {
  describePeerWireCompliance,
  type LiveSeeder,
  type PeerWireComplianceOptions,
} from './session/compliance';
// --- end peer wire conformance rules ---

// --- BEP 3 choking rules ---
export { arbChokerPeers, type ChokeDecision, chokerRuleViolations } from './choker-rules';
// --- end BEP 3 choking rules ---
