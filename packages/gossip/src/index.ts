/**
 * @peerkit/gossip: topic pub/sub with a GossipSub-v1.1-style mesh over framed msgpack streams.
 */
export { addressKey, ConnectionManager, type ConnectionManagerParams } from './connection-manager';
export { GossipError, type GossipErrorCode, isGossipError } from './errors';
export { GossipPromises } from './gossip-promises';
export { type MsgKey, msgKey, type PeerKey, peerIdOf, peerKey } from './ids';
export { MessageCache } from './mcache';
export {
  DEFAULT_MESH_PARAMS,
  type GraftVerdict,
  Mesh,
  type MeshActions,
  type MeshParams,
  type MeshView,
} from './mesh';
export {
  contentMessageId,
  defaultMessageId,
  type GossipMessage,
  type MessageIdFn,
} from './message';
export {
  type AddStreamOptions,
  type GossipEvent,
  type GossipEvents,
  GossipNode,
  type PeerEvent,
} from './node';
export {
  type GossipOptions,
  type ResolvedOptions,
  resolveOptions,
  type SignaturePolicy,
  type ValidationResult,
  type Validator,
} from './options';
export { type GossipStats, Router, type RouterHost } from './router';
export {
  computeScore,
  type PeerStats,
  type TopicStats,
  topicScore,
} from './score/compute-score';
export {
  DEFAULT_SCORE_THRESHOLDS,
  DEFAULT_TOPIC_SCORE_PARAMS,
  defaultPeerScoreParams,
  type PeerScoreParams,
  type PeerScoreThresholds,
  type TopicScoreParams,
} from './score/params';
export { PeerScore, type RejectReason } from './score/peer-score';
export { SeenCache } from './seen-cache';
export { Identity, SignatureVerifier, signedBytes } from './signing';
export {
  type Control,
  DEFAULT_WIRE_LIMITS,
  type Frame,
  type Hello,
  type IHaveEntry,
  type PeerRecord,
  PROTOCOL_VERSION,
  type PruneEntry,
  type Rpc,
  WireCodec,
  type WireLimits,
  type WireMessage,
} from './wire';
