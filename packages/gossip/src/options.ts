/**
 * The node's options and their defaults (README, "Options"). Names follow the specs:
 * gossipsub-v1.0.md "Parameters" and gossipsub-v1.1.md "Parameters".
 */
import type { Address } from '@peerkit/transport';
import { GossipError } from './errors';
import type { PeerKey } from './ids';
import { DEFAULT_MESH_PARAMS, type MeshParams, validateMeshParams } from './mesh';
import { defaultMessageId, type GossipMessage, type MessageIdFn } from './message';
import {
  DEFAULT_SCORE_THRESHOLDS,
  defaultPeerScoreParams,
  type PeerScoreParams,
  type PeerScoreThresholds,
  validateScoreParams,
} from './score/params';
import { DEFAULT_WIRE_LIMITS, type WireLimits } from './wire';

/** The application's verdict on a message (gossipsub-v1.1 "Extended Validators"). */
export type ValidationResult = 'accept' | 'reject' | 'ignore';
export type Validator = (
  message: GossipMessage,
  from: PeerKey,
) => ValidationResult | Promise<ValidationResult>;

/**
 * `strict-sign` (default): our messages carry from, seqno and signature; received messages
 * must carry a valid one. `strict-no-sign`: messages carry none of them and any that do are
 * rejected (anonymous topics; ids must come from content).
 */
export type SignaturePolicy = 'strict-sign' | 'strict-no-sign';

export interface GossipOptions extends Partial<MeshParams> {
  /** Address to listen on (e.g. `{ host: '127.0.0.1', port: 0 }`); absent: no listener. */
  listen?: { host: string; port?: number };
  /** Peers to dial and keep connected (the connection manager retries them with backoff). */
  bootstrap?: Address[];
  /** 32-byte Ed25519 seed of the node's identity; default: drawn from `network.random`. */
  identitySeed?: Uint8Array;
  /**
   * Wraps each new stream before the gossip hello (e.g. a noise secure channel). When the
   * returned stream has a 32-byte `remoteIdentity` (an Ed25519 key, as @peerkit/noise's
   * does), the peer's hello id must equal it: peer ids are then authenticated.
   */
  upgrade?: (
    stream: import('@peerkit/transport').Stream,
    outbound: boolean,
  ) => Promise<import('@peerkit/transport').Stream>;

  /** Heartbeat interval (v1.0: 1 s). */
  heartbeatIntervalMs?: number;
  /** Peers that receive IHAVE gossip per topic per heartbeat (at least). */
  Dlazy?: number;
  /** Fraction of eligible peers that receive gossip, if more than Dlazy (v1.1 gossip_factor). */
  gossipFactor?: number;
  /** Message cache windows kept (mcache_len) and gossiped (mcache_gossip). */
  mcacheLength?: number;
  mcacheGossip?: number;
  /** How long a message id stays in the seen cache. */
  seenTtlMs?: number;
  /** How long a fanout topic lives after our last publish to it. */
  fanoutTtlMs?: number;
  /** Publish own messages to every subscribed peer above publishThreshold (v1.1). */
  floodPublish?: boolean;
  /** Forward every message to every subscriber (floodsub behaviour; the benchmark baseline). */
  flood?: boolean;
  /** Allow publish to succeed with no subscribed peer (else NO_PEERS_SUBSCRIBED). */
  allowPublishToZeroPeers?: boolean;
  /** Deliver our own published messages to our own handlers. */
  emitSelf?: boolean;
  /** Time a peer has to answer an IWANT (promise tracking). */
  iwantFollowupMs?: number;
  /** Times one peer may fetch the same message by IWANT. */
  gossipRetransmission?: number;
  /** Most topics a peer may subscribe to; subscriptions beyond are ignored and penalised. */
  maxTopicsPerPeer?: number;
  /** Message id function (default: from || seqno). */
  msgIdFn?: MessageIdFn;
  signaturePolicy?: SignaturePolicy;
  /** Application validation hook. */
  validator?: Validator;
  /**
   * Called with errors thrown by application callbacks (event handlers, the validator); such
   * a message is ignored, never counted against the peer, and the other handlers still run.
   * Default: one line on stderr (transport's `reportHandlerError`), so nothing is swallowed
   * and nothing crashes the node.
   */
  onError?: (error: unknown) => void;

