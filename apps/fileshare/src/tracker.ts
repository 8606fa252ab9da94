/**
 * HTTP tracker announces (BEP 3 "Trackers", BEP 23 compact peer lists, BEP 7 `peers6`): a
 * torrent or magnet that names trackers gets announced to them too, besides the DHT: `started`
 * at start, `completed` when a download finishes, `stopped` on shutdown. UDP trackers (BEP 15)
 * are not implemented; their URLs are skipped with a warning.
 *
 * `parseTrackerResponse` is total: any bytes give a response or a `TrackerError`.
 */
import { decode, isBencodeDict } from '@peerkit/bencode';
import type { Address } from '@peerkit/transport';

export type TrackerErrorCode =
  /** The response is not a bencoded dictionary of the expected shape. */
  | 'INVALID_RESPONSE'
  /** The tracker answered with `failure reason`. */
  | 'FAILURE'
  /** HTTP error status, unreachable tracker or timeout. */
  | 'HTTP';

export class TrackerError extends Error {
  readonly code: TrackerErrorCode;
  constructor(code: TrackerErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TrackerError';
    this.code = code;
  }
}

export type TrackerEvent = 'started' | 'completed' | 'stopped';

export interface AnnounceParams {
  infoHash: Uint8Array;
  peerId: Uint8Array;
  /** Our TCP port. */
  port: number;
  uploaded: number;
  downloaded: number;
  left: number;
  event?: TrackerEvent;
  /** Peers wanted (default 50). */
  numwant?: number;
}

export interface TrackerResponse {
  /** Seconds until the next regular announce. */
  interval: number;
  peers: Address[];
  /** `warning message`, when sent. */
  warning?: string;
}

/** Percent-encodes every byte that is not unreserved (RFC 3986), as trackers expect binary. */
export function percentEncodeBytes(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) {
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9\-._~]/.test(c) ? c : `%${b.toString(16).padStart(2, '0').toUpperCase()}`;
  }
  return out;
}

/** The announce URL with the BEP 3 query parameters (and `compact=1`, BEP 23). */
export function announceUrl(base: string, p: AnnounceParams): string {
  const query = [
    `info_hash=${percentEncodeBytes(p.infoHash)}`,
    `peer_id=${percentEncodeBytes(p.peerId)}`,
    `port=${p.port}`,
    `uploaded=${p.uploaded}`,
    `downloaded=${p.downloaded}`,
    `left=${p.left}`,
    'compact=1',
    `numwant=${p.numwant ?? 50}`,
    ...(p.event ? [`event=${p.event}`] : []),
  ].join('&');
  return `${base}${base.includes('?') ? '&' : '?'}${query}`;
}

const text = (v: unknown) =>
  v instanceof Uint8Array ? Buffer.from(v).toString('utf8') : undefined;

/** Decodes a tracker's answer; `TrackerError` for anything unusable. */
export function parseTrackerResponse(bytes: Uint8Array): TrackerResponse {
  let root: ReturnType<typeof decode>;
  try {
    root = decode(bytes, { strict: false });
  } catch (error) {
    throw new TrackerError('INVALID_RESPONSE', 'tracker response is not bencode', { cause: error });
  }
  if (!isBencodeDict(root))
    throw new TrackerError('INVALID_RESPONSE', 'tracker response is not a dictionary');
  const failure = text(root['failure reason']);
  if (failure !== undefined) throw new TrackerError('FAILURE', `tracker: ${failure.slice(0, 200)}`);
  const interval = root.interval;
  const peers: Address[] = [];
  const compact = (raw: Uint8Array, size: 6 | 18) => {
    for (let at = 0; at + size <= raw.length; at += size) {
      const ip = raw.subarray(at, at + size - 2);
      const port = (raw[at + size - 2]! << 8) | raw[at + size - 1]!;
      const host =
        size === 6
          ? [...ip].join('.')
          : Array.from({ length: 8 }, (_, i) =>
              ((ip[2 * i]! << 8) | ip[2 * i + 1]!).toString(16),
            ).join(':');
      if (port > 0) peers.push({ host, port });
    }
  };
  const list = root.peers;
  if (list instanceof Uint8Array) compact(list, 6);
  else if (Array.isArray(list)) {
    // The original, non-compact form: a list of { ip, port, peer id } dictionaries.
    for (const entry of list.slice(0, 1000)) {
      if (!isBencodeDict(entry)) continue;
      const host = text(entry.ip);
      const port = entry.port;
      if (host !== undefined && typeof port === 'number' && port > 0 && port < 65536)
        peers.push({ host, port });
    }
  }
  if (root.peers6 instanceof Uint8Array) compact(root.peers6, 18);
  const warning = text(root['warning message']);
  return {
    interval: typeof interval === 'number' && interval > 0 ? interval : 1800,
    peers: peers.slice(0, 1000),
    ...(warning !== undefined ? { warning } : {}),
  };
}

export interface AnnounceOptions {
  /** Default 10 s. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Announces to an HTTP(S) tracker; rejects with `TrackerError` after `timeoutMs` at most. */
export async function announceToTracker(
  url: string,
  params: AnnounceParams,
  options: AnnounceOptions = {},
): Promise<TrackerResponse> {
  const timeout = AbortSignal.timeout(options.timeoutMs ?? 10_000);
  const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
  let response: Response;
  try {
    response = await fetch(announceUrl(url, params), { signal });
  } catch (error) {
    throw new TrackerError(
      'HTTP',
      `tracker ${url} unreachable: ${error instanceof Error ? error.message : String(error)}`,
      {
        cause: error,
      },
    );
  }
  const body = new Uint8Array(
    await response.arrayBuffer().catch((error: unknown) => {
      throw new TrackerError('HTTP', `tracker ${url}: reading the response failed`, {
        cause: error,
      });
    }),
  );
  if (!response.ok)
    throw new TrackerError('HTTP', `tracker ${url} answered HTTP ${response.status}`);
  if (body.length > 1 << 20)
    throw new TrackerError('INVALID_RESPONSE', 'tracker response larger than 1 MiB');
  return parseTrackerResponse(body);
}

/** True for the URLs `announceToTracker` can use. */
export function isHttpTracker(url: string): boolean {
  return /^https?:\/\//i.test(url);
}
