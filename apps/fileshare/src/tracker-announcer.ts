/**
 * Announcing one torrent to its HTTP trackers (BEP 3): `started` at once, a regular announce at
 * each tracker's interval (kept between 30 s and 1 h; a failure retries in a minute),
 * `completed` when the download finishes, and `stopped` from `stop()`, bounded by 3 s.
 * Trackers that are not HTTP(S) (UDP, BEP 15) are skipped with one warning.
 */
import type { Address, Clock, Timer } from '@peerkit/transport';
import { describeError, errorCode } from './errors';
import type { NodeEventHandler } from './events';
import { announceToTracker, isHttpTracker, type TrackerEvent } from './tracker';

export interface TransferCounters {
  uploaded: number;
  downloaded: number;
  /** Bytes still missing (0 when seeding). */
  left: number;
}

export interface TrackerAnnouncerOptions {
  urls: readonly string[];
  clock: Clock;
  infoHash: Uint8Array;
  peerId: Uint8Array;
  /** Our TCP port. */
  port: number;
  counters: () => TransferCounters;
  /** Resolves when the download completes (never, when it already had every piece). */
  completed: Promise<void>;
  feed: (peer: Address) => void;
  emit: NodeEventHandler;
}

export function startTrackerAnnouncer(options: TrackerAnnouncerOptions): { stop(): Promise<void> } {
  const { emit } = options;
  const urls = [...new Set(options.urls)];
  const skipped = urls.filter((url) => !isHttpTracker(url));
  if (skipped.length > 0) {
    emit({
      type: 'warning',
      code: 'UDP_TRACKER',
      message: `skipping trackers peerkit-share cannot use (UDP, BEP 15): ${skipped.join(' ')}`,
    });
  }
  const http = urls.filter(isHttpTracker);
  const timers: Timer[] = [];
  const inFlight = new AbortController();
  let stopped = false;

  const announce = async (url: string, event?: TrackerEvent): Promise<number | undefined> => {
    try {
      const response = await announceToTracker(
        url,
        {
          infoHash: options.infoHash,
          peerId: options.peerId,
          port: options.port,
          ...options.counters(),
          ...(event ? { event } : {}),
        },
        {
          timeoutMs: event === 'stopped' ? 3_000 : 10_000,
          ...(event === 'stopped' ? {} : { signal: inFlight.signal }),
        },
      );
      emit({ type: 'tracker', url, announce: event, peers: response.peers.length });
      if (event !== 'stopped' && !stopped) for (const peer of response.peers) options.feed(peer);
      return response.interval;
    } catch (error) {
      if (!stopped || event === 'stopped') {
        emit({ type: 'warning', code: errorCode(error), message: describeError(error) });
      }
      return undefined;
    }
  };

  for (const url of http) {
    const loop = async (event?: TrackerEvent) => {
      const interval = await announce(url, event);
      if (stopped) return;
      const seconds = interval === undefined ? 60 : Math.min(3600, Math.max(30, interval));
      timers.push(options.clock.setTimeout(() => void loop(), seconds * 1000));
    };
    void loop('started');
  }
  void options.completed.then(() => {
    if (!stopped) for (const url of http) void announce(url, 'completed');
  });

  return {
    async stop() {
      if (stopped) return;
      stopped = true;
      for (const t of timers) t.cancel();
      inFlight.abort();
      await Promise.all(http.map((url) => announce(url, 'stopped')));
    },
  };
}
