/**
 * A minimal HTTP/1.1 GET over transport's `Stream` (`network.dial`), enough for trackers and
 * runnable in netsim: `Connection: close`, `Content-Length`, chunked or read-to-end bodies,
 * bounded (`maxBytes`, default 1 MiB) and with a deadline. `http://` only (transport has no TLS).
 */
import { formatAddress, type Network } from '@peerkit/transport';
import { TrackerError } from './errors';

/** Longest status line and headers accepted from a tracker. */
const MAX_HEADER_BYTES = 16_384;

export interface HttpResponse {
  status: number;
  body: Uint8Array;
}

export interface HttpGetOptions {
  timeoutMs?: number;
  maxBytes?: number;
}

/** Parses `http://host[:port]/path?query` (IPv6 hosts in brackets). */
export function parseHttpUrl(url: string): { host: string; port: number; target: string } {
  const m = /^http:\/\/(\[[0-9a-fA-F:.]+\]|[^/:?#]+)(?::(\d{1,5}))?([^#]*)/i.exec(url);
  if (!m) throw new TrackerError('INVALID_RESPONSE', `not an http:// URL: ${url.slice(0, 100)}`);
  const host = m[1]!.replace(/^\[|\]$/g, '');
  const port = m[2] !== undefined ? Number(m[2]) : 80;
  if (port < 1 || port > 65535) throw new TrackerError('INVALID_RESPONSE', `bad port in ${url}`);
  const target = m[3] === '' ? '/' : m[3]!;
  return { host, port, target };
}

export async function httpGet(
  network: Network,
  url: string,
  options: HttpGetOptions = {},
): Promise<HttpResponse> {
  const { host, port, target } = parseHttpUrl(url);
  const timeoutMs = options.timeoutMs ?? 10_000;
  const maxBytes = options.maxBytes ?? 1 << 20;
  let timer: { cancel(): void } | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = network.clock.setTimeout(
      () =>
        reject(new TrackerError('TIMEOUT', `no answer from ${host}:${port} in ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  let stream: Awaited<ReturnType<Network['dial']>> | undefined;
  try {
    stream = await Promise.race([network.dial({ host, port }, { timeoutMs }), deadline]);
    const hostHeader = formatAddress({ host, port });
    const request = `GET ${target} HTTP/1.1\r\nHost: ${hostHeader}\r\nUser-Agent: peerkit\r\nAccept-Encoding: identity\r\nConnection: close\r\n\r\n`;
    await stream.write(new TextEncoder().encode(request));
    const chunks: Uint8Array[] = [];
    let size = 0;
    const it = stream[Symbol.asyncIterator]();
    for (;;) {
      const next = await Promise.race([it.next(), deadline]);
      if (next.done) break;
      chunks.push(next.value);
      size += next.value.length;
      if (size > maxBytes + MAX_HEADER_BYTES)
        throw new TrackerError('INVALID_RESPONSE', `HTTP response larger than ${maxBytes} bytes`);
      const parsed = tryParse(Buffer.concat(chunks), false);
      if (parsed !== undefined) return parsed;
    }
    const parsed = tryParse(Buffer.concat(chunks), true);
    if (parsed === undefined) throw new TrackerError('INVALID_RESPONSE', 'truncated HTTP response');
    return parsed;
  } catch (error) {
    if (error instanceof TrackerError) throw error;
    throw new TrackerError('TIMEOUT', `tracker ${host}:${port} unreachable`, { cause: error });
  } finally {
    timer?.cancel();
    stream?.destroy();
  }
}

/** A complete response from `bytes`, or undefined when more are needed (`ended`: no more). */
function tryParse(bytes: Buffer, ended: boolean): HttpResponse | undefined {
  const headEnd = bytes.indexOf('\r\n\r\n');
  if (headEnd < 0) {
    if (bytes.length > MAX_HEADER_BYTES)
      throw new TrackerError('INVALID_RESPONSE', 'HTTP header too long');
    return undefined;
  }
  const lines = bytes.subarray(0, headEnd).toString('latin1').split('\r\n');
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
  if (!status) throw new TrackerError('INVALID_RESPONSE', 'not an HTTP response');
  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0)
      headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  const body = bytes.subarray(headEnd + 4);
  const code = Number(status[1]);
  if (/chunked/i.test(headers.get('transfer-encoding') ?? '')) {
    const decoded = dechunk(body);
    return decoded === undefined ? undefined : { status: code, body: decoded };
  }
  const length = headers.get('content-length');
  if (length !== undefined) {
    const n = Number(length);
    if (!Number.isSafeInteger(n) || n < 0)
      throw new TrackerError('INVALID_RESPONSE', 'bad Content-Length');
    if (body.length < n) return undefined;
    return { status: code, body: new Uint8Array(body.subarray(0, n)) };
  }
  return ended ? { status: code, body: new Uint8Array(body) } : undefined;
}

/** Chunked transfer coding (RFC 9112 §7.1); undefined until the last chunk arrived. */
function dechunk(body: Buffer): Uint8Array | undefined {
  const out: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = body.indexOf('\r\n', at);
    if (eol < 0) return undefined;
    const size = Number.parseInt(body.subarray(at, eol).toString('latin1').split(';')[0]!, 16);
    if (!Number.isFinite(size) || size < 0)
      throw new TrackerError('INVALID_RESPONSE', 'bad chunk size');
    if (size === 0) return new Uint8Array(Buffer.concat(out));
    if (body.length < eol + 2 + size + 2) return undefined;
    out.push(body.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
}
