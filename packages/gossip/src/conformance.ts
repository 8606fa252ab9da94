/**
 * `@peerkit/gossip/conformance`: the gossip conformance suite, vitest-free (the
 * `peerkit-conform` command bundles it).
 *
 * - `gossipRules`: the rules of peerkit's gossip wire spec (README, "Conformance"), each citing
 *   the sentence it checks; run them with `runRules` from `@peerkit/conformance`, or as
 *   vitest tests with `describeRules` (`@peerkit/conformance/testing`) or
 *   `describeGossipCompliance` (`@peerkit/gossip/testing`).
 * - `openGossipContext(network, address, options)`: the target the rules talk to.
 * - `RawPeer`: a wire-level test peer with its own identity.
 * - the fast-check arbitraries of the wire format the rules draw their cases from.
 */

export {
  type GossipContext,
  type GossipContextOptions,
  openGossipContext,
  type PublishFn,
} from './conformance/context';
export { RawPeer, type RawPeerOptions } from './conformance/raw-peer';
export { gossipRules } from './conformance/rules';
export * from './testing/arbitraries';
