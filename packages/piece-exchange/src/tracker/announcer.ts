/**
 * The announce loop of one torrent (BEP 3 events, BEP 12 tiers) over `http://` (BEP 3, 23, 7)
 * and `udp://` (BEP 15) trackers, on transport's `Network` (so it runs in netsim). The decisions
 * (which tracker, which event, when) are `AnnounceSchedule`'s (./tiers.ts); this shell sends the
 * requests and reports what happened:
 *
 * - `announce`: a tracker answered (with its peers, interval, `warning message`);
 * - `error`: a tracker failed (`failure reason`, garbage, timeout): the next one is tried.
 *
 * `https://` needs TLS, which transport does not have: pass `httpsGet` (e.g. one using `fetch`)
 * to reach such trackers; without it they fail with `UNSUPPORTED` (see `isSupportedTracker`).
 */
import { Emitter, type Network, type Timer } from '@peerkit/transport';
import { TrackerError, type TrackerErrorCode } from './errors';
import { type HttpGetOptions, type HttpResponse, httpGet } from './http-get';
import { announceUrl, type HttpAnnounceParams, parseAnnounceResponse } from './http-tracker';
import { AnnounceSchedule, type DueAnnounce } from './tiers';
import { UdpTrackerClient } from './udp-client';
import type { AnnounceEvent, PeerAddress } from './udp-messages';

/** What the tracker is told about our transfer (BEP 3): exact byte counts of this session. */
export interface AnnounceStats {
  uploaded: number;
  downloaded: number;
  /** Bytes still missing (0 when seeding). */
  left: number;
}

/** `stopped` is sent on the way out: at most this long. */
export const STOPPED_TIMEOUT_MS = 3_000;

export interface TrackerAnnouncerOptions {
  network: Network;
  /** BEP 12 `announce-list` (or `[[announce]]`): tiers of `http://`, `https://`, `udp://` URLs. */
  tiers: readonly (readonly string[])[];
  infoHash: Uint8Array;
  peerId: Uint8Array;
  /** Our listen port. */
  port: number;
  /** Read at each announce. */
  stats: () => AnnounceStats;
  /** Peers wanted per announce (default 50). */
  numWant?: number;
  /** Deadline of one HTTP announce (default 15 s; `stopped`: 3 s). */
  timeoutMs?: number;
  /** BEP 15 retransmissions before a UDP tracker counts as failed (default 2: 15 + 30 + 60 s). */
  udpRetransmits?: number;
  /** Address the UDP client binds to (default `0.0.0.0`; `::` for IPv6 trackers). */
  udpHost?: string;
  /** GET for `https://` URLs (transport has no TLS; e.g. one using `fetch`). */
  httpsGet?: (url: string, options: HttpGetOptions) => Promise<HttpResponse>;
}

export interface TrackerAnnounceEvent {
  url: string;
  event: AnnounceEvent;
  peers: PeerAddress[];
  /** Seconds until the next regular announce, as the tracker said. */
  interval: number;
  minInterval?: number;
  seeders?: number;
  leechers?: number;
  /** BEP 3 `warning message` (the announce still worked). */
  warning?: string;
}

export interface TrackerErrorEvent {
  url: string;
  event: AnnounceEvent;
  code: TrackerErrorCode | 'UNSUPPORTED';
  /** The tracker's `failure reason`, or what went wrong. */
  message: string;
}

export interface TrackerAnnouncerEvents {
  announce: TrackerAnnounceEvent;
  error: TrackerErrorEvent;
}

