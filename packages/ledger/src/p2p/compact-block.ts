/**
 * Building and rebuilding compact blocks (BIP 152, "Specification for version 1/2" and
 * "Implementation Notes"). The sender prefills the coinbase (it can never be in the receiver's
 * mempool) and sends short ids for the rest; the receiver fills what it can from its mempool,
 * asks for the rest with `getblocktxn`, and checks the merkle root of the result.
 */
import { LedgerError } from '../errors';
import { type Block, merkleRoot } from '../primitives/block';
import { type Transaction, txid, wtxid } from '../primitives/transaction';
import type { CompactBlock } from './messages/types';
import { shortId, shortIdKeys } from './short-ids';

/** The hash a compact-block version puts into short ids: txid (1) or wtxid (2). */
export function shortIdHash(tx: Transaction, version: bigint): Uint8Array {
  return version === 2n ? wtxid(tx) : txid(tx);
}

/** A compact block for `block`: the coinbase prefilled, every other transaction as a short id. */
export function buildCompactBlock(block: Block, nonce: bigint, version: bigint): CompactBlock {
  const keys = shortIdKeys(block.header, nonce);
  const [coinbase, ...rest] = block.transactions;
  if (!coinbase) throw new LedgerError('INVALID_BLOCK', 'block without transactions');
  return {
    header: block.header,
    nonce,
    prefilled: [{ index: 0, tx: coinbase }],
    shortIds: rest.map((tx) => shortId(keys, shortIdHash(tx, version))),
  };
}

/** A block being rebuilt: some slots filled, the indexes of the others missing. */
export interface PartialBlock {
  compact: CompactBlock;
  slots: (Transaction | undefined)[];
  missing: number[];
}

/**
 * Fills a compact block's slots from prefilled transactions and from `candidates` (the mempool).
 * Throws `LedgerError('PROTOCOL')` for a malformed compact block (duplicate short ids, a
 * prefilled index outside the block): BIP 152 lets the receiver treat such a peer as faulty.
 * Short ids matched by two candidates are left missing (asked for with getblocktxn).
 */
export function startReconstruction(
  compact: CompactBlock,
  candidates: Iterable<Transaction>,
  version: bigint,
): PartialBlock {
  const total = compact.shortIds.length + compact.prefilled.length;
  const slots: (Transaction | undefined)[] = new Array(total).fill(undefined);
  const isPrefilled = new Array<boolean>(total).fill(false);
  for (const p of compact.prefilled) {
    if (p.index >= total)
      throw new LedgerError('PROTOCOL', 'cmpctblock: prefilled index outside the block');
    slots[p.index] = p.tx;
    isPrefilled[p.index] = true;
  }
  // Map each short id to its slot; duplicates make the block unrebuildable from short ids.
  const slotOf = new Map<number, number>();
  let s = 0;
  for (const id of compact.shortIds) {
    while (isPrefilled[s]) s++;
    if (slotOf.has(id)) throw new LedgerError('PROTOCOL', 'cmpctblock: duplicate short ids');
    slotOf.set(id, s);
    s++;
  }
  const keys = shortIdKeys(compact.header, compact.nonce);
  const collided = new Set<number>();
  for (const tx of candidates) {
    const id = shortId(keys, shortIdHash(tx, version));
    const slot = slotOf.get(id);
    if (slot === undefined) continue;
    if (slots[slot] !== undefined) collided.add(slot);
    else slots[slot] = tx;
  }
  for (const slot of collided) slots[slot] = undefined;
  const missing: number[] = [];
  slots.forEach((tx, i) => {
    if (tx === undefined) missing.push(i);
  });
  return { compact, slots, missing };
}

/**
 * Completes `partial` with the transactions of a `blocktxn` (in the order of `missing`) and
 * returns the block, or `undefined` when the merkle root does not match (a short-id collision:
 * BIP 152 says to fall back to requesting the full block). Throws PROTOCOL for a wrong count.
 */
export function finishReconstruction(
  partial: PartialBlock,
  transactions: Transaction[],
): Block | undefined {
  if (transactions.length !== partial.missing.length) {
    throw new LedgerError(
      'PROTOCOL',
      `blocktxn: ${transactions.length} transactions for ${partial.missing.length} requested`,
    );
  }
  const slots = partial.slots.slice();
  partial.missing.forEach((index, i) => {
    slots[index] = transactions[i];
  });
  const txs = slots as Transaction[];
  const { root, mutated } = merkleRoot(txs.map(txid));
  const expected = partial.compact.header.merkleRoot;
  if (mutated || Buffer.compare(root, expected) !== 0) return undefined;
  return { header: partial.compact.header, transactions: txs };
}
