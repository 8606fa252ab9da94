/**
 * A small key wallet: P2PKH keys, the balance read from the UTXO set (and the mempool), and
 * signed payments with change. Coins are chosen largest first; the fee is the fee rate times
 * the signed size, which is known in advance up to the DER signature length (we assume the
 * maximum, 72 bytes, so the real fee rate is never below the one asked for).
 */
import type { Random } from '@peerkit/transport';
import type { Chain } from '../chain/chain';
import { outpointKey } from '../chain/coins';
import { PrivateKey } from '../crypto/ecdsa';
import { LedgerError } from '../errors';
import { hash160, toHex } from '../hash';
import { type ChainParams, REGTEST } from '../params';
import { type OutPoint, type Transaction, type TxOut, txid } from '../primitives/transaction';
import { SIGHASH_ALL } from '../script/opcodes';
import { classifyScript, pushData } from '../script/script';
import { legacySighash } from '../script/sighash';
import { addressToScript, publicKeyToAddress } from './address';

/** What the wallet reads from a mempool (Mempool implements it). */
export interface WalletMempoolView {
  transactions(): Iterable<Transaction>;
}

export interface Balance {
  /** Mature, confirmed, not spent by a mempool transaction. */
  confirmed: bigint;
  /** Coinbase outputs still inside the maturity window. */
  immature: bigint;
  /** Outputs of mempool transactions paying this wallet. */
  unconfirmed: bigint;
}

export interface PaymentOptions {
  chain: Chain;
  mempool?: WalletMempoolView;
  to: string;
  amount: bigint;
  /** Satoshis per 1,000 virtual bytes (default 1,000: Core's minimum relay fee). */
  feeRate?: bigint;
  /** Where change goes (default: a new address of this wallet). */
  changeAddress?: string;
}

/** Outputs below this are not worth creating as change (Core's dust threshold for P2PKH). */
export const DUST_LIMIT = 546n;

interface OwnedCoin {
  outpoint: OutPoint;
  output: TxOut;
  key: PrivateKey;
}

export class Wallet {
  readonly params: ChainParams;
  readonly #random: Random | undefined;
  readonly #keys = new Map<string, PrivateKey>(); // by hash160 hex
  readonly #addresses: string[] = [];

  /** `random` makes keys deterministic in simulations; without it keys come from node:crypto. */
  constructor(options: { params?: ChainParams; random?: Random } = {}) {
    this.params = options.params ?? REGTEST;
    this.#random = options.random;
  }

