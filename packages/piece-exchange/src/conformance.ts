/**
 * `@peerkit/piece-exchange/conformance`: the peer wire conformance suite (BEP 3, 6, 9, 10) that
 * runs against any live peer seeding a torrent, over any transport `Network`: the rules
 * (`peerRules`), their target context (`openPeerContext`), the raw peer they talk through
 * (`WireProbe`) and the arbitrary of block requests they use. `peerkit-conform peer` runs these
 * rules over real sockets; `describePeerWireCompliance` in `./testing` runs them as vitest tests.
 *
 * This entry imports fast-check but not vitest.
 */
export { openPeerContext, type PeerContext, type PeerContextOptions } from './conformance/context';
export { peerRules } from './conformance/rules';
export { arbitraryBlockRequest, type BlockRequest } from './conformance/support';
export { WireProbe } from './conformance/wire-probe';
