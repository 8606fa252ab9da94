/**
 * @peerkit/messenger: `peerkit-chat`, an end-to-end encrypted peer-to-peer messenger. The
 * command is the main product; this entry exposes the node, the envelope formats and the demo
 * for programs and tests.
 */

export { type ChatDemoOptions, type ChatDemoSummary, runChatDemo } from './demo';
export {
  type DirectMessage,
  DM_ID_LENGTH,
  dmSignedBytes,
  ENVELOPE_VERSION,
  EnvelopeCodec,
  type RoomMessage,
  roomSignedBytes,
  verifyDirectMessage,
  verifyRoomMessage,
} from './envelope';
export { ChatError, type ChatErrorCode, isChatError } from './errors';
export type { ChatEvent, DmView, MessageView } from './events';
export { HistoryStore, type ImportResult } from './history';
export { type ChatLimits, DEFAULT_LIMITS } from './limits';
export { MessengerNode, type MessengerOptions } from './node';
export type { PeerView } from './peer-book';
export {
  base32Decode,
  base32Encode,
  formatPeerId,
  isPeerId,
  PEER_ID_LENGTH,
  parsePeerId,
  shortPeerId,
} from './peer-id';
export { RateLimiter } from './rate-limit';
export { peerKeyOf, roomKey, roomTopic } from './rendezvous';
export { ReplayWindow, type WindowVerdict } from './replay-window';
export { type Verdict, validateRoomMessage } from './validate';
