/** One test per consensus rule of the subset (README "Consensus subset"), each seen failing. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkProofOfWork } from '../src/consensus/pow';
import {
  addressToScript,
  type Block,
  blockHash,
  Chain,
  COIN,
  checkTransaction,
  compactToTarget,
  decodeTransaction,
  fromHex,
  generateBlocks,
  LedgerError,
  merkleRoot,
  REGTEST,
  type Transaction,
  targetToCompact,
  txid,
  Wallet,
} from '../src/index';
import { buildBlock, coinbaseTx, GENESIS, OP_TRUE, type ParentInfo } from './helpers/blocks';

const NOW = () => 2_000_000_000;
const SUBSIDY = 50n * COIN;

function tipInfo(chain: Chain): ParentInfo {
  return { hash: chain.tip.hash, height: chain.tip.height, time: chain.tip.header.time };
}

function resolve(block: Block): Block {
  block.header.merkleRoot = merkleRoot(block.transactions.map(txid)).root;
  block.header.nonce = 0;
  while (!checkProofOfWork(blockHash(block.header), block.header.bits, REGTEST.powLimit))
    block.header.nonce++;
  return block;
}

async function expectReject(
  chain: Chain,
  block: Block,
  code: string,
  reason: string,
): Promise<void> {
  await expect(chain.acceptBlock(block)).rejects.toSatisfy(
    (e: unknown) => e instanceof LedgerError && e.code === code && e.message.startsWith(reason),
  );
}

async function chainWith(n: number): Promise<Chain> {
  const chain = await Chain.open({ now: NOW });
  await generateBlocks({ chain, coinbaseScript: OP_TRUE, count: n });
  return chain;
}

describe('proof of work and nBits', () => {
  it('decodes and encodes compact targets as Core does', () => {
    expect(compactToTarget(0x207fffff).target).toBe(0x7fffffn << 232n);
    expect(targetToCompact(REGTEST.powLimit)).toBe(0x207fffff);
    expect(compactToTarget(0x1d00ffff).target).toBe(0xffffn << 208n);
    expect(compactToTarget(0x04923456).negative).toBe(true);
    expect(compactToTarget(0xff123456).overflow).toBe(true);
  });

  it("rejects a header whose hash is above the target, and bits other than the parent's", async () => {
    const chain = await Chain.open({ now: NOW });
    const block = buildBlock(GENESIS, [coinbaseTx(1, SUBSIDY)]);
    while (checkProofOfWork(blockHash(block.header), block.header.bits, REGTEST.powLimit))
      block.header.nonce++;
    await expectReject(chain, block, 'INVALID_HEADER', 'high-hash');
    const easier = buildBlock(GENESIS, [coinbaseTx(1, SUBSIDY)]);
    easier.header.bits = 0x2000ffff;
    resolve(easier);
    await expectReject(chain, easier, 'INVALID_HEADER', 'bad-diffbits');
  });
});

describe('timestamps', () => {
  it('must exceed the median of the last 11 and be at most 2 hours ahead', async () => {
    const chain = await chainWith(12);
    const stale = buildBlock(tipInfo(chain), [coinbaseTx(13, SUBSIDY)]);
    stale.header.time = chain.tip.medianTimePast;
    await expectReject(chain, resolve(stale), 'INVALID_HEADER', 'time-too-old');
    const future = buildBlock(tipInfo(chain), [coinbaseTx(13, SUBSIDY)]);
    future.header.time = NOW() + 2 * 3600 + 1;
    await expectReject(chain, resolve(future), 'INVALID_HEADER', 'time-too-new');
    const edge = buildBlock(tipInfo(chain), [coinbaseTx(13, SUBSIDY)]);
    edge.header.time = NOW() + 2 * 3600;
    expect((await chain.acceptBlock(resolve(edge))).status).toBe('connected');
  });
});

describe('block structure', () => {
  it('checks the merkle root and the duplicate-subtree mutation (CVE-2012-2459)', async () => {
    const chain = await chainWith(101);
    const tx: Transaction = {
      version: 1,
      inputs: [
        {
          prevout: {
            txid: txid((await chain.getBlock(chain.entryAt(1)!.hash))!.transactions[0]!),
            index: 0,
          },
          scriptSig: new Uint8Array(0),
          sequence: 0xffffffff,
          witness: [],
        },
      ],
      outputs: [{ value: COIN, scriptPubKey: OP_TRUE }],
      lockTime: 0,
    };
    const coinbase2 = (await chain.getBlock(chain.entryAt(2)!.hash))!.transactions[0]!;
    const tx2: Transaction = {
      ...tx,
      inputs: [{ ...tx.inputs[0]!, prevout: { txid: txid(coinbase2), index: 0 } }],
    };
    const good = buildBlock(tipInfo(chain), [coinbaseTx(102, SUBSIDY), tx, tx2]);
    const bad = structuredClone(good);
    bad.header.merkleRoot = new Uint8Array(32);
    await expectReject(chain, bad, 'INVALID_BLOCK', 'bad-txnmrklroot');
    // Duplicating the last transaction of an odd list keeps the root: a mutated block.
    const odd = buildBlock(tipInfo(chain), [coinbaseTx(102, SUBSIDY), tx, tx2]);
    const mutated: Block = {
      header: odd.header,
      transactions: [...odd.transactions, odd.transactions[2]!],
    };
    await expectReject(chain, mutated, 'INVALID_BLOCK', 'bad-txns-duplicate');
    // The header was not marked invalid: the real block is still accepted afterwards.
    expect((await chain.acceptBlock(odd)).status).toBe('connected');
  });

  it('needs exactly one coinbase, first, with the BIP 34 height', async () => {
    const chain = await chainWith(1);
    const noCoinbase = buildBlock(tipInfo(chain), [
      {
        ...coinbaseTx(2, SUBSIDY),
        inputs: [
          {
            prevout: { txid: new Uint8Array(32).fill(1), index: 0 },
            scriptSig: new Uint8Array(0),
            sequence: 0,
            witness: [],
          },
        ],
      },
    ]);
    await expectReject(chain, noCoinbase, 'INVALID_BLOCK', 'bad-cb-missing');
    const two = buildBlock(tipInfo(chain), [coinbaseTx(2, SUBSIDY), coinbaseTx(2, 0n, OP_TRUE, 9)]);
    await expectReject(chain, two, 'INVALID_BLOCK', 'bad-cb-multiple');
    const wrongHeight = buildBlock(tipInfo(chain), [coinbaseTx(3, SUBSIDY)]);
    await expectReject(chain, wrongHeight, 'INVALID_BLOCK', 'bad-cb-height');
  });

  it('limits the coinbase to subsidy plus fees, halving every 150 blocks', async () => {
    const chain = await chainWith(150);
    const over = buildBlock(tipInfo(chain), [coinbaseTx(151, SUBSIDY / 2n + 1n)]);
    await expectReject(chain, over, 'INVALID_BLOCK', 'bad-cb-amount');
    const exact = buildBlock(tipInfo(chain), [coinbaseTx(151, SUBSIDY / 2n)]);
    expect((await chain.acceptBlock(exact)).status).toBe('connected');
  });

  it('limits legacy signature operations to 20,000 per block (80,000 sigop cost)', async () => {
    const chain = await chainWith(1);
    const withSigOps = (n: number) => {
      const cb = coinbaseTx(2, SUBSIDY);
      cb.outputs.push({ value: 0n, scriptPubKey: new Uint8Array(n).fill(0xac) });
      return buildBlock(tipInfo(chain), [cb]);
    };
    await expectReject(chain, withSigOps(20_001), 'INVALID_BLOCK', 'bad-blk-sigops');
    expect((await chain.acceptBlock(withSigOps(20_000))).status).toBe('connected');
  });

  it('rejects blocks over the weight limit', async () => {
    const chain = await chainWith(1);
    const big = coinbaseTx(2, SUBSIDY);
    big.outputs.push({ value: 0n, scriptPubKey: new Uint8Array(1_000_001).fill(0x6a) });
    await expectReject(chain, buildBlock(tipInfo(chain), [big]), 'INVALID_BLOCK', 'bad-');
  });
});

describe('inputs', () => {
  it('enforces coinbase maturity, existence, no double spends and value balance', async () => {
    const chain = await chainWith(100);
    const coinbase1 = (await chain.getBlock(chain.entryAt(1)!.hash))!.transactions[0]!;
    const spend = (value: bigint, index = 0, id = txid(coinbase1)): Transaction => ({
      version: 1,
      inputs: [
        {
          prevout: { txid: id, index },
          scriptSig: new Uint8Array(0),
          sequence: 0xffffffff,
          witness: [],
        },
      ],
      outputs: [{ value, scriptPubKey: OP_TRUE }],
      lockTime: 0,
    });
    // Height 101 spending height 1: 100 confirmations is exactly mature; height 2's is not.
    const coinbase2 = (await chain.getBlock(chain.entryAt(2)!.hash))!.transactions[0]!;
    await expectReject(
      chain,
      buildBlock(tipInfo(chain), [coinbaseTx(101, SUBSIDY), spend(COIN, 0, txid(coinbase2))]),
      'INVALID_BLOCK',
      'bad-txns-premature-spend-of-coinbase',
    );
    await expectReject(
      chain,
      buildBlock(tipInfo(chain), [coinbaseTx(101, SUBSIDY), spend(COIN, 1)]),
      'INVALID_BLOCK',
      'bad-txns-inputs-missingorspent',
    );
    await expectReject(
      chain,
      buildBlock(tipInfo(chain), [coinbaseTx(101, SUBSIDY), spend(SUBSIDY + 1n)]),
      'INVALID_BLOCK',
      'bad-txns-in-belowout',
    );
    await expectReject(
      chain,
      buildBlock(tipInfo(chain), [coinbaseTx(101, SUBSIDY), spend(COIN), spend(2n * COIN)]),
      'INVALID_BLOCK',
      'bad-txns-inputs-missingorspent',
    );
    const ok = buildBlock(tipInfo(chain), [coinbaseTx(101, SUBSIDY + SUBSIDY - COIN), spend(COIN)]);
    expect((await chain.acceptBlock(ok)).status).toBe('connected');
    // Spent now: a later block cannot spend it again.
    await expectReject(
      chain,
      buildBlock(tipInfo(chain), [coinbaseTx(102, SUBSIDY), spend(COIN)]),
      'INVALID_BLOCK',
      'bad-txns-inputs-missingorspent',
    );
  });

  it('verifies P2PKH signatures in blocks', async () => {
    const wallet = new Wallet();
    const address = wallet.newAddress();
    const chain = await Chain.open({ now: NOW });
    await generateBlocks({ chain, coinbaseScript: addressToScript(address), count: 101 });
    const pay = wallet.createPayment({ chain, to: address, amount: COIN });
    const forged = structuredClone(pay);
    forged.outputs[0]!.value += 1n; // the signature no longer matches
    await expectReject(
      chain,
      buildBlock(tipInfo(chain), [coinbaseTx(102, SUBSIDY), forged]),
      'INVALID_BLOCK',
      'mandatory-script-verify-flag-failed',
    );
    const withWitness = structuredClone(pay);
    withWitness.inputs[0]!.witness = [new Uint8Array([1])];
    const b = buildBlock(tipInfo(chain), [coinbaseTx(102, SUBSIDY), withWitness]);
    // Witness data does not change the block hash: refused as mutated, the header stays usable.
    await expectReject(chain, b, 'INVALID_BLOCK', 'unexpected-witness');
    expect(
      (await chain.acceptBlock(buildBlock(tipInfo(chain), [coinbaseTx(102, SUBSIDY), pay]))).status,
    ).toBe('connected');
  });
});

describe('scripts outside the subset (README "Other scripts")', () => {
  async function spendOther(policy: 'accept' | 'reject'): Promise<{ chain: Chain; block: Block }> {
    // Coinbases pay OP_TRUE: a script that is neither P2PKH nor P2PK.
    const chain = await Chain.open({ now: NOW, unsupportedScripts: policy });
    await generateBlocks({ chain, coinbaseScript: OP_TRUE, count: 101 });
    const coinbase1 = (await chain.getBlock(chain.entryAt(1)!.hash))!.transactions[0]!;
    const tx: Transaction = {
      version: 1,
      inputs: [
        {
          prevout: { txid: txid(coinbase1), index: 0 },
          scriptSig: new Uint8Array(0),
          sequence: 0xffffffff,
          witness: [],
        },
      ],
      outputs: [{ value: COIN, scriptPubKey: OP_TRUE }],
      lockTime: 0,
    };
    return { chain, block: buildBlock(tipInfo(chain), [coinbaseTx(102, SUBSIDY), tx]) };
  }

  it('are accepted unverified in blocks by default, and counted', async () => {
    const { chain, block } = await spendOther('accept');
    expect((await chain.acceptBlock(block)).status).toBe('connected');
    expect(chain.unverifiedInputs).toBe(1);
  });

  it("are rejected in blocks with unsupportedScripts: 'reject'", async () => {
    const { chain, block } = await spendOther('reject');
    await expectReject(chain, block, 'INVALID_BLOCK', 'unsupported-script');
  });
});

describe('context-free transaction checks (tx_invalid.json BADTX rows)', () => {
  it('rejects every BADTX transaction that decodes', () => {
    const rows = JSON.parse(
      readFileSync(
        new URL('../../../../shared/vectors/bitcoin/tx_invalid.json', import.meta.url),
        'utf8',
      ),
    ) as unknown[][];
    let n = 0;
    for (const row of rows) {
      if (row.length < 3 || typeof row[2] !== 'string' || !row[2].includes('BADTX')) continue;
      let tx: Transaction;
      try {
        tx = decodeTransaction(fromHex(row[1] as string));
      } catch {
        n++;
        continue; // undecodable: rejected earlier still
      }
      expect(() => checkTransaction(tx, REGTEST), row[1] as string).toThrow(LedgerError);
      n++;
    }
    expect(n).toBeGreaterThan(5);
  });
});
