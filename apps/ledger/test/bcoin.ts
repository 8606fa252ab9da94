/**
 * bcoin (npm `bcoin` 1.0.2, a dev dependency) as the independent implementation for the interop
 * tests: a regtest node in memory, in a child process on free loopback ports, stopped by PID.
 *
 * It runs with NODE_BACKEND=js (bcoin's pure-JavaScript crypto and murmur3), so none of its
 * native add-ons (leveldown, bcrypto, mrmr) has to be built: in-memory mode never opens leveldb.
 * bcoin prints addresses with its own prefixes (regtest P2PKH 0x3c; its wallet RPC even prints
 * mainnet's 0x00), so tests convert through the 20-byte key hash.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import {
  freePort,
  type Proc,
  startProcess,
  tempDir,
  waitFor,
  waitForPort,
} from '@peerkit/dev-kit/interop';

const require = createRequire(import.meta.url);

/** bcoin's regtest P2PKH address prefix (lib/protocol/networks.js, regtest.addressPrefix). */
export const BCOIN_REGTEST_P2PKH = 0x3c;

/** The bcoin executable, or undefined (a failure under INTEROP_REQUIRED=1). */
export function bcoinBin(): string | undefined {
  let bin: string | undefined;
  try {
    bin = join(dirname(require.resolve('bcoin/package.json')), 'bin', 'node');
  } catch {
    bin = undefined;
  }
  if (bin && existsSync(bin)) return bin;
  if (process.env.INTEROP_REQUIRED === '1')
    throw new Error('bcoin is not installed (INTEROP_REQUIRED=1)');
  return undefined;
}

export interface Bcoin {
  readonly p2pPort: number;
  readonly proc: Proc;
  rpc<T = unknown>(method: string, params?: unknown[]): Promise<T>;
  wallet<T = unknown>(method: string, params?: unknown[]): Promise<T>;
  /** A P2PKH address of bcoin's wallet, as its 20-byte key hash. */
  newKeyHash(): Promise<Uint8Array>;
  /** Mines `n` blocks to a bcoin wallet address; returns their hashes (display hex). */
  mine(n: number): Promise<string[]>;
  stop(): Promise<void>;
}

const API_KEY = 'peerkit-interop';

async function call<T>(port: number, method: string, params: unknown[]): Promise<T> {
  const res = await fetch(`http://127.0.0.1:${port}/`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`x:${API_KEY}`).toString('base64')}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify({ method, params, id: 1 }),
    signal: AbortSignal.timeout(120_000),
  });
  const body = (await res.json()) as { result: T; error: { message: string } | null };
  if (body.error) throw new Error(`bcoin ${method}: ${body.error.message}`);
  return body.result;
}

const ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

export function base58check(version: number, payload: Uint8Array): string {
  const data = Buffer.concat([Buffer.from([version]), payload]);
  const sum = createHash('sha256')
    .update(createHash('sha256').update(data).digest())
    .digest()
    .subarray(0, 4);
  const full = Buffer.concat([data, sum]);
  let n = BigInt(`0x${full.toString('hex')}`);
  let out = '';
  while (n > 0n) {
    out = ALPHABET[Number(n % 58n)] + out;
    n /= 58n;
  }
  for (const b of full) {
    if (b !== 0) break;
    out = `1${out}`;
  }
  return out;
}

export function base58decode(s: string): { version: number; payload: Uint8Array } {
  let n = 0n;
  for (const c of s) {
    const i = ALPHABET.indexOf(c);
    if (i < 0) throw new Error(`bad base58 ${s}`);
    n = n * 58n + BigInt(i);
  }
  let hex = n.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  let lead = 0;
  for (const c of s) {
    if (c !== '1') break;
    lead++;
  }
  const full = Buffer.concat([Buffer.alloc(lead), Buffer.from(hex, 'hex')]);
  return { version: full[0] as number, payload: new Uint8Array(full.subarray(1, full.length - 4)) };
}

export async function startBcoin(): Promise<Bcoin> {
  const bin = bcoinBin();
  if (!bin) throw new Error('bcoin is not installed');
  const dir = await tempDir('bcoin');
  const [p2pPort, httpPort, walletPort] = [await freePort(), await freePort(), await freePort()];
  const args = [
    bin,
    '--network=regtest',
    '--memory=true',
    '--listen=true',
    '--host=127.0.0.1',
    `--port=${p2pPort}`,
    // A public address of our own keeps bcoin from asking a DNS server for its external IP.
    '--public-host=127.0.0.1',
    `--public-port=${p2pPort}`,
    `--http-host=127.0.0.1`,
    `--http-port=${httpPort}`,
    `--wallet-http-port=${walletPort}`,
    `--api-key=${API_KEY}`,
    `--prefix=${dir.path}`,
    '--log-level=debug',
    '--max-outbound=1',
    '--seeds=127.0.0.1:1',
    '--workers=false',
  ];
  const prev = process.env.NODE_BACKEND;
  process.env.NODE_BACKEND = 'js';
  const proc = startProcess(process.execPath, args, join(dir.path, 'bcoin.log'));
  if (prev === undefined) delete process.env.NODE_BACKEND;
  else process.env.NODE_BACKEND = prev;
  const rpc = <T>(method: string, params: unknown[] = []) => call<T>(httpPort, method, params);
  const wallet = <T>(method: string, params: unknown[] = []) => call<T>(walletPort, method, params);
  await waitFor(
    async () => {
      if (!proc.running) throw new Error(`bcoin exited:\n${proc.output()}`);
      try {
        await wallet('getnewaddress', ['default']);
        return true;
      } catch {
        return false;
      }
    },
    60_000,
    () => `bcoin to start:\n${proc.output().slice(-2000)}`,
  );
  await waitForPort(p2pPort, 30_000);
  const newKeyHash = async () =>
    base58decode(await wallet<string>('getnewaddress', ['default'])).payload;
  return {
    p2pPort,
    proc,
    rpc,
    wallet,
    newKeyHash,
    async mine(n) {
      const address = base58check(BCOIN_REGTEST_P2PKH, await newKeyHash());
      const out: string[] = [];
      // In batches, so one RPC never runs for minutes.
      for (let left = n; left > 0; left -= 100)
        out.push(...(await rpc<string[]>('generatetoaddress', [Math.min(100, left), address])));
      return out;
    },
    async stop() {
      await proc.stop();
      await dir.remove();
    },
  };
}
