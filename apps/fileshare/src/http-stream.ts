/**
 * Serving one file of a torrent over HTTP while it downloads, for a video player
 * (`mpv http://127.0.0.1:PORT/`): GET and HEAD, byte ranges (RFC 9110 section 14: `Range:
 * bytes=a-b`, `a-`, `-n` answered with 206 and `Content-Range`, an unsatisfiable range with 416
 * and `Content-Range: bytes *\/length`, `Accept-Ranges: bytes` always), a content type from the
 * file's extension. Each response reads through the torrent's read stream
 * (piece-exchange `Torrent.createReadStream`), which fetches the pieces under the read head
 * first; a player seeking ends one response and starts another at the new position.
 *
 * It listens on loopback only: it serves the file to this machine's player, no one else.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { LayoutFileInput, Torrent } from '@peerkit/piece-exchange';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.mp4': 'video/mp4',
  '.m4v': 'video/mp4',
  '.mkv': 'video/x-matroska',
  '.webm': 'video/webm',
  '.avi': 'video/x-msvideo',
  '.mov': 'video/quicktime',
  '.ts': 'video/mp2t',
  '.ogv': 'video/ogg',
  '.mp3': 'audio/mpeg',
  '.m4a': 'audio/mp4',
  '.flac': 'audio/flac',
  '.ogg': 'audio/ogg',
  '.opus': 'audio/ogg',
  '.wav': 'audio/wav',
  '.srt': 'application/x-subrip',
  '.vtt': 'text/vtt',
  '.txt': 'text/plain; charset=utf-8',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.png': 'image/png',
  '.gif': 'image/gif',
  '.pdf': 'application/pdf',
  '.iso': 'application/x-iso9660-image',
  '.zip': 'application/zip',
};

/** The content type of a file name by its extension (`application/octet-stream` otherwise). */
export function contentTypeOf(name: string): string {
  return CONTENT_TYPES[extname(name).toLowerCase()] ?? 'application/octet-stream';
}

/** A byte range, inclusive. */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

/**
 * The `Range` header for a resource of `length` bytes: undefined to serve it whole (no header,
 * a header that is not one `bytes=` range, which a server may ignore), `'unsatisfiable'` (416),
 * or the inclusive range to serve (RFC 9110 section 14.1.2: an end past the resource is cut to
 * its last byte; `-n` is the last n bytes).
 */
export function parseRange(
  header: string | undefined,
  length: number,
): ByteRange | 'unsatisfiable' | undefined {
  if (header === undefined) return undefined;
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!m || (m[1] === '' && m[2] === '')) return undefined; // several ranges or malformed
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0 || length === 0) return 'unsatisfiable';
    return { start: Math.max(0, length - suffix), end: length - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? length - 1 : Math.min(Number(m[2]), length - 1);
  if (!Number.isSafeInteger(start) || start >= length) return 'unsatisfiable';
  if (end < start) return undefined; // an invalid range: ignored, the whole resource is sent
  return { start, end };
}

/** The file a stream serves by default: the largest (the video, not its subtitles). */
export function largestFile(files: readonly LayoutFileInput[]): number {
  let best = 0;
  for (const [i, f] of files.entries()) {
    if (!f.padding && f.length > (files[best]!.padding ? -1 : files[best]!.length)) best = i;
  }
  return best;
}

export interface StreamServerOptions {
  /** The torrent (its content, once known, and its read streams). */
  torrent: Pick<Torrent, 'info' | 'createReadStream'>;
  /** Index of the file to serve, counted from 0 (default: the largest, `largestFile`). */
  file?: number;
  /** Loopback address to listen on (default 127.0.0.1). */
  host?: string;
  /** Port (0: any free port). */
  port: number;
}

export interface StreamServer {
  readonly url: string;
  readonly port: number;
  /** Stops listening and ends the responses under way. */
  close(): Promise<void>;
}

/** Starts the HTTP server; rejects when the port cannot be used. */
export async function startStreamServer(options: StreamServerOptions): Promise<StreamServer> {
  const host = options.host ?? '127.0.0.1';
  const server = createServer((request, response) => {
    serve(options, request, response).catch(() => response.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shown}:${port}/`,
    port,
    close: () => closeServer(server),
  };
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

async function serve(
  options: StreamServerOptions,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const { torrent } = options;
  const info = torrent.info;
  const file = options.file ?? (info !== undefined ? largestFile(info.files) : 0);
  const entry = info?.files[file];
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.writeHead(405, { Allow: 'GET, HEAD', 'Content-Length': 0 });
    response.end();
    return;
  }
  if (entry === undefined) {
    // A magnet whose metadata has not arrived yet.
    response.writeHead(503, { 'Retry-After': '1', 'Content-Length': 0 });
    response.end();
    return;
  }
  const name = entry.path.at(-1) ?? info!.name;
  const path = decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname);
  if (path !== '/' && path !== `/${name}`) {
    response.writeHead(404, { 'Content-Length': 0 });
    response.end();
    return;
  }
  const length = entry.length;
  const headers: Record<string, string | number> = {
    'Accept-Ranges': 'bytes',
    'Content-Type': contentTypeOf(name),
  };
  const range = parseRange(request.headers.range, length);
  if (range === 'unsatisfiable') {
    response.writeHead(416, {
      ...headers,
      'Content-Range': `bytes */${length}`,
      'Content-Length': 0,
    });
    response.end();
    return;
  }
  const { start, end } = range ?? { start: 0, end: length - 1 };
  if (range !== undefined) headers['Content-Range'] = `bytes ${start}-${end}/${length}`;
  headers['Content-Length'] = end - start + 1;
  response.writeHead(range !== undefined ? 206 : 200, headers);
  if (request.method === 'HEAD' || length === 0) {
    response.end();
    return;
  }
  const stream = torrent.createReadStream(file, { start, end });
  // A player that seeks closes the response: the read stream ends and its deadlines go.
  await pipeline(stream, response).catch(() => stream.destroy());
}