  /** A new key and its P2PKH address. */
  newAddress(): string {
    return this.importKey(PrivateKey.generate(this.#random));
  }

  importKey(key: PrivateKey): string {
    const id = toHex(hash160(key.publicKey));
    const address = publicKeyToAddress(key.publicKey, this.params);
    if (!this.#keys.has(id)) {
      this.#keys.set(id, key);
      this.#addresses.push(address);
    }
    return address;
  }

  addresses(): string[] {
    return [...this.#addresses];
  }

  /** The key that can spend `script` (P2PKH of one of our keys), if any. */
  keyFor(script: Uint8Array): PrivateKey | undefined {
    const t = classifyScript(script);
    if (t.type === 'p2pkh') return this.#keys.get(toHex(t.pubkeyHash));
    if (t.type === 'p2pk') return this.#keys.get(toHex(hash160(t.pubkey)));
    return undefined;
  }

  #spentInMempool(mempool: WalletMempoolView | undefined): Set<string> {
    const spent = new Set<string>();
    for (const tx of mempool?.transactions() ?? [])
      for (const input of tx.inputs) spent.add(outpointKey(input.prevout));
    return spent;
  }

  #ownedCoins(
    chain: Chain,
    mempool: WalletMempoolView | undefined,
  ): { spendable: OwnedCoin[]; immature: bigint } {
    const spent = this.#spentInMempool(mempool);
    const nextHeight = chain.height + 1;
    const spendable: OwnedCoin[] = [];
    let immature = 0n;
    for (const [outpoint, coin] of chain.coins()) {
      const key = this.keyFor(coin.output.scriptPubKey);
      if (key === undefined || spent.has(outpointKey(outpoint))) continue;
      // Like Bitcoin Core's wallet, one block more conservative than consensus: a coinbase is
      // spendable once 100 blocks are on top of it (so 101 blocks on regtest give 50 coins).
      if (coin.coinbase && nextHeight - coin.height <= this.params.coinbaseMaturity)
        immature += coin.output.value;
      else spendable.push({ outpoint, output: coin.output, key });
    }
    return { spendable, immature };
  }

  balance(chain: Chain, mempool?: WalletMempoolView): Balance {
    const { spendable, immature } = this.#ownedCoins(chain, mempool);
    const confirmed = spendable.reduce((sum, c) => sum + c.output.value, 0n);
    let unconfirmed = 0n;
    const spent = this.#spentInMempool(mempool);
    for (const tx of mempool?.transactions() ?? []) {
      const id = txid(tx);
      tx.outputs.forEach((o, index) => {
        if (
          this.keyFor(o.scriptPubKey) !== undefined &&
          !spent.has(outpointKey({ txid: id, index }))
        )
          unconfirmed += o.value;
      });
    }
    return { confirmed, immature, unconfirmed };
  }

  /** Builds and signs a payment of `amount` to `to`, with change back to this wallet. */
  createPayment(options: PaymentOptions): Transaction {
    const feeRate = options.feeRate ?? 1000n;
    if (options.amount <= 0n) throw new LedgerError('WALLET', 'amount must be positive');
    const toScript = addressToScript(options.to, this.params);
    const { spendable } = this.#ownedCoins(options.chain, options.mempool);
    spendable.sort((a, b) =>
      a.output.value > b.output.value ? -1 : a.output.value < b.output.value ? 1 : 0,
    );
    const chosen: OwnedCoin[] = [];
    let total = 0n;
    // Size of a legacy P2PKH spend: 10 fixed + 148 per input (72-byte signature) + 34 per output.
    const feeFor = (inputs: number, outputs: number): bigint =>
      (feeRate * BigInt(10 + 148 * inputs + 34 * outputs) + 999n) / 1000n;
    for (const coin of spendable) {
      chosen.push(coin);
      total += coin.output.value;
      if (total >= options.amount + feeFor(chosen.length, 2)) break;
    }
    const feeWithChange = feeFor(chosen.length, 2);
    const feeWithout = feeFor(chosen.length, 1);
    if (total < options.amount + feeWithout) {
      throw new LedgerError(
        'WALLET',
        `insufficient funds: have ${total} spendable, need ${options.amount + feeWithout}`,
      );
    }
    const outputs: TxOut[] = [{ value: options.amount, scriptPubKey: toScript }];
    const change = total - options.amount - feeWithChange;
    if (change >= DUST_LIMIT) {
      const changeScript =
        options.changeAddress !== undefined
          ? addressToScript(options.changeAddress, this.params)
          : addressToScript(this.newAddress(), this.params);
      outputs.push({ value: change, scriptPubKey: changeScript });
    }
    const tx: Transaction = {
      version: 2,
      inputs: chosen.map((c) => ({
        prevout: c.outpoint,
        scriptSig: new Uint8Array(0),
        sequence: 0xffffffff,
        witness: [],
      })),
      outputs,
      lockTime: 0,
    };
    chosen.forEach((coin, i) => {
      const input = tx.inputs[i];
      if (input !== undefined)
        input.scriptSig = signInput(tx, i, coin.output.scriptPubKey, coin.key);
    });
    return tx;
  }
}

/**
 * The scriptSig spending a P2PKH (`<sig> <pubkey>`) or P2PK (`<sig>`) output with SIGHASH_ALL
 * (developer reference devguide/transactions.rst "P2PKH Script Validation").
 */
export function signInput(
  tx: Transaction,
  index: number,
  scriptPubKey: Uint8Array,
  key: PrivateKey,
  hashType = SIGHASH_ALL,
): Uint8Array {
  const digest = legacySighash(tx, index, scriptPubKey, hashType);
  if (digest.preimageSha256 === undefined)
    throw new LedgerError('WALLET', 'refusing to sign the SIGHASH_SINGLE "1" quirk');
  const sig = new Uint8Array([...key.sign(digest.preimageSha256), hashType]);
  const t = classifyScript(scriptPubKey);
  if (t.type === 'p2pk') return pushData(sig);
  return new Uint8Array([...pushData(sig), ...pushData(key.publicKey)]);
}
