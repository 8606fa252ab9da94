/**
 * HTTP trackers on transport's `Network` (so they run in netsim): BEP 3 announces with
 * `compact=1` (BEP 23 peers, BEP 7 `peers6`), `failure reason` / `warning message`,
 * `interval` and `min interval`, and BEP 48 scrape. `parseAnnounceResponse` and
 * `parseScrapeResponse` are total: a value or `TrackerError`.
 */
import { type BencodeValue, bytesToBinary, decode, isBencodeDict } from '@peerkit/bencode';
import type { Network } from '@peerkit/transport';
import { TrackerError } from './errors';
import { httpGet } from './http-get';
import type { AnnounceEvent, PeerAddress, ScrapeEntry } from './udp-messages';
import { parseCompactPeer } from './udp-messages';

export interface HttpAnnounceParams {
  infoHash: Uint8Array;
  peerId: Uint8Array;
  port: number;
  uploaded: number;
  downloaded: number;
  left: number;
  event: AnnounceEvent;
  numWant?: number;
  key?: number;
}

export interface HttpAnnounceResult {
  /** Seconds until the next regular announce (default 1800 when missing or unusable). */
  interval: number;
  /** Seconds the tracker wants at least between announces, when given. */
  minInterval?: number;
  complete?: number;
  incomplete?: number;
  peers: PeerAddress[];
  warning?: string;
}

/** Most peers taken from one answer. */
export const MAX_RESPONSE_PEERS = 1000;

/** Percent-encodes every byte that is not unreserved (RFC 3986): trackers take binary. */
export function percentEncodeBytes(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) {
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9\-._~]/.test(c) ? c : `%${b.toString(16).padStart(2, '0').toUpperCase()}`;
  }
  return out;
}

/** The announce URL with the BEP 3 parameters and `compact=1` (BEP 23). */
export function announceUrl(base: string, p: HttpAnnounceParams): string {
  const query = [
    `info_hash=${percentEncodeBytes(p.infoHash)}`,
    `peer_id=${percentEncodeBytes(p.peerId)}`,
    `port=${p.port}`,
    `uploaded=${p.uploaded}`,
    `downloaded=${p.downloaded}`,
    `left=${p.left}`,
    'compact=1',
    `numwant=${p.numWant ?? 50}`,
    ...(p.key !== undefined ? [`key=${(p.key >>> 0).toString(16)}`] : []),
    ...(p.event !== 'none' ? [`event=${p.event}`] : []),
  ].join('&');
  return `${base}${base.includes('?') ? '&' : '?'}${query}`;
}

/**
 * BEP 48: the scrape URL replaces the `announce` that starts the last path element with
 * `scrape`; undefined when the announce URL has none (the tracker does not scrape).
 */
export function scrapeUrl(announce: string, infoHashes: readonly Uint8Array[]): string | undefined {
  const m = /^(.*\/)announce([^/]*)$/.exec(announce);
  if (!m) return undefined;
  const base = `${m[1]}scrape${m[2]}`;
  const query = infoHashes.map((h) => `info_hash=${percentEncodeBytes(h)}`).join('&');
  if (query === '') return base;
  return `${base}${base.includes('?') ? '&' : '?'}${query}`;
}

const text = (v: unknown) =>
  v instanceof Uint8Array ? Buffer.from(v).toString('utf8') : undefined;
const count = (v: unknown) =>
  typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : undefined;

function bencodeDict(bytes: Uint8Array): Record<string, BencodeValue> {
  let root: BencodeValue;
  try {
    root = decode(bytes, { strict: false });
  } catch (error) {
    throw new TrackerError('INVALID_RESPONSE', 'tracker response is not bencode', { cause: error });
  }
  if (!isBencodeDict(root))
    throw new TrackerError('INVALID_RESPONSE', 'tracker response is not a dictionary');
  const failure = text(root['failure reason']);
  if (failure !== undefined) throw new TrackerError('TRACKER_FAILURE', failure.slice(0, 500));
  return root;
}

