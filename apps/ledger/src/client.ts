/**
 * The RPC client of the `peerkit-ledger` commands: JSON-RPC 1.0 over HTTP to 127.0.0.1, with
 * the cookie from the datadir (as bitcoin-cli reads bitcoind's) or explicit credentials.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError } from './input';

export class RpcCallError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

export interface ClientOptions {
  port: number;
  datadir?: string;
  credentials?: string;
  timeoutMs?: number;
}

export async function rpcCall<T>(
  options: ClientOptions,
  method: string,
  params: unknown[] = [],
): Promise<T> {
  let credentials = options.credentials;
  if (!credentials) {
    if (!options.datadir)
      throw new InputError(
        'no credentials: give --datadir (to read its .cookie) or --rpc-user/--rpc-password',
      );
    const path = join(options.datadir, '.cookie');
    try {
      credentials = (await readFile(path, 'utf8')).trim();
    } catch {
      throw new InputError(
        `cannot read ${path}: is a node running with --datadir ${options.datadir}?`,
      );
    }
  }
  let res: Response;
  try {
    res = await fetch(`http://127.0.0.1:${options.port}/`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(credentials).toString('base64')}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ jsonrpc: '1.0', id: 'peerkit-ledger', method, params }),
      signal: AbortSignal.timeout(options.timeoutMs ?? 600_000),
    });
  } catch (error) {
    throw new InputError(
      `no node answers on 127.0.0.1:${options.port} (${error instanceof Error ? error.message : String(error)})`,
    );
  }
  if (res.status === 401)
    throw new InputError(`the node on 127.0.0.1:${options.port} refused our credentials`);
  const body = (await res.json().catch(() => undefined)) as
    | { result: T; error: { code: number; message: string } | null }
    | undefined;
  if (!body)
    throw new InputError(`127.0.0.1:${options.port} did not answer JSON-RPC (HTTP ${res.status})`);
  if (body.error) throw new RpcCallError(body.error.code, body.error.message);
  return body.result;
}
