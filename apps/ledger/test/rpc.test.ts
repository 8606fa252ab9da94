/**
 * The JSON-RPC server with Bitcoin Core's method names and result shapes, on two in-memory
 * runtimes connected over loopback: mining, payments relayed and mined, error codes.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  type ClientOptions,
  LedgerRuntime,
  parseAmount,
  RpcCallError,
  rpcCall,
  startRpcServer,
} from '../src/index';

interface Running {
  rt: LedgerRuntime;
  rpc: { port: number; credentials: string; close(): Promise<void> };
  opts: ClientOptions;
}

async function start(): Promise<Running> {
  const rt = await LedgerRuntime.open({ port: 0 });
  const rpc = await startRpcServer(rt, { port: 0 });
  return { rt, rpc, opts: { port: rpc.port, credentials: rpc.credentials } };
}

async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 150; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('peerkit-ledger JSON-RPC', () => {
  let a: Running;
  let b: Running;
  beforeAll(async () => {
    a = await start();
    b = await start();
    await b.rt.node.connect({ host: '127.0.0.1', port: a.rt.node.listenAddress?.port ?? 0 });
  });
  afterAll(async () => {
    for (const r of [a, b]) {
      await r?.rpc.close();
      await r?.rt.close();
    }
  });

  test('generatetoaddress, getblockcount, getbestblockhash, getblockhash, getblock, getblockheader', async () => {
    const address = await rpcCall<string>(a.opts, 'getnewaddress', ['']);
    expect(address).toMatch(/^[mn][1-9A-HJ-NP-Za-km-z]{25,34}$/);
    const hashes = await rpcCall<string[]>(a.opts, 'generatetoaddress', [101, address]);
    expect(hashes).toHaveLength(101);
    expect(await rpcCall(a.opts, 'getblockcount')).toBe(101);
    expect(await rpcCall(a.opts, 'getbestblockhash')).toBe(hashes[100]);
    expect(await rpcCall(a.opts, 'getblockhash', [1])).toBe(hashes[0]);
    const block = await rpcCall<Record<string, unknown>>(a.opts, 'getblock', [hashes[0]]);
    expect(block).toMatchObject({
      hash: hashes[0],
      height: 1,
      confirmations: 101,
      nTx: 1,
      nextblockhash: hashes[1],
    });
    expect(block.previousblockhash).toBe(
      '0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206',
    );
    const header = await rpcCall<Record<string, unknown>>(a.opts, 'getblockheader', [hashes[1]]);
    expect(header).toMatchObject({
      hash: hashes[1],
      height: 2,
      bits: '207fffff',
      previousblockhash: hashes[0],
    });
    expect(await rpcCall<string>(a.opts, 'getblockheader', [hashes[1], false])).toMatch(
      /^[0-9a-f]{160}$/,
    );
    expect(await rpcCall<string>(a.opts, 'getblock', [hashes[1], 0])).toMatch(/^[0-9a-f]+$/);
    expect(await rpcCall(a.opts, 'getbalance')).toBe(50);
    // b synced the chain over P2P.
    await until(async () => (await rpcCall(b.opts, 'getblockcount')) === 101, 'b to sync');
  });

  test('sendtoaddress: the payment is relayed to the other node, mined, and credited', async () => {
    const to = await rpcCall<string>(b.opts, 'getnewaddress');
    const id = await rpcCall<string>(a.opts, 'sendtoaddress', [to, 2.5]);
    expect(await rpcCall(a.opts, 'getrawmempool')).toEqual([id]);
    await until(
      async () => (await rpcCall<string[]>(b.opts, 'getrawmempool')).includes(id),
      'relay to b',
    );
    const verbose = await rpcCall<Record<string, { vsize: number }>>(b.opts, 'getrawmempool', [
      true,
    ]);
    expect(verbose[id]?.vsize).toBeGreaterThan(100);
    const mined = await rpcCall<string[]>(b.opts, 'generatetoaddress', [1, to]);
    await until(
      async () => (await rpcCall(a.opts, 'getbestblockhash')) === mined[0],
      "a to take b's block",
    );
    expect(await rpcCall(a.opts, 'getrawmempool')).toEqual([]);
    const tx = await rpcCall<{
      txid: string;
      blockhash: string;
      confirmations: number;
      vout: { value: number; scriptPubKey: { address?: string } }[];
    }>(a.opts, 'getrawtransaction', [id, true]);
    expect(tx).toMatchObject({ txid: id, blockhash: mined[0], confirmations: 1 });
    expect(tx.vout.some((o) => o.value === 2.5 && o.scriptPubKey.address === to)).toBe(true);
    const balances = await rpcCall<{ mine: { trusted: number; immature: number } }>(
      b.opts,
      'getbalances',
    );
    expect(balances.mine.trusted).toBe(2.5);
    expect(balances.mine.immature).toBeGreaterThan(0);
  });

  test('getpeerinfo and addnode', async () => {
    const peers = await rpcCall<{ inbound: boolean; subver: string; version: number }[]>(
      a.opts,
      'getpeerinfo',
    );
    expect(peers).toHaveLength(1);
    expect(peers[0]).toMatchObject({
      inbound: true,
      subver: '/peerkit-ledger:0.1.0/',
      version: 70016,
    });
    expect(
      await rpcCall(a.opts, 'addnode', [`127.0.0.1:${b.rt.node.listenAddress?.port}`, 'onetry']),
    ).toBeNull();
    await until(
      async () => (await rpcCall<unknown[]>(a.opts, 'getpeerinfo')).length === 2,
      'a second connection',
    );
  });

  test("Core's error codes for bad input", async () => {
    const code = async (method: string, params: unknown[]) => {
      try {
        await rpcCall(a.opts, method, params);
        return 0;
      } catch (e) {
        expect(e).toBeInstanceOf(RpcCallError);
        return (e as RpcCallError).code;
      }
    };
    expect(await code('getblockhash', [100_000])).toBe(-8);
    expect(await code('getblock', ['00'.repeat(32)])).toBe(-5);
    expect(await code('getblock', ['xyz'])).toBe(-8);
    expect(await code('getrawtransaction', ['11'.repeat(32)])).toBe(-5);
    expect(await code('sendtoaddress', ['not-an-address', 1])).toBe(-5);
    expect(await code('sendtoaddress', [await rpcCall<string>(a.opts, 'getnewaddress'), 1e9])).toBe(
      -3,
    );
    expect(await code('nosuchmethod', [])).toBe(-32601);
    expect(await code('getblockhash', ['one'])).toBe(-3);
  });

  test('amounts parse exactly', () => {
    expect(parseAmount('0.1')).toBe(10_000_000n);
    expect(parseAmount(2.5)).toBe(250_000_000n);
    expect(() => parseAmount('1.123456789')).toThrow();
    expect(() => parseAmount(-1)).toThrow();
  });
});