  /** Peer scoring (v1.1). */
  scoreParams?: Partial<PeerScoreParams>;
  scoreThresholds?: Partial<PeerScoreThresholds>;

  /** Wire limits (message size, IHAVE/IWANT lengths, ...). */
  limits?: Partial<WireLimits>;

  /** Connection manager: outbound connections it tries to keep. */
  targetPeers?: number;
  /** Connection manager: most connections (inbound beyond are refused). */
  maxPeers?: number;
  /** Reconnect backoff: first delay and cap (doubling, with jitter). */
  reconnectBackoffMs?: number;
  maxReconnectBackoffMs?: number;
  /** Dials in flight at once. */
  maxConcurrentDials?: number;
  /** Frames a slow peer may have queued before it is disconnected. */
  maxQueuedFrames?: number;
  /** An empty RPC goes to a peer we sent nothing for this long. */
  keepAliveIntervalMs?: number;
  /** A peer we received nothing from for this long is disconnected (> keepAliveIntervalMs). */
  idleTimeoutMs?: number;
}

export interface ResolvedOptions {
  mesh: MeshParams;
  heartbeatIntervalMs: number;
  Dlazy: number;
  gossipFactor: number;
  mcacheLength: number;
  mcacheGossip: number;
  seenTtlMs: number;
  fanoutTtlMs: number;
  floodPublish: boolean;
  flood: boolean;
  allowPublishToZeroPeers: boolean;
  emitSelf: boolean;
  iwantFollowupMs: number;
  gossipRetransmission: number;
  maxTopicsPerPeer: number;
  msgIdFn: MessageIdFn;
  signaturePolicy: SignaturePolicy;
  validator: Validator | undefined;
  scoreParams: PeerScoreParams;
  thresholds: PeerScoreThresholds;
  limits: WireLimits;
  targetPeers: number;
  maxPeers: number;
  reconnectBackoffMs: number;
  maxReconnectBackoffMs: number;
  maxConcurrentDials: number;
  maxQueuedFrames: number;
  keepAliveIntervalMs: number;
  idleTimeoutMs: number;
}

