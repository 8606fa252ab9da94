/**
 * A CPU miner for regtest (what `generatetoaddress` does in Bitcoin Core):
 * - a block template on the chain's tip: the coinbase (BIP 34 height first in its scriptSig,
 *   paying subsidy + fees, with the BIP 141 witness commitment as Core always adds it), then
 *   mempool transactions by fee rate, parents before children, under the weight limit;
 * - a nonce search until the header hash meets nBits (on regtest about every second try).
 */

import type { Chain } from '../chain/chain';
import { witnessCommitment } from '../consensus/block-checks';
import { checkProofOfWork } from '../consensus/pow';
import { blockSubsidy } from '../consensus/subsidy';
import { type Block, blockHash, merkleRoot } from '../primitives/block';
import { type Transaction, txid } from '../primitives/transaction';
import { pushData, pushNumber } from '../script/script';

/** What the miner needs from a mempool (Mempool implements it). */
export interface TemplateSource {
  selectForBlock(maxWeight: number): { tx: Transaction; fee: bigint }[];
}

export interface BlockTemplate {
  /** The block with nonce 0; `mineBlock` searches the nonce. */
  block: Block;
  height: number;
  fees: bigint;
  subsidy: bigint;
}

/** Weight kept free for the header, the transaction count and the coinbase. */
const COINBASE_RESERVE = 4_000;
const WITNESS_RESERVED_VALUE = new Uint8Array(32);

export interface TemplateOptions {
  chain: Chain;
  mempool?: TemplateSource;
  /** The coinbase's output script (e.g. addressToScript(address)). */
  coinbaseScript: Uint8Array;
  /** Header time (default: the chain's network time, at least median time past + 1). */
  time?: number;
  /** Varies the coinbase (and so the merkle root) when a nonce range is exhausted. */
  extraNonce?: number;
}

export function createBlockTemplate(options: TemplateOptions): BlockTemplate {
  const { chain } = options;
  const next = chain.nextBlockTarget();
  const selected =
    options.mempool?.selectForBlock(chain.params.maxBlockWeight - COINBASE_RESERVE) ?? [];
  const fees = selected.reduce((sum, e) => sum + e.fee, 0n);
  const subsidy = blockSubsidy(next.height, chain.params);
  const extra = new Uint8Array(4);
  new DataView(extra.buffer).setUint32(0, options.extraNonce ?? 0, true);
  const coinbase: Transaction = {
    version: 2,
    inputs: [
      {
        prevout: { txid: new Uint8Array(32), index: 0xffffffff },
        // BIP 34: the height first, as CScript() << height; then an extra nonce.
        scriptSig: new Uint8Array([...pushNumber(next.height), ...pushData(extra)]),
        sequence: 0xffffffff,
        witness: [WITNESS_RESERVED_VALUE],
      },
    ],
    outputs: [{ value: subsidy + fees, scriptPubKey: options.coinbaseScript }],
    lockTime: 0,
  };
  const block: Block = {
    header: {
      version: 0x20000000,
      prevBlock: next.prevBlock,
      merkleRoot: new Uint8Array(32),
      time: Math.max(next.minTime, options.time ?? chain.now()),
      bits: next.bits,
      nonce: 0,
    },
    transactions: [coinbase, ...selected.map((e) => e.tx)],
  };
  // BIP 141 commitment: OP_RETURN 0x24 aa21a9ed ‖ hash256(witness root ‖ reserved value).
  const commitment = witnessCommitment(block, WITNESS_RESERVED_VALUE);
  coinbase.outputs.push({
    value: 0n,
    scriptPubKey: new Uint8Array([0x6a, 0x24, 0xaa, 0x21, 0xa9, 0xed, ...commitment]),
  });
  block.header.merkleRoot = merkleRoot(block.transactions.map(txid)).root;
  return { block, height: next.height, fees, subsidy };
}

/**
 * Searches nonces from the template's nonce upward until the header hash meets nBits.
 * Returns the solved block, or undefined after `maxTries` (then change extraNonce or time).
 */
export function mineBlock(template: BlockTemplate, maxTries = 0x100000000): Block | undefined {
  const header = { ...template.block.header };
  const powLimit = (1n << 256n) - 1n;
  for (let i = 0; i < maxTries && header.nonce <= 0xffffffff; i++) {
    if (checkProofOfWork(blockHash(header), header.bits, powLimit))
      return { header, transactions: template.block.transactions };
    header.nonce++;
  }
  return undefined;
}

/** Mempool side of generateBlocks: removal of the mined transactions. */
export interface MinedSink {
  blockConnected(block: Block): void;
}

/**
 * Mines `count` blocks on the tip paying `coinbaseScript` and connects them (Core's
 * generatetoaddress). Each block's transactions leave `mempool`.
 */
export async function generateBlocks(options: {
  chain: Chain;
  mempool?: TemplateSource & MinedSink;
  coinbaseScript: Uint8Array;
  count: number;
}): Promise<Block[]> {
  const blocks: Block[] = [];
  for (let i = 0; i < options.count; i++) {
    let block: Block | undefined;
    for (let extraNonce = 0; block === undefined; extraNonce++) {
      const template = createBlockTemplate({ ...options, extraNonce });
      block = mineBlock(template, 1_000_000);
    }
    await options.chain.acceptBlock(block);
    options.mempool?.blockConnected(block);
    blocks.push(block);
  }
  return blocks;
}
