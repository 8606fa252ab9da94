/**
 * What the P2P node needs from the chain and the mempool (ledger-contract.md). ledger-core's
 * `Chain` and `Mempool` satisfy these shapes; tests may pass anything that does.
 */
import type { Block, BlockHeader } from '../primitives/block';
import type { Transaction } from '../primitives/transaction';

export interface ChainEntry {
  hash: Uint8Array;
  height: number;
  header: BlockHeader;
  /** Cumulative proof of work up to and including this block. */
  work: bigint;
}

export interface BlockResult {
  /** connected: on the active chain now; stored: valid side-chain block; orphan: parent unknown. */
  status: 'connected' | 'stored' | 'orphan' | 'duplicate';
  /** Blocks connected to the active chain by this call (in order), after `disconnected` (tip first). */
  connected: Block[];
  disconnected: Block[];
}

export interface NodeChain {
  readonly tip: ChainEntry;
  readonly bestHeader: ChainEntry;
  getEntry(hash: Uint8Array): ChainEntry | undefined;
  /** Core's block locator from `hash` (default: the best header). */
  locator(hash?: Uint8Array): Uint8Array[];
  /** getheaders semantics on the active chain: after the first locator hash we know, up to `stop`. */
  headersAfter(locator: Uint8Array[], stop: Uint8Array, max: number): BlockHeader[];
  /** Throws LedgerError INVALID_HEADER (bad) or ORPHAN (the first does not connect). */
  acceptHeaders(headers: BlockHeader[]): { added: ChainEntry[] };
  /** Headers on the best-header chain whose block is missing, lowest first (bounded by `max`). */
  missingBlocks(max: number): ChainEntry[];
  /** Throws LedgerError INVALID_BLOCK (or INVALID_HEADER) for a block that breaks the rules. */
  acceptBlock(block: Block): Promise<BlockResult>;
  getBlock(hash: Uint8Array): Promise<Block | undefined>;
  hasBlock(hash: Uint8Array): boolean;
}

export interface MempoolResult {
  status: 'accepted' | 'orphan';
  /** For an orphan: txids of the inputs' transactions we lack. */
  missingParents?: Uint8Array[];
}

export interface NodeMempool {
  /** Throws LedgerError INVALID_TX (consensus), MEMPOOL (policy), DUPLICATE. */
  accept(tx: Transaction): MempoolResult | Promise<MempoolResult>;
  has(txid: Uint8Array): boolean;
  get(txid: Uint8Array): Transaction | undefined;
  transactions(): Iterable<Transaction>;
  /** Fee rate of a mempool transaction, satoshis per 1,000 (virtual) bytes. */
  feeRate(txid: Uint8Array): bigint;
  /** Removes the block's transactions and those conflicting with them. */
  blockConnected(block: Block): void;
  /** Re-adds the block's transactions (a reorg disconnected it). */
  blockDisconnected(block: Block): void | Promise<void>;
}