export function resolveOptions(o: GossipOptions = {}): ResolvedOptions {
  const thresholds = { ...DEFAULT_SCORE_THRESHOLDS, ...o.scoreThresholds };
  const mesh: MeshParams = {
    D: o.D ?? DEFAULT_MESH_PARAMS.D,
    Dlo: o.Dlo ?? DEFAULT_MESH_PARAMS.Dlo,
    Dhi: o.Dhi ?? DEFAULT_MESH_PARAMS.Dhi,
    Dscore: o.Dscore ?? DEFAULT_MESH_PARAMS.Dscore,
    Dout: o.Dout ?? DEFAULT_MESH_PARAMS.Dout,
    pruneBackoffMs: o.pruneBackoffMs ?? DEFAULT_MESH_PARAMS.pruneBackoffMs,
    unsubscribeBackoffMs: o.unsubscribeBackoffMs ?? DEFAULT_MESH_PARAMS.unsubscribeBackoffMs,
    opportunisticGraftTicks:
      o.opportunisticGraftTicks ?? DEFAULT_MESH_PARAMS.opportunisticGraftTicks,
    opportunisticGraftPeers:
      o.opportunisticGraftPeers ?? DEFAULT_MESH_PARAMS.opportunisticGraftPeers,
    opportunisticGraftThreshold: thresholds.opportunisticGraftThreshold,
    graftFloodThresholdMs: o.graftFloodThresholdMs ?? DEFAULT_MESH_PARAMS.graftFloodThresholdMs,
  };
  const meshProblem = validateMeshParams(mesh);
  if (meshProblem !== undefined) throw new GossipError('INVALID_OPTION', meshProblem);
  const limits = { ...DEFAULT_WIRE_LIMITS, ...o.limits };
  const maxTopicsPerPeer = o.maxTopicsPerPeer ?? limits.maxTopicsPerRpc;
  const r: ResolvedOptions = {
    mesh,
    heartbeatIntervalMs: o.heartbeatIntervalMs ?? 1000,
    Dlazy: o.Dlazy ?? 6,
    gossipFactor: o.gossipFactor ?? 0.25,
    mcacheLength: o.mcacheLength ?? 5,
    mcacheGossip: o.mcacheGossip ?? 3,
    seenTtlMs: o.seenTtlMs ?? 120_000,
    fanoutTtlMs: o.fanoutTtlMs ?? 60_000,
    floodPublish: o.floodPublish ?? true,
    flood: o.flood ?? false,
    allowPublishToZeroPeers: o.allowPublishToZeroPeers ?? false,
    emitSelf: o.emitSelf ?? false,
    iwantFollowupMs: o.iwantFollowupMs ?? 3000,
    gossipRetransmission: o.gossipRetransmission ?? 3,
    maxTopicsPerPeer,
    msgIdFn: o.msgIdFn ?? defaultMessageId,
    signaturePolicy: o.signaturePolicy ?? 'strict-sign',
    validator: o.validator,
    scoreParams: { ...defaultPeerScoreParams(), ...o.scoreParams },
    thresholds,
    limits,
    targetPeers: o.targetPeers ?? 8,
    maxPeers: o.maxPeers ?? 64,
    reconnectBackoffMs: o.reconnectBackoffMs ?? 1000,
    maxReconnectBackoffMs: o.maxReconnectBackoffMs ?? 60_000,
    maxConcurrentDials: o.maxConcurrentDials ?? 8,
    maxQueuedFrames: o.maxQueuedFrames ?? 4096,
    keepAliveIntervalMs: o.keepAliveIntervalMs ?? 10_000,
    idleTimeoutMs: o.idleTimeoutMs ?? 30_000,
  };
  validateScoreParams(r.scoreParams, r.thresholds);
  const positive: [string, number][] = [
    ['heartbeatIntervalMs', r.heartbeatIntervalMs],
    ['mcacheLength', r.mcacheLength],
    ['seenTtlMs', r.seenTtlMs],
    ['fanoutTtlMs', r.fanoutTtlMs],
    ['iwantFollowupMs', r.iwantFollowupMs],
    ['gossipRetransmission', r.gossipRetransmission],
    ['maxTopicsPerPeer', r.maxTopicsPerPeer],
    ['maxPeers', r.maxPeers],
    ['reconnectBackoffMs', r.reconnectBackoffMs],
    ['maxConcurrentDials', r.maxConcurrentDials],
    ['maxQueuedFrames', r.maxQueuedFrames],
  ];
  for (const [name, value] of positive) {
    if (!(value > 0)) throw new GossipError('INVALID_OPTION', `${name} must be > 0`);
  }
  if (!(r.idleTimeoutMs > r.keepAliveIntervalMs && r.keepAliveIntervalMs > 0)) {
    throw new GossipError('INVALID_OPTION', 'idleTimeoutMs must exceed keepAliveIntervalMs > 0');
  }
  if (r.mcacheGossip < 1 || r.mcacheGossip > r.mcacheLength) {
    throw new GossipError('INVALID_OPTION', 'mcacheGossip must be in [1, mcacheLength]');
  }
  if (r.targetPeers < 0 || r.targetPeers > r.maxPeers) {
    throw new GossipError('INVALID_OPTION', 'targetPeers must be in [0, maxPeers]');
  }
  return r;
}
