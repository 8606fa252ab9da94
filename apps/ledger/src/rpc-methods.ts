/**
 * The JSON-RPC methods, with Bitcoin Core's names, parameters, result shapes and error codes
 * (Core's src/rpc/*.cpp; codes from rpc/protocol.h), so that scripts written for bitcoind or
 * bcoin work against peerkit-ledger.
 */
import {
  type Block,
  blockSize,
  blockWeight,
  COIN,
  decodeTransaction,
  encodeBlock,
  encodeBlockHeader,
  encodeTransaction,
  fromHex,
  hashFromHex,
  hashToHex,
  isLedgerError,
  scriptToAddress,
  type Transaction,
  toHex,
  totalSize,
  txid,
  txVsize,
  txWeight,
  wtxid,
} from '@peerkit/ledger';
import { parseHostPort } from './input';
import type { LedgerRuntime } from './runtime';

/** Core's RPC error codes (rpc/protocol.h). */
export const RPC_MISC_ERROR = -1;
export const RPC_TYPE_ERROR = -3;
export const RPC_INVALID_ADDRESS_OR_KEY = -5;
export const RPC_WALLET_INSUFFICIENT_FUNDS = -6;
export const RPC_INVALID_PARAMETER = -8;
export const RPC_VERIFY_REJECTED = -26;
export const RPC_METHOD_NOT_FOUND = -32601;
export const RPC_INVALID_PARAMS = -32602;

export class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

type Params = unknown[];
type Method = (rt: LedgerRuntime, params: Params) => unknown | Promise<unknown>;

function param<T>(
  params: Params,
  i: number,
  type: 'number' | 'string' | 'boolean',
  name: string,
  fallback?: T,
): T {
  const v = params[i];
  if (v === undefined || v === null) {
    if (fallback !== undefined) return fallback;
    throw new RpcError(RPC_INVALID_PARAMS, `missing parameter ${name}`);
  }
  if (typeof v !== type)
    throw new RpcError(RPC_TYPE_ERROR, `${name}: expected ${type}, got ${typeof v}`);
  return v as T;
}

function hashParam(params: Params, i: number, name: string): Uint8Array {
  const s = param<string>(params, i, 'string', name);
  if (!/^[0-9a-fA-F]{64}$/.test(s))
    throw new RpcError(
      RPC_INVALID_PARAMETER,
      `${name} must be of length 64 (not ${s.length}, for '${s}')`,
    );
  return hashFromHex(s);
}

/** Satoshis as Core prints amounts: a JSON number of coins with 8 decimals. */
export function toCoins(sats: bigint): number {
  return Number(sats) / Number(COIN);
}

/** Parses a coin amount ("1.5", 1.5) into satoshis exactly (AmountFromValue). */
export function parseAmount(v: unknown): bigint {
  const text = typeof v === 'number' ? v.toFixed(8) : typeof v === 'string' ? v.trim() : '';
  const m = /^(\d{1,8})(?:\.(\d{1,8}))?$/.exec(text);
  if (!m) throw new RpcError(RPC_TYPE_ERROR, `Invalid amount: ${String(v)}`);
  const sats = BigInt(m[1] as string) * COIN + BigInt((m[2] ?? '').padEnd(8, '0'));
  if (sats <= 0n) throw new RpcError(RPC_TYPE_ERROR, 'Amount out of range');
  return sats;
}

const DIFF1 = 0xffffn << 208n;
function difficulty(bits: number): number {
  const exponent = bits >>> 24;
  const mantissa = BigInt(bits & 0x7fffff);
  const target =
    exponent <= 3 ? mantissa >> BigInt(8 * (3 - exponent)) : mantissa << BigInt(8 * (exponent - 3));
  return Number((DIFF1 * 1_000_000_000_000n) / target) / 1e12;
}

function headerJson(rt: LedgerRuntime, hash: Uint8Array) {
  const e = rt.chain.getEntry(hash);
  if (!e) throw new RpcError(RPC_INVALID_ADDRESS_OR_KEY, 'Block not found');
  const active = rt.chain.entryAt(e.height);
  const onChain = active !== undefined && toHex(active.hash) === toHex(e.hash);
  const next = onChain ? rt.chain.entryAt(e.height + 1) : undefined;
  const h = e.header;
  return {
    hash: hashToHex(e.hash),
    confirmations: onChain ? rt.chain.tip.height - e.height + 1 : -1,
    height: e.height,
    version: h.version,
    versionHex: (h.version >>> 0).toString(16).padStart(8, '0'),
    merkleroot: hashToHex(h.merkleRoot),
    time: h.time,
    mediantime: e.medianTimePast,
    nonce: h.nonce,
    bits: (h.bits >>> 0).toString(16).padStart(8, '0'),
    difficulty: difficulty(h.bits),
    chainwork: e.work.toString(16).padStart(64, '0'),
    ...(e.height > 0 ? { previousblockhash: hashToHex(h.prevBlock) } : {}),
    ...(next ? { nextblockhash: hashToHex(next.hash) } : {}),
  };
}

