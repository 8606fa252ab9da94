/**
 * The chain state of the active chain: the UTXO set, the undo data of every connected block
 * and the txid index (Core's chainstate, rev*.dat files and -txindex). The chain decides which
 * blocks to connect; this applies their changes and reverts them on a reorganisation.
 */
import { toHex } from '../hash';
import type { Block } from '../primitives/block';
import type { IndexNode } from './block-index';
import type { Coin, CoinView } from './coins';
import { type BlockUndo, type ConnectResult, disconnectBlock } from './connect';

export class UtxoSet implements CoinView {
  readonly #coins = new Map<string, Coin>();
  readonly #undo = new Map<string, BlockUndo>();
  readonly #txIndex = new Map<string, IndexNode>();

  getCoin(key: string): Coin | undefined {
    return this.#coins.get(key);
  }

  /** The number of unspent outputs. */
  get size(): number {
    return this.#coins.size;
  }

  /** Every unspent output by outpoint key. */
  entries(): IterableIterator<[string, Coin]> {
    return this.#coins.entries();
  }

  /** The active-chain block holding the transaction with txid `id` (hex), if any. */
  blockOfTx(idHex: string): IndexNode | undefined {
    return this.#txIndex.get(idHex);
  }

  /** Applies a checked block's changes (ConnectBlock), keeping its undo data. */
  connect(node: IndexNode, txids: Uint8Array[], result: ConnectResult): void {
    this.#apply(result.changes);
    this.#undo.set(node.key, result.undo);
    for (const id of txids) this.#txIndex.set(toHex(id), node);
  }

  /** The undo data of a connected block, if it has any. */
  undoOf(node: IndexNode): BlockUndo | undefined {
    return this.#undo.get(node.key);
  }

  /** Reverts the tip block `block` of `node` with its undo data (DisconnectBlock). */
  disconnect(node: IndexNode, block: Block, txids: Uint8Array[], undo: BlockUndo): void {
    this.#apply(disconnectBlock(block, txids, undo));
    for (const id of txids) this.#txIndex.delete(toHex(id));
    this.#undo.delete(node.key);
  }

  #apply(changes: Map<string, Coin | null>): void {
    for (const [k, coin] of changes) {
      if (coin === null) this.#coins.delete(k);
      else this.#coins.set(k, coin);
    }
  }
}