export function parseAnnounceResponse(bytes: Uint8Array): HttpAnnounceResult {
  const root = bencodeDict(bytes);
  const peers: PeerAddress[] = [];
  const compact = (raw: Uint8Array, size: 6 | 18) => {
    for (let at = 0; at + size <= raw.length && peers.length < MAX_RESPONSE_PEERS; at += size) {
      const p = parseCompactPeer(raw.subarray(at, at + size));
      if (p.port > 0) peers.push(p);
    }
  };
  const list = root.peers;
  if (list instanceof Uint8Array) compact(list, 6);
  else if (Array.isArray(list)) {
    // BEP 3's original form: a list of { ip, port, peer id } dictionaries.
    for (const entry of list) {
      if (peers.length >= MAX_RESPONSE_PEERS) break;
      if (!isBencodeDict(entry)) continue;
      const host = text(entry.ip);
      const port = entry.port;
      if (host !== undefined && typeof port === 'number' && port > 0 && port < 65536)
        peers.push({ host, port });
    }
  } else if (list !== undefined)
    throw new TrackerError('INVALID_RESPONSE', '`peers` of the wrong type');
  if (root.peers6 instanceof Uint8Array) compact(root.peers6, 18);
  const interval = count(root.interval);
  const minInterval = count(root['min interval']);
  const complete = count(root.complete);
  const incomplete = count(root.incomplete);
  const warning = text(root['warning message']);
  return {
    interval: interval !== undefined && interval > 0 ? interval : 1800,
    peers,
    ...(minInterval !== undefined ? { minInterval } : {}),
    ...(complete !== undefined ? { complete } : {}),
    ...(incomplete !== undefined ? { incomplete } : {}),
    ...(warning !== undefined ? { warning } : {}),
  };
}

/** BEP 48: `files` maps each info-hash to `complete`, `downloaded`, `incomplete`. */
export function parseScrapeResponse(
  bytes: Uint8Array,
  infoHashes: readonly Uint8Array[],
): (ScrapeEntry | undefined)[] {
  const root = bencodeDict(bytes);
  const files = root.files;
  if (!isBencodeDict(files)) throw new TrackerError('INVALID_RESPONSE', 'scrape without `files`');
  return infoHashes.map((h) => {
    const entry = files[bytesToBinary(h)];
    if (!isBencodeDict(entry)) return undefined;
    return {
      seeders: count(entry.complete) ?? 0,
      completed: count(entry.downloaded) ?? 0,
      leechers: count(entry.incomplete) ?? 0,
    };
  });
}

export async function httpAnnounce(
  network: Network,
  url: string,
  params: HttpAnnounceParams,
  options: { timeoutMs?: number } = {},
): Promise<HttpAnnounceResult> {
  const response = await httpGet(network, announceUrl(url, params), options);
  if (response.status !== 200) {
    // Some trackers send `failure reason` with an error status: report it when there is one.
    parseAnnounceResponseOrStatus(response.body, response.status);
  }
  return parseAnnounceResponse(response.body);
}

function parseAnnounceResponseOrStatus(body: Uint8Array, status: number): never {
  try {
    bencodeDict(body);
  } catch (error) {
    if (error instanceof TrackerError && error.code === 'TRACKER_FAILURE') throw error;
  }
  throw new TrackerError('INVALID_RESPONSE', `tracker answered HTTP ${status}`);
}

export async function httpScrape(
  network: Network,
  announce: string,
  infoHashes: readonly Uint8Array[],
  options: { timeoutMs?: number } = {},
): Promise<(ScrapeEntry | undefined)[]> {
  const url = scrapeUrl(announce, infoHashes);
  if (url === undefined)
    throw new TrackerError('INVALID_RESPONSE', `${announce} does not support scrape (BEP 48)`);
  const response = await httpGet(network, url, options);
  if (response.status !== 200) parseAnnounceResponseOrStatus(response.body, response.status);
  return parseScrapeResponse(response.body, infoHashes);
}
