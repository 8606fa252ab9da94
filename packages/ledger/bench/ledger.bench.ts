/**
 * Two tables, each against a reference measured in the same run:
 * 1. signature verification: bare node:crypto ECDSA verify (a prepared KeyObject, the hardware
 *    and OpenSSL limit) next to this package's verifySignature (public key bytes → cached
 *    KeyObject), a whole P2PKH input (sighash + script + verify), and the BigInt fallback used
 *    only for the SIGHASH_SINGLE "1" quirk;
 * 2. block connection: blocks of 20 signed P2PKH payments connected to a fresh chain (with and
 *    without script verification), and coinbase-only blocks, as blocks/s and inputs/s.
 */
import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { fmt, rate, report } from '@peerkit/dev-kit/bench';
import { verifyRawDigest } from '../src/crypto/ecdsa';
import {
  addressToScript,
  type Block,
  Chain,
  COIN,
  CONSENSUS_FLAGS,
  generateBlocks,
  Mempool,
  PrivateKey,
  publicKeyToAddress,
  sha256,
  signInput,
  type Transaction,
  txid,
  verifyScript,
  verifySignature,
} from '../src/index';

const MS = Number(process.env.BENCH_MS ?? 1000);
const NOW = () => 2_000_000_000;

// ---- 1. signatures ----
const key = PrivateKey.fromBytes(sha256(new TextEncoder().encode('bench key')));
const digest = sha256(new TextEncoder().encode('preimage'));
const der = key.sign(digest);
const { publicKey: bareKey, privateKey: barePriv } = generateKeyPairSync('ec', {
  namedCurve: 'secp256k1',
});
const bareSig = sign('sha256', digest, { key: barePriv, dsaEncoding: 'der' });
const spki = bareKey;

/**
 * The machine is shared: load changes within seconds. So the contenders are measured in
 * alternation, ROUNDS short windows each, and each rate is the mean of its windows.
 */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
function interleaved(fns: (() => unknown)[], ms: number): number[] {
  const sums = fns.map(() => 0);
  for (let r = 0; r < ROUNDS; r++) {
    for (const [i, fn] of fns.entries()) sums[i] = (sums[i] as number) + rate(fn, ms / ROUNDS);
  }
  return sums.map((s) => s / ROUNDS);
}

const script = addressToScript(publicKeyToAddress(key.publicKey));
const spendTx: Transaction = {
  version: 2,
  inputs: [
    {
      prevout: { txid: new Uint8Array(32).fill(3), index: 0 },
      scriptSig: new Uint8Array(0),
      sequence: 0xffffffff,
      witness: [],
    },
  ],
  outputs: [{ value: COIN, scriptPubKey: script }],
  lockTime: 0,
};
spendTx.inputs[0]!.scriptSig = signInput(spendTx, 0, script, key);
const checkInput = (): void => {
  const input = spendTx.inputs[0]!;
  const flags = CONSENSUS_FLAGS;
  if (!verifyScript(input.scriptSig, script, { tx: spendTx, inputIndex: 0 }, flags).ok) {
    throw new Error('bad');
  }
};
const [bare, ours, input, bigint] = interleaved(
  [
    () => verify('sha256', digest, { key: spki, dsaEncoding: 'der' }, bareSig),
    () => verifySignature(key.publicKey, der, digest),
    checkInput,
    () => verifyRawDigest(key.publicKey, der, digest),
  ],
  MS * 2,
) as [number, number, number, number];

report({
  package: '@peerkit/ledger',
  name: 'sigverify',
  title: 'secp256k1 ECDSA verification (verifications/s)',
  columns: ['what', 'per second', 'vs bare node:crypto'],
  rows: [
    ['bare node:crypto verify (prepared KeyObject)', bare, '1.00'],
    ['verifySignature (key bytes, cached KeyObject)', ours, fmt(ours / bare, 2)],
    ['P2PKH input: sighash + script + verify', input, fmt(input / bare, 2)],
    ['BigInt fallback (SIGHASH_SINGLE "1" quirk only)', bigint, fmt(bigint / bare, 3)],
  ],
});