export function txJson(tx: Transaction, extra: Record<string, unknown> = {}) {
  return {
    txid: hashToHex(txid(tx)),
    hash: hashToHex(wtxid(tx)),
    version: tx.version,
    size: totalSize(tx),
    vsize: txVsize(tx),
    weight: txWeight(tx),
    locktime: tx.lockTime,
    vin: tx.inputs.map((i) =>
      i.prevout.index === 0xffffffff && i.prevout.txid.every((b) => b === 0)
        ? { coinbase: toHex(i.scriptSig), sequence: i.sequence }
        : {
            txid: hashToHex(i.prevout.txid),
            vout: i.prevout.index,
            scriptSig: { hex: toHex(i.scriptSig) },
            ...(i.witness.length > 0 ? { txinwitness: i.witness.map(toHex) } : {}),
            sequence: i.sequence,
          },
    ),
    vout: tx.outputs.map((o, n) => {
      const address = scriptToAddress(o.scriptPubKey);
      return {
        value: toCoins(o.value),
        n,
        scriptPubKey: { hex: toHex(o.scriptPubKey), ...(address ? { address } : {}) },
      };
    }),
    hex: toHex(encodeTransaction(tx)),
    ...extra,
  };
}

async function blockByHash(rt: LedgerRuntime, hash: Uint8Array): Promise<Block> {
  const block = await rt.chain.getBlock(hash);
  if (!block) throw new RpcError(RPC_INVALID_ADDRESS_OR_KEY, 'Block not found');
  return block;
}

