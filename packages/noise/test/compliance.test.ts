/**
 * peerkit's secure channel against its own compliance suite (exported from ./testing):
 * delivery under arbitrary chunking, bit flips, replays and reorders, garbage handshakes,
 * identity mismatch and handshake timeout.
 */
import { generateIdentity, secureInbound, secureOutbound } from '../src/index';
import { describeSecureChannelCompliance } from '../src/testing';

describeSecureChannelCompliance('@peerkit/noise', {
  generateIdentity,
  secureOutbound,
  secureInbound,
});
