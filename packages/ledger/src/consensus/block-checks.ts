/**
 * Block and header rules (Core validation.cpp CheckBlockHeader, CheckBlock,
 * ContextualCheckBlockHeader, ContextualCheckBlock), restricted to the subset in the README.
 * Each failure throws a LedgerError whose message starts with Core's reject reason.
 */
import { compactSizeLength } from '../encoding/writer';
import { LedgerError } from '../errors';
import { bytesEqual, hash256 } from '../hash';
import type { ChainParams } from '../params';
import {
  type Block,
  type BlockHeader,
  blockHash,
  blockWeight,
  merkleRoot,
} from '../primitives/block';
import { baseSize, hasWitness, isCoinbase, txid, wtxid } from '../primitives/transaction';
import { legacySigOpCount, pushNumber } from '../script/script';
import { checkProofOfWork } from './pow';
import { checkTransaction, isFinalTx } from './tx-checks';

/** MAX_BLOCK_SIGOPS_COST (BIP 141; Core consensus/consensus.h). */
export const MAX_BLOCK_SIGOPS_COST = 80_000;

function badHeader(reason: string): never {
  throw new LedgerError('INVALID_HEADER', reason);
}
function badBlock(reason: string): never {
  throw new LedgerError('INVALID_BLOCK', reason);
}

/** What a header is checked against: its parent in the block index. */
export interface HeaderContext {
  /** Height of the new block. */
  height: number;
  /** nBits of the parent. */
  parentBits: number;
  /** Median time past of the parent (the median of its and its 10 ancestors' times). */
  parentMedianTimePast: number;
}

/** CheckBlockHeader: the hash meets the target nBits encodes, and that target is ≤ powLimit. */
export function checkBlockHeader(
  header: BlockHeader,
  params: ChainParams,
  hash = blockHash(header),
): void {
  if (!checkProofOfWork(hash, header.bits, params.powLimit))
    badHeader('high-hash: proof of work failed');
}

/**
 * ContextualCheckBlockHeader:
 * - nBits equals the parent's (regtest: fPowNoRetargeting, so the target never changes);
 * - time is greater than the median time past of the last 11 blocks;
 * - time is at most 2 hours ahead of the network-adjusted time `now` (seconds);
 * - version ≥ 2, 3, 4 once BIP 34, 66, 65 are active (BIP 90 buried deployments).
 */
export function contextualCheckBlockHeader(
  header: BlockHeader,
  ctx: HeaderContext,
  params: ChainParams,
  now: number,
): void {
  if (params.noRetargeting && header.bits !== ctx.parentBits)
    badHeader('bad-diffbits: incorrect proof of work');
  if (header.time <= ctx.parentMedianTimePast) badHeader('time-too-old: block timestamp too early');
  if (header.time > now + params.maxFutureBlockTime)
    badHeader('time-too-new: block timestamp too far in the future');
  if (
    (header.version < 2 && ctx.height >= params.bip34Height) ||
    (header.version < 3 && ctx.height >= params.bip66Height) ||
    (header.version < 4 && ctx.height >= params.bip65Height)
  ) {
    badHeader(`bad-version(0x${(header.version >>> 0).toString(16)}): rejected nVersion block`);
  }
}

/**
 * CheckBlock (context-free): the header's proof of work, the merkle root (and the
 * CVE-2012-2459 duplicate-subtree check), the size limits, exactly one coinbase (first), the
 * legacy sigop limit, and CheckTransaction for every transaction. Returns the txids, which the caller reuses.
 * Failures that another transaction list (or other witness data) under the same header could
 * avoid end in "(mutated)": such a block must not mark its header invalid (Core's
 * BLOCK_MUTATED), or anyone could get a valid block refused by sending a mangled copy first.
 */
export function checkBlock(block: Block, params: ChainParams): { txids: Uint8Array[] } {
  checkBlockHeader(block.header, params);
  const txids = block.transactions.map(txid);
  const { root, mutated } = merkleRoot(txids);
  if (!bytesEqual(root, block.header.merkleRoot))
    badBlock('bad-txnmrklroot: hashMerkleRoot mismatch (mutated)');
  if (mutated) badBlock('bad-txns-duplicate: duplicate transaction (mutated)');
  // Size limits (BIP 141): the stripped block must fit 1/4 of the weight limit, the whole block the weight limit.
  if (block.transactions.length === 0 || block.transactions.length * 4 > params.maxBlockWeight)
    badBlock('bad-blk-length: size limits failed');
  let strippedSize = 80 + compactSizeLength(block.transactions.length);
  for (const tx of block.transactions) strippedSize += baseSize(tx);
  if (strippedSize * 4 > params.maxBlockWeight) badBlock('bad-blk-length: size limits failed');
  const [first, ...rest] = block.transactions;
  if (first === undefined || !isCoinbase(first))
    badBlock('bad-cb-missing: first tx is not coinbase');
  if (rest.some(isCoinbase)) badBlock('bad-cb-multiple: more than one coinbase');
  // The legacy signature-operation limit: MAX_BLOCK_SIGOPS_COST (80,000) at 4 per legacy sigop.
  let sigOps = 0;
  for (const tx of block.transactions) {
    for (const input of tx.inputs) sigOps += legacySigOpCount(input.scriptSig);
    for (const output of tx.outputs) sigOps += legacySigOpCount(output.scriptPubKey);
  }
  if (sigOps * 4 > MAX_BLOCK_SIGOPS_COST) badBlock('bad-blk-sigops: out-of-bounds SigOpCount');
  for (const tx of block.transactions) {
    try {
      checkTransaction(tx, params);
    } catch (e) {
      if (e instanceof LedgerError) badBlock(`${e.message}: transaction check failed`);
      throw e;
    }
  }
  return { txids };
}

