/**
 * The tracker side of BEP 3's HTTP protocol: reading an announce or scrape request line and
 * writing the bencoded answers (compact BEP 23 `peers`, BEP 7 `peers6`, or the original list of
 * dictionaries; BEP 48 scrape `files`; `failure reason`). `parseTrackerRequest` is total: any
 * string gives a request or a `failure` with the reason to send back.
 */
import { encode } from '@peerkit/bencode';
import type { SwarmPeer } from './swarms';
import { type AnnounceEvent, compactPeer, type ScrapeEntry } from './udp-messages';

/** Most info-hashes in one scrape (BEP 48 sets none; bounded here). */
export const MAX_HTTP_SCRAPE_HASHES = 256;

export interface HttpAnnounceRequest {
  kind: 'announce';
  infoHash: Uint8Array;
  peerId: Uint8Array;
  port: number;
  uploaded: number;
  downloaded: number;
  left: number;
  event: AnnounceEvent;
  /** BEP 23: compact unless the client sent `compact=0`. */
  compact: boolean;
  /** `no_peer_id=1`: leave `peer id` out of dictionary peers. */
  noPeerId: boolean;
  /** -1: the tracker's default. */
  numWant: number;
}

export interface HttpScrapeRequest {
  kind: 'scrape';
  infoHashes: Uint8Array[];
}

export type HttpTrackerRequest =
  | HttpAnnounceRequest
  | HttpScrapeRequest
  | { kind: 'failure'; reason: string; status: number };

const failure = (reason: string, status = 200) => ({ kind: 'failure', reason, status }) as const;

/** Percent-decoding to bytes (`+` is a space in a query); undefined for a malformed escape. */
export function percentDecodeBytes(text: string): Uint8Array | undefined {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x25) {
      const byte = text.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(byte)) return undefined;
      out.push(Number.parseInt(byte, 16));
      i += 2;
    } else if (c === 0x2b) out.push(0x20);
    else if (c < 0x80) out.push(c);
    else return undefined; // a request target is ASCII
  }
  return Uint8Array.from(out);
}

const integer = (v: string | undefined, max = Number.MAX_SAFE_INTEGER) => {
  if (v === undefined || !/^\d{1,16}$/.test(v)) return undefined;
  const n = Number(v);
  return n <= max ? n : undefined;
};

/** Reads `GET <target>`'s target: `/announce?…` or `/scrape?…` (BEP 3, BEP 48). */
export function parseTrackerRequest(target: string): HttpTrackerRequest {
  const q = target.indexOf('?');
  const path = q < 0 ? target : target.slice(0, q);
  const params = new Map<string, Uint8Array[]>();
  for (const pair of q < 0 ? [] : target.slice(q + 1).split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const key = eq < 0 ? pair : pair.slice(0, eq);
    const value = percentDecodeBytes(eq < 0 ? '' : pair.slice(eq + 1));
    if (value === undefined) return failure(`malformed escape in ${key.slice(0, 40)}`);
    const list = params.get(key) ?? [];
    if (list.length >= MAX_HTTP_SCRAPE_HASHES) return failure('too many parameters');
    list.push(value);
    params.set(key, list);
  }
  const one = (key: string) => params.get(key)?.[0];
  const text = (key: string) => {
    const v = one(key);
    return v === undefined ? undefined : Buffer.from(v).toString('latin1');
  };
  if (path.endsWith('/scrape')) {
    const infoHashes = params.get('info_hash') ?? [];
    if (infoHashes.length === 0) return failure('scrape needs info_hash');
    if (infoHashes.some((h) => h.length !== 20)) return failure('invalid info_hash');
    return { kind: 'scrape', infoHashes };
  }
  if (!path.endsWith('/announce')) return failure('not found', 404);
  const infoHash = one('info_hash');
  if (infoHash?.length !== 20) return failure('invalid info_hash');
  const peerId = one('peer_id');
  if (peerId?.length !== 20) return failure('invalid peer_id');
  const port = integer(text('port'), 65535);
  if (port === undefined || port === 0) return failure('invalid port');
  const uploaded = integer(text('uploaded') ?? '0');
  const downloaded = integer(text('downloaded') ?? '0');
  const left = integer(text('left') ?? '0');
  if (uploaded === undefined || downloaded === undefined || left === undefined)
    return failure('invalid uploaded, downloaded or left');
  const eventText = text('event') ?? '';
  const event: AnnounceEvent | undefined =
    eventText === '' || eventText === 'empty'
      ? 'none'
      : eventText === 'started' || eventText === 'completed' || eventText === 'stopped'
        ? eventText
        : undefined;
  if (event === undefined) return failure('invalid event');
  const numWantText = text('numwant');
  const numWant = numWantText === undefined ? -1 : (integer(numWantText, 10_000) ?? -1);
  return {
    kind: 'announce',
    infoHash,
    peerId,
    port,
    uploaded,
    downloaded,
    left,
    event,
    compact: text('compact') !== '0',
    noPeerId: text('no_peer_id') === '1',
    numWant,
  };
}

/** `d14:failure reason…e` (BEP 3). */
export function encodeFailure(reason: string): Uint8Array {
  return encode({ 'failure reason': reason });
}

/**
 * An announce answer: with `compact`, IPv4 peers as 6-byte strings in `peers` (BEP 23) and IPv6
 * ones as 18-byte strings in `peers6` (BEP 7); else the list of `ip`/`peer id`/`port`
 * dictionaries (BEP 3).
 */
export function encodeAnnounceAnswer(
  request: Pick<HttpAnnounceRequest, 'compact' | 'noPeerId'>,
  answer: { peers: readonly SwarmPeer[]; seeders: number; leechers: number; interval: number },
): Uint8Array {
  const base = {
    interval: answer.interval,
    'min interval': Math.max(1, Math.floor(answer.interval / 2)),
    complete: answer.seeders,
    incomplete: answer.leechers,
  };
  if (!request.compact) {
    return encode({
      ...base,
      peers: answer.peers.map((p) => ({
        ip: p.host,
        port: p.port,
        ...(p.peerId !== undefined && !request.noPeerId ? { 'peer id': p.peerId } : {}),
      })),
    });
  }
  const v4 = answer.peers.filter((p) => !p.host.includes(':'));
  const v6 = answer.peers.filter((p) => p.host.includes(':'));
  return encode({
    ...base,
    peers: Buffer.concat(v4.map((p) => compactPeer(p, false))),
    ...(v6.length > 0 ? { peers6: Buffer.concat(v6.map((p) => compactPeer(p, true))) } : {}),
  });
}

/** BEP 48: `files` maps each info-hash to `complete`, `downloaded`, `incomplete`. */
export function encodeScrapeAnswer(
  infoHashes: readonly Uint8Array[],
  entries: readonly ScrapeEntry[],
): Uint8Array {
  const files = new Map<Uint8Array, { complete: number; downloaded: number; incomplete: number }>();
  infoHashes.forEach((h, i) => {
    const e = entries[i]!;
    files.set(h, { complete: e.seeders, downloaded: e.completed, incomplete: e.leechers });
  });
  return encode({ files });
}