/** `udp://host:port[/path]` → address (IPv6 in brackets), or undefined. */
export function parseUdpTrackerUrl(url: string): { host: string; port: number } | undefined {
  const m = /^udp:\/\/(\[[0-9a-fA-F:.]+\]|[^/:?#[\]]+):(\d{1,5})(?:[/?#].*)?$/i.exec(url);
  if (!m) return undefined;
  const port = Number(m[2]);
  if (port < 1 || port > 65535) return undefined;
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}

/** Whether `TrackerAnnouncer` can announce to `url` (`https://` only with an `httpsGet`). */
export function isSupportedTracker(url: string, https = false): boolean {
  return (
    /^http:\/\//i.test(url) ||
    (https && /^https:\/\//i.test(url)) ||
    parseUdpTrackerUrl(url) !== undefined
  );
}

export class TrackerAnnouncer extends Emitter<TrackerAnnouncerEvents> {
  readonly #options: TrackerAnnouncerOptions;
  readonly #network: Network;
  readonly #schedule: AnnounceSchedule;
  readonly #key: number;
  #udp: Promise<UdpTrackerClient> | undefined;
  #timer: Timer | undefined;
  #closed = false;
  #closing: Promise<void> | undefined;

  constructor(options: TrackerAnnouncerOptions) {
    super();
    this.#options = options;
    this.#network = options.network;
    this.#schedule = new AnnounceSchedule(options.tiers, options.network.random);
    // BEP 7 / BEP 15 `key`: lets a tracker recognise us when our address changes.
    this.#key = options.network.random.int(2 ** 32);
  }

  /** The tiers in their current order (shuffled once, answering trackers promoted). */
  get tiers(): readonly (readonly string[])[] {
    return this.#schedule.tiers.tiers;
  }

  /** Sends `started` to the first tracker that takes it, then announces at its interval. */
  start(): void {
    this.#schedule.start(this.#network.clock.now());
    this.#pump();
  }

  /** The download completed: `completed`, once. */
  complete(): void {
    this.#schedule.complete(this.#network.clock.now());
    this.#pump();
  }

  /**
   * Stops the loop, sends `stopped` (3 s at most) to the tracker that answered last; its answer
   * is an `announce` event too (a failure is not reported: we are leaving).
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#closed = true;
      this.#timer?.cancel();
      const url = this.#schedule.stop();
      if (url !== undefined) {
        let timer: Timer | undefined;
        const deadline = new Promise<void>((resolve) => {
          timer = this.#network.clock.setTimeout(resolve, STOPPED_TIMEOUT_MS);
        });
        // Leaving anyway when it fails: the tracker forgets us after its peer timeout.
        const stopped = this.#announce(url, 'stopped', STOPPED_TIMEOUT_MS).then(
          (answer) => this.emit('announce', answer),
          () => undefined,
        );
        await Promise.race([stopped, deadline]);
        timer?.cancel();
      }
      const udp = this.#udp;
      this.#udp = undefined;
      if (udp !== undefined) await (await udp.catch(() => undefined))?.close();
    })();
    return this.#closing;
  }

  #pump(): void {
    if (this.#closed) return;
    this.#timer?.cancel();
    this.#timer = undefined;
    const now = this.#network.clock.now();
    const due = this.#schedule.due(now);
    if (due !== undefined) {
      void this.#send(due);
      return;
    }
    const at = this.#schedule.nextAt();
    if (at !== undefined)
      this.#timer = this.#network.clock.setTimeout(() => this.#pump(), Math.max(0, at - now));
  }

  async #send(due: DueAnnounce): Promise<void> {
    try {
      const answer = await this.#announce(due.url, due.event, this.#options.timeoutMs ?? 15_000);
      if (this.#closed) return;
      this.#schedule.answered(due.url, this.#network.clock.now(), answer);
      this.emit('announce', answer);
    } catch (error) {
      if (this.#closed) return;
      this.#schedule.failed(due.url, this.#network.clock.now());
      const code =
        error instanceof TrackerError ? error.code : ('INVALID_RESPONSE' as TrackerErrorCode);
      this.emit('error', {
        url: due.url,
        event: due.event,
        code: error instanceof UnsupportedTracker ? 'UNSUPPORTED' : code,
        message: error instanceof Error ? error.message : String(error),
      });
    }
    this.#pump();
  }

  async #announce(
    url: string,
    event: AnnounceEvent,
    timeoutMs: number,
  ): Promise<TrackerAnnounceEvent> {
    const params: HttpAnnounceParams = {
      infoHash: this.#options.infoHash,
      peerId: this.#options.peerId,
      port: this.#options.port,
      ...this.#options.stats(),
      event,
      numWant: this.#options.numWant ?? 50,
      key: this.#key,
    };
    const udp = parseUdpTrackerUrl(url);
    if (udp !== undefined) {
      // One UDP socket for every udp:// tracker, bound on first use (again after a failed bind).
      this.#udp ??= UdpTrackerClient.open(this.#network, {
        host: this.#options.udpHost ?? '0.0.0.0',
        maxRetransmits: this.#options.udpRetransmits ?? 2,
      }).catch((error: unknown) => {
        this.#udp = undefined;
        throw new TrackerError('TIMEOUT', 'cannot bind the UDP tracker client', { cause: error });
      });
      const answer = await (await this.#udp).announce(udp, params);
      return {
        url,
        event,
        peers: answer.peers,
        interval: answer.interval,
        seeders: answer.seeders,
        leechers: answer.leechers,
      };
    }
    const https = this.#options.httpsGet;
    let response: HttpResponse;
    if (/^http:\/\//i.test(url))
      response = await httpGet(this.#network, announceUrl(url, params), { timeoutMs });
    else if (https !== undefined && /^https:\/\//i.test(url))
      response = await https(announceUrl(url, params), { timeoutMs });
    else throw new UnsupportedTracker(`cannot announce to ${url.slice(0, 100)}`);
    if (response.status !== 200) {
      try {
        parseAnnounceResponse(response.body);
      } catch (error) {
        if (error instanceof TrackerError && error.code === 'TRACKER_FAILURE') throw error;
      }
      throw new TrackerError('INVALID_RESPONSE', `tracker answered HTTP ${response.status}`);
    }
    const answer = parseAnnounceResponse(response.body);
    return {
      url,
      event,
      peers: answer.peers,
      interval: answer.interval,
      ...(answer.minInterval !== undefined ? { minInterval: answer.minInterval } : {}),
      ...(answer.complete !== undefined ? { seeders: answer.complete } : {}),
      ...(answer.incomplete !== undefined ? { leechers: answer.incomplete } : {}),
      ...(answer.warning !== undefined ? { warning: answer.warning } : {}),
    };
  }
}

/** A URL scheme we cannot announce to (e.g. `https://` without an `httpGet`, `wss://`). */
class UnsupportedTracker extends Error {}