/** BIP 141 witness commitment output: OP_RETURN, push 36 bytes, aa21a9ed, 32-byte commitment. */
const WITNESS_COMMITMENT_HEADER = new Uint8Array([0x6a, 0x24, 0xaa, 0x21, 0xa9, 0xed]);

/** Index of the coinbase output holding the witness commitment (the last matching one), or -1. */
export function witnessCommitmentIndex(block: Block): number {
  const coinbase = block.transactions[0];
  if (coinbase === undefined) return -1;
  let found = -1;
  coinbase.outputs.forEach((output, i) => {
    const s = output.scriptPubKey;
    if (s.length >= 38 && WITNESS_COMMITMENT_HEADER.every((b, j) => s[j] === b)) found = i;
  });
  return found;
}

/** BIP 141: hash256(witness merkle root ‖ witness reserved value), the coinbase's wtxid taken as zero. */
export function witnessCommitment(
  block: Block,
  reservedValue: Uint8Array,
  txids?: Uint8Array[],
): Uint8Array {
  // A transaction without witness data has wtxid = txid: reuse the txids when given.
  const wtxids = block.transactions.map((tx, i) =>
    i === 0
      ? new Uint8Array(32)
      : txids?.[i] !== undefined && !hasWitness(tx)
        ? (txids[i] as Uint8Array)
        : wtxid(tx),
  );
  const { root } = merkleRoot(wtxids);
  return hash256(new Uint8Array([...root, ...reservedValue]));
}

/**
 * ContextualCheckBlock:
 * - every transaction is final at this height and the parent's median time past;
 * - BIP 34: the coinbase scriptSig starts with the height, pushed as CScript() << height does;
 * - BIP 141: with a witness commitment, the coinbase witness is one 32-byte reserved value
 *   and the commitment matches; without one, no transaction may carry witness data;
 * - the block weight is at most MAX_BLOCK_WEIGHT.
 */
export function contextualCheckBlock(
  block: Block,
  ctx: HeaderContext,
  params: ChainParams,
  txids?: Uint8Array[],
): void {
  for (const tx of block.transactions) {
    if (!isFinalTx(tx, ctx.height, ctx.parentMedianTimePast))
      badBlock('bad-txns-nonfinal: non-final transaction');
  }
  const coinbase = block.transactions[0];
  if (coinbase === undefined) badBlock('bad-cb-missing: first tx is not coinbase');
  if (ctx.height >= params.bip34Height) {
    const expected = pushNumber(ctx.height);
    const scriptSig = coinbase.inputs[0]?.scriptSig ?? new Uint8Array(0);
    if (scriptSig.length < expected.length || !expected.every((b, i) => scriptSig[i] === b)) {
      badBlock('bad-cb-height: block height mismatch in coinbase');
    }
  }
  const commitmentAt = ctx.height >= params.segwitHeight ? witnessCommitmentIndex(block) : -1;
  if (commitmentAt >= 0) {
    const witness = coinbase.inputs[0]?.witness ?? [];
    const reserved = witness[0];
    if (witness.length !== 1 || reserved === undefined || reserved.length !== 32) {
      badBlock('bad-witness-nonce-size: invalid witness reserved value size (mutated)');
    }
    const committed =
      coinbase.outputs[commitmentAt]?.scriptPubKey.subarray(6, 38) ?? new Uint8Array(0);
    if (!bytesEqual(committed, witnessCommitment(block, reserved, txids)))
      badBlock('bad-witness-merkle-match: witness merkle commitment mismatch (mutated)');
  } else if (block.transactions.some(hasWitness)) {
    badBlock('unexpected-witness: unexpected witness data found (mutated)');
  }
  if (blockWeight(block) > params.maxBlockWeight) badBlock('bad-blk-weight: weight limit failed');
}