const methods: Record<string, Method> = {
  getblockcount: (rt) => rt.chain.tip.height,
  getbestblockhash: (rt) => hashToHex(rt.chain.tip.hash),
  getblockhash: (rt, p) => {
    const height = param<number>(p, 0, 'number', 'height');
    const e = Number.isInteger(height) ? rt.chain.entryAt(height) : undefined;
    if (!e) throw new RpcError(RPC_INVALID_PARAMETER, 'Block height out of range');
    return hashToHex(e.hash);
  },
  getblockheader: (rt, p) => {
    const hash = hashParam(p, 0, 'blockhash');
    const verbose = param<boolean>(p, 1, 'boolean', 'verbose', true);
    const json = headerJson(rt, hash);
    if (!verbose)
      return toHex(
        encodeBlockHeader((rt.chain.getEntry(hash) as { header: Block['header'] }).header),
      );
    return json;
  },
  getblock: async (rt, p) => {
    const hash = hashParam(p, 0, 'blockhash');
    const verbosity =
      typeof p[1] === 'boolean' ? (p[1] ? 1 : 0) : param<number>(p, 1, 'number', 'verbosity', 1);
    const block = await blockByHash(rt, hash);
    if (verbosity === 0) return toHex(encodeBlock(block));
    return {
      ...headerJson(rt, hash),
      size: blockSize(block),
      strippedsize: encodeBlock(block, { witness: false }).length,
      weight: blockWeight(block),
      nTx: block.transactions.length,
      tx:
        verbosity >= 2
          ? block.transactions.map((tx) => txJson(tx))
          : block.transactions.map((tx) => hashToHex(txid(tx))),
    };
  },
  getblockchaininfo: (rt) => ({
    chain: 'regtest',
    blocks: rt.chain.tip.height,
    headers: rt.chain.bestHeader.height,
    bestblockhash: hashToHex(rt.chain.tip.hash),
    difficulty: difficulty(rt.chain.tip.header.bits),
    mediantime: rt.chain.tip.medianTimePast,
    chainwork: rt.chain.tip.work.toString(16).padStart(64, '0'),
    initialblockdownload: rt.chain.bestHeader.height > rt.chain.tip.height,
    pruned: false,
  }),
  getpeerinfo: (rt) =>
    rt.node.peerSummaries().map((s) => ({
      id: s.id,
      addr: s.address,
      services: s.services.toString(16).padStart(16, '0'),
      relaytxes: true,
      bytessent: s.bytesSent,
      bytesrecv: s.bytesReceived,
      conntime: Math.floor(
        (rt.node.unixTime() * 1000 - (rt.node.network.clock.now() - s.connectedAt)) / 1000,
      ),
      ...(s.pingTimeMs === undefined ? {} : { pingtime: s.pingTimeMs / 1000 }),
      version: s.version,
      subver: s.userAgent,
      inbound: s.inbound,
      startingheight: s.startHeight,
      synced_headers: s.syncedHeaders,
      misbehavior_score: s.score,
    })),
  getconnectioncount: (rt) => rt.node.readyPeers().length,
  getnetworkinfo: (rt) => ({
    version: 10000,
    subversion: '/peerkit-ledger:0.1.0/',
    protocolversion: 70016,
    localservices: '0000000000000009',
    connections: rt.node.readyPeers().length,
    networkactive: true,
  }),
  addnode: (rt, p) => {
    const node = param<string>(p, 0, 'string', 'node');
    const command = param<string>(p, 1, 'string', 'command');
    const address = parseHostPort(node);
    if (command === 'add') rt.node.addNode(address);
    else if (command === 'remove') {
      if (!rt.node.removeNode(address))
        throw new RpcError(
          -24,
          'Error: Node could not be removed. It has not been added previously.',
        );
    } else if (command === 'onetry') void rt.node.connect(address).catch(() => undefined);
    else
      throw new RpcError(
        RPC_INVALID_PARAMETER,
        `addnode command must be add, remove or onetry, not ${command}`,
      );
    return null;
  },
  disconnectnode: (rt, p) => {
    const node = param<string>(p, 0, 'string', 'address');
    if (rt.node.disconnect(parseHostPort(node)) === 0)
      throw new RpcError(-29, 'Node not found in connected nodes');
    return null;
  },
  getrawmempool: (rt, p) => {
    const verbose = param<boolean>(p, 0, 'boolean', 'verbose', false);
    const entries = [...rt.mempool.entries()];
    if (!verbose) return entries.map((e) => hashToHex(e.txid));
    return Object.fromEntries(
      entries.map((e) => [
        hashToHex(e.txid),
        {
          vsize: e.vsize,
          weight: txWeight(e.tx),
          time: e.time,
          height: rt.chain.tip.height,
          wtxid: hashToHex(e.wtxid),
          fees: { base: toCoins(e.fee) },
        },
      ]),
    );
  },
  getmempoolinfo: (rt) => ({
    loaded: true,
    size: rt.mempool.size,
    bytes: rt.mempool.bytes,
    minrelaytxfee: 0.00001,
  }),
  getrawtransaction: async (rt, p) => {
    const id = hashParam(p, 0, 'txid');
    const verbose =
      typeof p[1] === 'number' ? p[1] > 0 : param<boolean>(p, 1, 'boolean', 'verbose', false);
    const pooled = rt.mempool.get(id);
    if (pooled) return verbose ? txJson(pooled) : toHex(encodeTransaction(pooled));
    const found = await rt.chain.getTransaction(id);
    if (!found)
      throw new RpcError(RPC_INVALID_ADDRESS_OR_KEY, 'No such mempool or blockchain transaction');
    if (!verbose) return toHex(encodeTransaction(found.tx));
    const entry = rt.chain.getEntry(found.blockHash);
    return txJson(found.tx, {
      blockhash: hashToHex(found.blockHash),
      confirmations: rt.chain.tip.height - found.height + 1,
      time: entry?.header.time,
      blocktime: entry?.header.time,
    });
  },
  sendrawtransaction: async (rt, p) => {
    const hex = param<string>(p, 0, 'string', 'hexstring');
    let tx: Transaction;
    try {
      tx = decodeTransaction(fromHex(hex));
    } catch {
      throw new RpcError(-22, 'TX decode failed');
    }
    await rt.node.submitTransaction(tx);
    return hashToHex(txid(tx));
  },
  getnewaddress: (rt) => rt.newAddress(),
  getbalance: (rt) => toCoins(rt.wallet.balance(rt.chain, rt.mempool).confirmed),
  getbalances: (rt) => {
    const b = rt.wallet.balance(rt.chain, rt.mempool);
    return {
      mine: {
        trusted: toCoins(b.confirmed),
        untrusted_pending: toCoins(b.unconfirmed),
        immature: toCoins(b.immature),
      },
    };
  },
  sendtoaddress: (rt, p) => {
    const address = param<string>(p, 0, 'string', 'address');
    const amount = parseAmount(p[1]);
    return rt.send(address, amount);
  },
  generatetoaddress: (rt, p) => {
    const n = param<number>(p, 0, 'number', 'nblocks');
    if (!Number.isInteger(n) || n < 0 || n > 10_000)
      throw new RpcError(RPC_INVALID_PARAMETER, 'nblocks must be an integer in [0, 10000]');
    const address = param<string>(p, 1, 'string', 'address');
    return rt.generate(n, address);
  },
  getblocktemplate: () => {
    throw new RpcError(
      RPC_MISC_ERROR,
      'getblocktemplate is not implemented; use generatetoaddress',
    );
  },
};

/** Runs one method; errors come back as RpcError with Core's code. */
export async function callMethod(
  rt: LedgerRuntime,
  method: string,
  params: Params,
): Promise<unknown> {
  const fn = methods[method];
  if (!fn) throw new RpcError(RPC_METHOD_NOT_FOUND, 'Method not found');
  try {
    return await fn(rt, params);
  } catch (error) {
    if (error instanceof RpcError) throw error;
    if (isLedgerError(error)) {
      const code =
        error.code === 'WALLET'
          ? /insufficient/i.test(error.message)
            ? RPC_WALLET_INSUFFICIENT_FUNDS
            : RPC_INVALID_ADDRESS_OR_KEY
          : error.code === 'DECODE'
            ? RPC_INVALID_ADDRESS_OR_KEY
            : ['INVALID_TX', 'MEMPOOL', 'DUPLICATE', 'SCRIPT', 'ORPHAN'].includes(error.code)
              ? RPC_VERIFY_REJECTED
              : RPC_MISC_ERROR;
      throw new RpcError(code, error.message);
    }
    throw new RpcError(RPC_MISC_ERROR, error instanceof Error ? error.message : String(error));
  }
}

export const METHOD_NAMES: readonly string[] = Object.keys(methods);
