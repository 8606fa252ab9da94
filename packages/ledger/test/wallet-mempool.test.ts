import { describe, expect, it } from 'vitest';
import {
  addressToScript,
  Chain,
  COIN,
  createBlockTemplate,
  decodeWif,
  encodeWif,
  generateBlocks,
  LedgerError,
  Mempool,
  PrivateKey,
  REGTEST,
  scriptToAddress,
  signInput,
  type Transaction,
  toHex,
  txid,
  Wallet,
} from '../src/index';

const NOW = () => 2_000_000_000;

/** A deterministic Random for keys. */
function seeded(seed: number): { bytes(n: number): Uint8Array; int(max: number): number } {
  let s = seed >>> 0;
  const next = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    bytes: (n) => Uint8Array.from({ length: n }, () => Math.floor(next() * 256)),
    int: (max) => Math.floor(next() * max),
  };
}

async function setup() {
  const chain = await Chain.open({ now: NOW });
  const mempool = new Mempool({ chain });
  const alice = new Wallet({ random: seeded(1) });
  const bob = new Wallet({ random: seeded(2) });
  const aliceAddress = alice.newAddress();
  const bobAddress = bob.newAddress();
  return { chain, mempool, alice, bob, aliceAddress, bobAddress };
}

describe('addresses and keys', () => {
  it('regtest P2PKH addresses start with m or n and round-trip through their script', () => {
    const w = new Wallet({ random: seeded(7) });
    for (let i = 0; i < 20; i++) {
      const a = w.newAddress();
      expect(a).toMatch(/^[mn][1-9A-HJ-NP-Za-km-z]{25,34}$/);
      expect(scriptToAddress(addressToScript(a))).toBe(a);
    }
    expect(() => addressToScript('1BoatSLRHtKNngkdXEeobR76b53LETtpyT')).toThrow(LedgerError); // mainnet
    expect(() => addressToScript('mxxx')).toThrow(LedgerError);
  });

  it('WIF round-trips and matches a known regtest encoding', () => {
    const key = PrivateKey.fromBytes(new Uint8Array(32).fill(1));
    const wif = encodeWif(key);
    expect(wif.startsWith('c')).toBe(true);
    expect(toHex(decodeWif(wif).publicKey)).toBe(toHex(key.publicKey));
    // secp256k1 public key of the private key 0x0101…01 (compressed).
    expect(toHex(key.publicKey)).toBe(
      '031b84c5567b126440995d3ed5aaba0565d71e1834604819ff9c17f5e9d5dd078f',
    );
  });
});

