/**
 * Connecting a block to the UTXO set and disconnecting it with its undo data (Core
 * validation.cpp ConnectBlock / DisconnectBlock, Consensus::CheckTxInputs):
 * - every input spends an existing unspent output (no double spends, in or across blocks);
 * - a coinbase output is spent only after COINBASE_MATURITY (100) blocks;
 * - input and output values are in range and inputs ≥ outputs; the difference is the fee;
 * - the coinbase pays at most subsidy + fees;
 * - every input's script verifies (the subset: P2PKH and P2PK; others per `unsupportedScripts`).
 * The block is checked completely against an overlay before anything changes, so a failing
 * block leaves the UTXO set as it was.
 */

import { blockSubsidy } from '../consensus/subsidy';
import { LedgerError } from '../errors';
import type { ChainParams } from '../params';
import type { Block } from '../primitives/block';
import { isCoinbase, type Transaction } from '../primitives/transaction';
import { CONSENSUS_FLAGS, type ScriptFlags, verifyScript } from '../script/interpreter';
import { classifyScript } from '../script/script';
import { type Coin, type CoinView, isUnspendable, outpointKey } from './coins';

/** What happens to an input spending a script outside the subset (README "Other scripts"). */
export type UnsupportedScriptPolicy = 'accept' | 'reject';

/** The coins a block spent, in spending order: enough to undo it. */
export type BlockUndo = Coin[];

export interface ConnectOptions {
  params: ChainParams;
  height: number;
  verifyScripts: boolean;
  unsupportedScripts: UnsupportedScriptPolicy;
  flags?: ScriptFlags;
}

export interface ConnectResult {
  undo: BlockUndo;
  fees: bigint;
  /** Inputs accepted without script verification (outside the subset, policy 'accept'). */
  unverifiedInputs: number;
  /** Changes to apply to the UTXO set: a coin to add, or null to delete. */
  changes: Map<string, Coin | null>;
}

function bad(reason: string): never {
  throw new LedgerError('INVALID_BLOCK', reason);
}

/**
 * Checks one transaction's inputs against `view` (CheckTxInputs + script checks) and returns
 * its fee. Shared by block connection and the mempool (which passes its own flags/policy).
 */
export function checkTxInputs(
  tx: Transaction,
  view: CoinView,
  options: {
    params: ChainParams;
    spendHeight: number;
    verifyScripts: boolean;
    unsupportedScripts: UnsupportedScriptPolicy;
    flags: ScriptFlags;
    code: 'INVALID_BLOCK' | 'INVALID_TX';
  },
): { fee: bigint; spent: Coin[]; unverified: number } {
  function fail(reason: string): never {
    throw new LedgerError(options.code, reason);
  }
  let valueIn = 0n;
  const spent: Coin[] = [];
  let unverified = 0;
  for (const [i, input] of tx.inputs.entries()) {
    const coin = view.getCoin(outpointKey(input.prevout));
    if (coin === undefined) fail('bad-txns-inputs-missingorspent: input missing or already spent');
    if (coin.coinbase && options.spendHeight - coin.height < options.params.coinbaseMaturity) {
      fail('bad-txns-premature-spend-of-coinbase: coinbase output spent before maturity');
    }
    valueIn += coin.output.value;
    if (
      coin.output.value < 0n ||
      coin.output.value > options.params.maxMoney ||
      valueIn > options.params.maxMoney
    ) {
      fail('bad-txns-inputvalues-outofrange: input values out of range');
    }
    spent.push(coin);
    if (!options.verifyScripts) continue;
    const template = classifyScript(coin.output.scriptPubKey);
    if (template.type === 'other') {
      if (options.unsupportedScripts === 'reject')
        fail('unsupported-script: spends a script outside the verified subset');
      unverified++;
      continue;
    }
    // BIP 141: a legacy (non-witness) output must be spent without witness data.
    if (input.witness.length > 0)
      fail(`mandatory-script-verify-flag-failed (WITNESS_UNEXPECTED): input ${i}`);
    const result = verifyScript(
      input.scriptSig,
      coin.output.scriptPubKey,
      { tx, inputIndex: i },
      options.flags,
    );
    if (!result.ok) fail(`mandatory-script-verify-flag-failed (${result.error}): input ${i}`);
  }
  const valueOut = tx.outputs.reduce((sum, o) => sum + o.value, 0n);
  if (valueIn < valueOut) fail('bad-txns-in-belowout: value in below value out');
  return { fee: valueIn - valueOut, spent, unverified };
}

/** Validates `block` at `options.height` against `base` and returns the changes and undo data. */
export function connectBlock(
  block: Block,
  txids: Uint8Array[],
  base: CoinView,
  options: ConnectOptions,
): ConnectResult {
  const changes = new Map<string, Coin | null>();
  const view: CoinView = {
    getCoin: (key) => {
      const c = changes.get(key);
      return c === null ? undefined : (c ?? base.getCoin(key));
    },
  };
  const undo: BlockUndo = [];
  let fees = 0n;
  let unverifiedInputs = 0;
  for (const [t, tx] of block.transactions.entries()) {
    const id = txids[t] as Uint8Array;
    if (!isCoinbase(tx)) {
      const { fee, spent, unverified } = checkTxInputs(tx, view, {
        params: options.params,
        spendHeight: options.height,
        verifyScripts: options.verifyScripts,
        unsupportedScripts: options.unsupportedScripts,
        flags: options.flags ?? CONSENSUS_FLAGS,
        code: 'INVALID_BLOCK',
      });
      fees += fee;
      unverifiedInputs += unverified;
      undo.push(...spent);
      for (const input of tx.inputs) changes.set(outpointKey(input.prevout), null);
    }
    for (const [index, output] of tx.outputs.entries()) {
      if (isUnspendable(output.scriptPubKey)) continue;
      changes.set(outpointKey({ txid: id, index }), {
        output,
        height: options.height,
        coinbase: t === 0,
      });
    }
  }
  const coinbase = block.transactions[0] as Transaction;
  const paid = coinbase.outputs.reduce((sum, o) => sum + o.value, 0n);
  if (paid > blockSubsidy(options.height, options.params) + fees)
    bad('bad-cb-amount: coinbase pays too much');
  return { undo, fees, unverifiedInputs, changes };
}

/**
 * The changes that undo a connected block: its outputs removed, the coins it spent restored
 * (from the undo data, in reverse order).
 */
export function disconnectBlock(
  block: Block,
  txids: Uint8Array[],
  undo: BlockUndo,
): Map<string, Coin | null> {
  const changes = new Map<string, Coin | null>();
  let u = undo.length;
  for (let t = block.transactions.length - 1; t >= 0; t--) {
    const tx = block.transactions[t] as Transaction;
    const id = txids[t] as Uint8Array;
    for (let index = 0; index < tx.outputs.length; index++)
      changes.set(outpointKey({ txid: id, index }), null);
    if (t === 0) continue;
    for (let i = tx.inputs.length - 1; i >= 0; i--) {
      const coin = undo[--u];
      const input = tx.inputs[i];
      if (coin === undefined || input === undefined)
        throw new LedgerError('STORAGE', 'undo data does not match the block');
      changes.set(outpointKey(input.prevout), coin);
    }
  }
  return changes;
}
