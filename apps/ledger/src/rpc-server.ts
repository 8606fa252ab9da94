/**
 * The JSON-RPC server: HTTP POST on 127.0.0.1, JSON-RPC 1.0 as bitcoin-cli speaks it (and 2.0,
 * and batches), HTTP Basic authentication with a cookie written to the datadir as bitcoind does
 * (`.cookie`, `__cookie__:<random hex>`), or with `--rpc-user`/`--rpc-password`.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { open, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { callMethod, RpcError } from './rpc-methods';
import type { LedgerRuntime } from './runtime';

/** Requests larger than this are refused (a block of hex fits). */
const MAX_BODY = 16 * 1024 * 1024;

export interface RpcServerOptions {
  port: number;
  host?: string;
  /** user:password; default: a fresh cookie, written to `<datadir>/.cookie` when there is a datadir. */
  credentials?: string;
}

export interface RpcServer {
  readonly port: number;
  /** The user:password clients must send. */
  readonly credentials: string;
  close(): Promise<void>;
}

interface Request {
  id?: unknown;
  method?: unknown;
  params?: unknown;
  jsonrpc?: unknown;
}

async function answer(rt: LedgerRuntime, req: Request): Promise<object> {
  const id = req.id ?? null;
  const v2 = req.jsonrpc === '2.0';
  try {
    if (typeof req.method !== 'string') throw new RpcError(-32600, 'Method must be a string');
    const params = req.params === undefined ? [] : req.params;
    if (!Array.isArray(params))
      throw new RpcError(-32602, 'Params must be an array (named parameters are not supported)');
    const result = await callMethod(rt, req.method, params);
    return v2
      ? { jsonrpc: '2.0', result: result ?? null, id }
      : { result: result ?? null, error: null, id };
  } catch (error) {
    const e = error instanceof RpcError ? error : new RpcError(-1, String(error));
    const err = { code: e.code, message: e.message };
    return v2 ? { jsonrpc: '2.0', error: err, id } : { result: null, error: err, id };
  }
}

export async function startRpcServer(
  rt: LedgerRuntime,
  options: RpcServerOptions,
): Promise<RpcServer> {
  const credentials = options.credentials ?? `__cookie__:${randomBytes(32).toString('hex')}`;
  const expected = Buffer.from(`Basic ${Buffer.from(credentials).toString('base64')}`);
  const cookiePath = rt.datadir && !options.credentials ? join(rt.datadir, '.cookie') : undefined;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const auth = Buffer.from(req.headers.authorization ?? '');
    if (auth.length !== expected.length || !timingSafeEqual(auth, expected)) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="jsonrpc"' }).end();
      return;
    }
    if (req.method !== 'POST') {
      res.writeHead(405).end();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > MAX_BODY) {
        res.writeHead(413).end();
        req.destroy();
        return;
      }
      chunks.push(chunk as Buffer);
    }
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      res.writeHead(500, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          result: null,
          error: { code: -32700, message: 'Parse error' },
          id: null,
        }),
      );
      return;
    }
    const out = Array.isArray(body)
      ? await Promise.all(body.map((r) => answer(rt, (r ?? {}) as Request)))
      : await answer(rt, (body ?? {}) as Request);
    // bitcoind answers errors with HTTP 500 (404 for an unknown method) and a JSON body.
    const single = Array.isArray(out) ? undefined : (out as { error?: { code: number } | null });
    const status = single?.error ? (single.error.code === -32601 ? 404 : 500) : 200;
    res.writeHead(status, { 'content-type': 'application/json' }).end(`${JSON.stringify(out)}\n`);
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  if (cookiePath) {
    await rm(cookiePath, { force: true });
    const file = await open(cookiePath, 'wx', 0o600);
    await file.writeFile(credentials);
    await file.close();
  }
  return {
    port,
    credentials,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      if (cookiePath) await rm(cookiePath, { force: true });
    },
  };
}