describe('mining, wallet and mempool together', () => {
  it('mines to an address, matures the coinbase, pays with change, mines the payment', async () => {
    const { chain, mempool, alice, bob, aliceAddress, bobAddress } = await setup();
    await generateBlocks({
      chain,
      mempool,
      coinbaseScript: addressToScript(aliceAddress),
      count: 101,
    });
    expect(chain.height).toBe(101);
    const before = alice.balance(chain, mempool);
    expect(before.confirmed).toBe(50n * COIN); // only block 1's coinbase is mature
    expect(before.immature).toBe(100n * 50n * COIN);

    const payment = alice.createPayment({
      chain,
      mempool,
      to: bobAddress,
      amount: 10n * COIN,
      feeRate: 2000n,
    });
    expect(payment.outputs).toHaveLength(2); // payment + change
    const result = await mempool.accept(payment);
    expect(result.status).toBe('accepted');
    expect(mempool.has(txid(payment))).toBe(true);
    const entry = mempool.entry(txid(payment));
    expect(entry?.feeRate).toBeGreaterThanOrEqual(2000n);
    expect(bob.balance(chain, mempool).unconfirmed).toBe(10n * COIN);
    // The coin it spends is no longer counted as confirmed.
    expect(alice.balance(chain, mempool).confirmed).toBe(0n);

    const template = createBlockTemplate({
      chain,
      mempool,
      coinbaseScript: addressToScript(aliceAddress),
    });
    expect(template.block.transactions.map((t) => toHex(txid(t)))).toContain(toHex(txid(payment)));
    expect(template.fees).toBe(entry?.fee);
    expect(template.block.transactions[0]?.outputs[0]?.value).toBe(
      template.subsidy + template.fees,
    );

    await generateBlocks({
      chain,
      mempool,
      coinbaseScript: addressToScript(aliceAddress),
      count: 1,
    });
    expect(mempool.size).toBe(0);
    expect(bob.balance(chain, mempool).confirmed).toBe(10n * COIN);
    expect((await chain.getTransaction(txid(payment)))?.height).toBe(102);
  });

  it('rejects double spends, bad signatures, low fees and spends of immature coinbases', async () => {
    const { chain, mempool, alice, bobAddress, aliceAddress } = await setup();
    await generateBlocks({
      chain,
      mempool,
      coinbaseScript: addressToScript(aliceAddress),
      count: 101,
    });
    const pay = alice.createPayment({ chain, to: bobAddress, amount: COIN });
    const again = alice.createPayment({ chain, to: bobAddress, amount: 2n * COIN }); // same coin
    await mempool.accept(pay);
    await expect(mempool.accept(again)).rejects.toMatchObject({ code: 'MEMPOOL' });
    await expect(mempool.accept(pay)).rejects.toMatchObject({ code: 'DUPLICATE' });

    // A flipped signature byte fails script verification.
    const { chain: c2, mempool: m2, alice: a2, bobAddress: b2, aliceAddress: aa2 } = await setup();
    await generateBlocks({
      chain: c2,
      mempool: m2,
      coinbaseScript: addressToScript(aa2),
      count: 101,
    });
    const good = a2.createPayment({ chain: c2, to: b2, amount: COIN });
    const bad = structuredClone(good);
    const sig = bad.inputs[0]!.scriptSig;
    sig[10] = (sig[10] as number) ^ 1;
    await expect(m2.accept(bad)).rejects.toMatchObject({ code: 'INVALID_TX' });
    const cheap = a2.createPayment({ chain: c2, to: b2, amount: COIN, feeRate: 100n });
    await expect(m2.accept(cheap)).rejects.toMatchObject({ code: 'MEMPOOL' });
    await m2.accept(good);
    expect(m2.size).toBe(1);
  });

  it('keeps orphans bounded and accepts them when the parent arrives', async () => {
    const { chain, alice, bob, bobAddress, aliceAddress } = await setup();
    const mempool = new Mempool({ chain, maxOrphans: 1 });
    await generateBlocks({ chain, coinbaseScript: addressToScript(aliceAddress), count: 101 });
    const parent = alice.createPayment({ chain, to: bobAddress, amount: 5n * COIN });
    // Bob spends the unconfirmed output before the mempool knows the parent.
    const childKeyScript = parent.outputs[0]!.scriptPubKey;
    const key = bob.keyFor(childKeyScript);
    expect(key).toBeDefined();
    const child: Transaction = {
      version: 2,
      inputs: [
        {
          prevout: { txid: txid(parent), index: 0 },
          scriptSig: new Uint8Array(0),
          sequence: 0xffffffff,
          witness: [],
        },
      ],
      outputs: [{ value: 5n * COIN - 10_000n, scriptPubKey: childKeyScript }],
      lockTime: 0,
    };
    child.inputs[0]!.scriptSig = signInput(child, 0, childKeyScript, key as PrivateKey);
    expect((await mempool.accept(child)).status).toBe('orphan');
    expect(mempool.orphanCount).toBe(1);
    await mempool.accept(parent);
    expect(mempool.size).toBe(2);
    expect(mempool.orphanCount).toBe(0);
    // Parents come before children in a template.
    const selected = mempool.selectForBlock(REGTEST.maxBlockWeight).map((e) => toHex(e.txid));
    expect(selected).toEqual([toHex(txid(parent)), toHex(txid(child))]);
  });

  it('evicts the lowest fee rate under the byte cap', async () => {
    const { chain, alice, bobAddress, aliceAddress } = await setup();
    await generateBlocks({ chain, coinbaseScript: addressToScript(aliceAddress), count: 104 });
    const mempool = new Mempool({ chain, maxBytes: 500 }); // room for two 1-in-2-out payments
    const removed: string[] = [];
    mempool.on('removed', ({ txid: id, reason }) => removed.push(`${toHex(id)}:${reason}`));
    const txs = [];
    for (const feeRate of [1000n, 5000n, 3000n]) {
      const tx = alice.createPayment({ chain, mempool, to: bobAddress, amount: COIN, feeRate });
      await mempool.accept(tx);
      txs.push(tx);
    }
    expect(mempool.has(txid(txs[0]!))).toBe(false);
    expect(removed).toEqual([`${toHex(txid(txs[0]!))}:evicted`]);
    expect(mempool.bytes).toBeLessThanOrEqual(500);
  });

  it('re-adds transactions of a disconnected block and drops them when the other branch confirms them', async () => {
    const { chain, mempool, alice, bobAddress, aliceAddress } = await setup();
    await generateBlocks({
      chain,
      mempool,
      coinbaseScript: addressToScript(aliceAddress),
      count: 101,
    });
    const fork = chain.tip;
    const pay = alice.createPayment({ chain, mempool, to: bobAddress, amount: COIN });
    await mempool.accept(pay);
    const [withPay] = await generateBlocks({
      chain,
      mempool,
      coinbaseScript: addressToScript(aliceAddress),
      count: 1,
    });
    expect(mempool.size).toBe(0);
    // A competing branch of two empty blocks from the fork point wins.
    const other = await Chain.open({ now: NOW });
    for (let h = 1; h <= fork.height; h++) {
      const b = await chain.getBlock(chain.entryAt(h)!.hash);
      await other.acceptBlock(b!);
    }
    const branch = await generateBlocks({
      chain: other,
      coinbaseScript: new Uint8Array([0x51]),
      count: 2,
    });
    let reorg = { connected: 0, disconnected: 0 };
    for (const b of branch) {
      const r = await chain.acceptBlock(b);
      for (const d of r.disconnected) await mempool.blockDisconnected(d);
      for (const c of r.connected) mempool.blockConnected(c);
      reorg = {
        connected: reorg.connected + r.connected.length,
        disconnected: reorg.disconnected + r.disconnected.length,
      };
    }
    expect(reorg).toEqual({ connected: 2, disconnected: 1 });
    expect(toHex(chain.tip.hash)).toBe(toHex(other.tip.hash));
    expect(withPay).toBeDefined();
    // The payment is back in the mempool, valid on the new tip.
    expect(mempool.has(txid(pay))).toBe(true);
  });

  it('drops a transaction whose input vanished in a reorganisation', async () => {
    const { chain, mempool, alice, aliceAddress } = await setup();
    const script = addressToScript(aliceAddress);
    const ours = await generateBlocks({ chain, mempool, coinbaseScript: script, count: 101 });
    // Spend block 2's coinbase (mature for block 102) straight from the mempool.
    const coinbase2 = ours[1]!.transactions[0]!;
    const spend: Transaction = {
      version: 2,
      inputs: [
        {
          prevout: { txid: txid(coinbase2), index: 0 },
          scriptSig: new Uint8Array(0),
          sequence: 0xffffffff,
          witness: [],
        },
      ],
      outputs: [{ value: 49n * COIN, scriptPubKey: script }],
      lockTime: 0,
    };
    spend.inputs[0]!.scriptSig = signInput(spend, 0, script, alice.keyFor(script) as PrivateKey);
    await mempool.accept(spend);
    // A longer branch forking after block 1 replaces blocks 2…101.
    const other = await Chain.open({ now: NOW });
    await other.acceptBlock(ours[0]!);
    const branch = await generateBlocks({
      chain: other,
      coinbaseScript: new Uint8Array([0x51]),
      count: 101,
    });
    const removed: string[] = [];
    mempool.on('removed', ({ reason }) => removed.push(reason));
    for (const b of branch) {
      const r = await chain.acceptBlock(b);
      for (const d of r.disconnected) await mempool.blockDisconnected(d);
      for (const c of r.connected) mempool.blockConnected(c);
    }
    expect(chain.height).toBe(102);
    expect(mempool.has(txid(spend))).toBe(false);
    expect(removed).toContain('reorg');
  });
});