// ---- 2. block connection ----
async function buildChain(): Promise<{ base: Block[]; payments: Block[] }> {
  const chain = await Chain.open({ now: NOW });
  const base = await generateBlocks({ chain, coinbaseScript: script, count: 101 });
  // Fan out block 1's coinbase into 200 outputs, then spend them 20 per block.
  const coinbase = base[0]!.transactions[0]!;
  const fan: Transaction = {
    version: 2,
    inputs: [
      {
        prevout: { txid: txid(coinbase), index: 0 },
        scriptSig: new Uint8Array(0),
        sequence: 0xffffffff,
        witness: [],
      },
    ],
    outputs: Array.from({ length: 200 }, () => ({ value: COIN / 5n, scriptPubKey: script })),
    lockTime: 0,
  };
  fan.inputs[0]!.scriptSig = signInput(fan, 0, script, key);
  const mempool = new Mempool({ chain });
  await mempool.accept(fan);
  base.push(...(await generateBlocks({ chain, mempool, coinbaseScript: script, count: 1 })));
  const payments: Block[] = [];
  for (let b = 0; b < 10; b++) {
    for (let i = 0; i < 20; i++) {
      const tx: Transaction = {
        version: 2,
        inputs: [
          {
            prevout: { txid: txid(fan), index: b * 20 + i },
            scriptSig: new Uint8Array(0),
            sequence: 0xffffffff,
            witness: [],
          },
        ],
        outputs: [{ value: COIN / 5n - 10_000n, scriptPubKey: script }],
        lockTime: 0,
      };
      tx.inputs[0]!.scriptSig = signInput(tx, 0, script, key);
      await mempool.accept(tx);
    }
    payments.push(...(await generateBlocks({ chain, mempool, coinbaseScript: script, count: 1 })));
  }
  return { base, payments };
}

const { base, payments } = await buildChain();
const inputs = payments.reduce((n, b) => n + b.transactions.length - 1, 0);

/** Bare verify rates measured right next to each connect round (the load moves). */
const bareNearConnect: number[] = [];
const bareVerify = (): boolean =>
  verify('sha256', digest, { key: spki, dsaEncoding: 'der' }, bareSig);
async function timeConnect(verifyScripts: boolean, rounds: number): Promise<number> {
  let total = 0;
  for (let r = 0; r < rounds; r++) {
    const chain = await Chain.open({ now: NOW, verifyScripts });
    for (const b of base) await chain.acceptBlock(b);
    if (verifyScripts) bareNearConnect.push(rate(bareVerify, 200));
    const start = performance.now();
    for (const b of payments) await chain.acceptBlock(b);
    total += performance.now() - start;
    if (chain.height !== base.length + payments.length) throw new Error('not connected');
  }
  return total / rounds;
}
async function timeEmpty(rounds: number): Promise<number> {
  let total = 0;
  for (let r = 0; r < rounds; r++) {
    const chain = await Chain.open({ now: NOW });
    const start = performance.now();
    for (const b of base.slice(0, 100)) await chain.acceptBlock(b);
    total += performance.now() - start;
  }
  return total / rounds;
}

const rounds = ROUNDS;
const withScripts = await timeConnect(true, rounds);
const bareConnect = bareNearConnect.reduce((a, b) => a + b, 0) / bareNearConnect.length;
const withoutScripts = await timeConnect(false, rounds);
const empty = await timeEmpty(rounds);
const perSec = (n: number, ms: number): number => (n * 1000) / ms;
report({
  package: '@peerkit/ledger',
  name: 'connect',
  title: 'block connection to a fresh chain (in memory)',
  columns: ['blocks', 'blocks/s', 'inputs/s', 'inputs/s vs bare verify'],
  rows: [
    [
      `10 × 20 P2PKH payments, scripts verified`,
      perSec(payments.length, withScripts),
      perSec(inputs, withScripts),
      fmt(perSec(inputs, withScripts) / bareConnect, 2),
    ],
    [
      `10 × 20 P2PKH payments, scripts not verified`,
      perSec(payments.length, withoutScripts),
      perSec(inputs, withoutScripts),
      '-',
    ],
    ['100 coinbase-only blocks', perSec(100, empty), '-', '-'],
  ],
  notes: [
    `bare node:crypto verify next to these rounds: ${fmt(bareConnect)}/s; every block is also written to the (in-memory) store.`,
  ],
});
