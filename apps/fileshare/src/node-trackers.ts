/**
 * A share node's trackers: piece-exchange's `TrackerAnnouncer` (BEP 3 events, BEP 12 tiers,
 * `http://` and `udp://` on the node's network; `https://` through `fetch`, since transport has
 * no TLS) wired to the node's events: `tracker` for an answer (peers, `warning message`), a
 * `warning` for a failure (`failure reason`, garbage, timeout: the next tracker is tried).
 */
import {
  type HttpResponse,
  isSupportedTracker,
  TrackerAnnouncer,
  TrackerError,
} from '@peerkit/piece-exchange';
import type { Address, Network } from '@peerkit/transport';
import type { NodeEventHandler } from './events';

export interface NodeTrackerOptions {
  network: Network;
  /** Bind address of the UDP tracker client. */
  host: string;
  /** Each entry a tracker URL (a tier of its own) or a BEP 12 tier. */
  trackers: readonly (string | readonly string[])[];
  infoHash: Uint8Array;
  peerId: Uint8Array;
  port: number;
  stats: () => { uploaded: number; downloaded: number; left: number };
  feed: (peer: Address) => void;
  emit: NodeEventHandler;
}

/** GET over TLS with `fetch` (bounded to 1 MiB and `timeoutMs`). */
async function fetchGet(url: string, options: { timeoutMs?: number }): Promise<HttpResponse> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(options.timeoutMs ?? 15_000) });
    const body = new Uint8Array(await response.arrayBuffer());
    if (body.length > 1 << 20)
      throw new TrackerError('INVALID_RESPONSE', 'tracker response larger than 1 MiB');
    return { status: response.status, body };
  } catch (error) {
    if (error instanceof TrackerError) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw new TrackerError('TIMEOUT', `unreachable: ${reason}`, { cause: error });
  }
}

/** The BEP 12 tiers we can use; the other URLs are reported once. */
export function trackerTiers(
  trackers: NodeTrackerOptions['trackers'],
  emit: NodeEventHandler,
): string[][] {
  const tiers = trackers.map((t) => (typeof t === 'string' ? [t] : [...t]));
  const skipped = tiers.flat().filter((url) => !isSupportedTracker(url, true));
  if (skipped.length > 0)
    emit({
      type: 'warning',
      code: 'UNSUPPORTED_TRACKER',
      message: `skipping trackers peerkit-share cannot use: ${[...new Set(skipped)].join(' ')}`,
    });
  return tiers
    .map((tier) => tier.filter((url) => isSupportedTracker(url, true)))
    .filter((t) => t.length > 0);
}

/** Starts announcing (`started` now); `complete()` on completion, `close()` sends `stopped`. */
export function startNodeTrackers(
  options: NodeTrackerOptions,
): { complete(): void; close(): Promise<void> } | undefined {
  const tiers = trackerTiers(options.trackers, options.emit);
  if (tiers.length === 0) return undefined;
  const { emit } = options;
  const announcer = new TrackerAnnouncer({
    network: options.network,
    tiers,
    infoHash: options.infoHash,
    peerId: options.peerId,
    port: options.port,
    udpHost: options.host,
    stats: options.stats,
    httpsGet: fetchGet,
  });
  announcer.on('announce', (a) => {
    emit({
      type: 'tracker',
      url: a.url,
      announce: a.event === 'none' ? undefined : a.event,
      peers: a.peers.length,
      ...(a.seeders !== undefined ? { seeders: a.seeders } : {}),
      ...(a.leechers !== undefined ? { leechers: a.leechers } : {}),
      ...(a.warning !== undefined ? { warning: a.warning } : {}),
    });
    if (a.event !== 'stopped') for (const peer of a.peers) options.feed(peer);
  });
  announcer.on('error', (e) =>
    emit({ type: 'warning', code: e.code, message: `tracker ${e.url}: ${e.message}` }),
  );
  announcer.start();
  return { complete: () => announcer.complete(), close: () => announcer.close() };
}
