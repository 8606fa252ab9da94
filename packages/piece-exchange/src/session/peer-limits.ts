/**
 * The numbers that bound one peer connection: how deep the request pipeline runs, how long a
 * silent peer is waited for, how much a peer may queue with us. One home for each default.
 */
import { BLOCK_LENGTH } from '../wire/messages';

export interface PeerLimits {
  /** Requests we accept queued from one peer (our `reqq`, default 500). */
  maxPeerRequests: number;
  /** Fewest requests kept outstanding with an unchoking peer (default 16). */
  minRequestDepth: number;
  /**
   * Most requests kept outstanding with one peer, before its `reqq` (default 256: 4 MiB of
   * 16 KiB blocks in flight, whatever the piece length; issue #22, bounded memory).
   */
  maxRequestDepth: number;
  /** Seconds of transfer at the peer's rate the pipeline should cover (default 2). */
  pipelineSeconds: number;
  /** No block for this long while requests are outstanding: snubbed (default 20 s). */
  requestTimeoutMs: number;
  /** Nothing received for this long: disconnect (default 180 s). */
  idleTimeoutMs: number;
  /**
   * Both handshakes not done this long after the connection opened: disconnect (default 10 s).
   * Bounds what a silent or slowloris connection holds (docs/security.md).
   */
  handshakeTimeoutMs: number;
  /** Writes pending and none finished for this long (the peer stopped reading): disconnect (60 s). */
  writeStallTimeoutMs: number;
  /** Blocks grouped into one disk read and one socket write when serving (default 16). */
  uploadBatchBlocks: number;
}

export const DEFAULT_LIMITS: PeerLimits = {
  maxPeerRequests: 500,
  minRequestDepth: 16,
  maxRequestDepth: 256,
  pipelineSeconds: 2,
  requestTimeoutMs: 20_000,
  idleTimeoutMs: 180_000,
  handshakeTimeoutMs: 10_000,
  writeStallTimeoutMs: 60_000,
  uploadBatchBlocks: 16,
};

/** The `reqq` assumed for a peer that sent none (libtorrent's default, BEP 10). */
export const DEFAULT_REMOTE_REQQ = 250;

/** BEP 3: keep-alives "generally sent once every two minutes"; we send one after 90 s of silence. */
export const KEEP_ALIVE_INTERVAL_MS = 90_000;

/** `have` messages remembered from a peer before the piece count is known (magnet). */
export const MAX_EARLY_HAVES = 100_000;

/** A gracefully ended connection (FIN sent) is destroyed if the peer does not close in this time. */
export const GRACEFUL_CLOSE_MS = 5_000;

/**
 * The request pipeline depth: enough blocks to cover `pipelineSeconds` at the peer's measured
 * rate, at least `minRequestDepth`, at most `maxRequestDepth` and the peer's `reqq` (BEP 10;
 * 250, libtorrent's default, when it sent none). A snubbed peer gets one request at a time.
 */
export function pipelineDepth(
  bytesPerSecond: number,
  limits: Pick<PeerLimits, 'minRequestDepth' | 'maxRequestDepth' | 'pipelineSeconds'>,
  reqq: number | undefined,
  snubbed: boolean,
): number {
  if (snubbed) return 1;
  const byRate = Math.ceil((bytesPerSecond * limits.pipelineSeconds) / BLOCK_LENGTH);
  const cap = Math.min(limits.maxRequestDepth, reqq ?? DEFAULT_REMOTE_REQQ);
  return Math.max(1, Math.min(Math.max(limits.minRequestDepth, byRate), cap));
}
