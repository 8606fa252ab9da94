/**
 * Every P2P message peerkit speaks, as a discriminated union on `command` (developer
 * reference, "P2P Network: Protocol Messages"; BIP 130, 133, 152, 155, 339).
 */
import type { Block, BlockHeader } from '../../primitives/block';
import type { Transaction } from '../../primitives/transaction';
import type { NetAddress, TimedNetAddress } from './net-address';

/** An inventory vector: a type (MSG_TX, MSG_BLOCK, ...) and a 32-byte hash in internal order. */
export interface InvVector {
  type: number;
  hash: Uint8Array;
}

/** BIP 152 PrefilledTransaction with its absolute index in the block. */
export interface PrefilledTransaction {
  index: number;
  tx: Transaction;
}

/** BIP 152 HeaderAndShortIDs. Short ids are 48-bit integers (exact in a JS number). */
export interface CompactBlock {
  header: BlockHeader;
  nonce: bigint;
  shortIds: number[];
  prefilled: PrefilledTransaction[];
}

/** BIP 152 BlockTransactionsRequest, with absolute (not differential) indexes. */
export interface BlockTxnRequest {
  blockHash: Uint8Array;
  indexes: number[];
}

/** BIP 152 BlockTransactions. */
export interface BlockTxn {
  blockHash: Uint8Array;
  transactions: Transaction[];
}

export interface VersionMessage {
  command: 'version';
  version: number;
  services: bigint;
  /** Unix seconds. */
  timestamp: bigint;
  receiver: NetAddress;
  sender: NetAddress;
  nonce: bigint;
  userAgent: string;
  startHeight: number;
  /** BIP 37: false asks the peer not to relay transactions until a filter is set. */
  relay: boolean;
}

/** Messages without a payload. */
export type EmptyCommand =
  | 'verack'
  | 'sendheaders'
  | 'getaddr'
  | 'mempool'
  | 'wtxidrelay'
  | 'sendaddrv2';

export type Message =
  | VersionMessage
  | { command: EmptyCommand }
  | { command: 'ping'; nonce: bigint }
  | { command: 'pong'; nonce: bigint }
  | { command: 'addr'; addresses: TimedNetAddress[] }
  | { command: 'inv' | 'getdata' | 'notfound'; inventory: InvVector[] }
  | {
      command: 'getheaders' | 'getblocks';
      version: number;
      locator: Uint8Array[];
      stop: Uint8Array;
    }
  | { command: 'headers'; headers: BlockHeader[] }
  /** `witness` chooses the BIP 144 serialization when encoding; on decode it says whether any tx had one. */
  | { command: 'block'; block: Block; witness: boolean }
  | { command: 'tx'; tx: Transaction; witness: boolean }
  /** BIP 133: minimum fee rate in satoshis per 1,000 bytes. */
  | { command: 'feefilter'; feeRate: bigint }
  /** BIP 152: announce = high-bandwidth mode; version 1 (txid) or 2 (wtxid, witness). */
  | { command: 'sendcmpct'; announce: boolean; version: bigint }
  | { command: 'cmpctblock'; compact: CompactBlock; witness: boolean }
  | { command: 'getblocktxn'; request: BlockTxnRequest }
  | { command: 'blocktxn'; response: BlockTxn; witness: boolean };

export type Command = Message['command'];
/** The message with command `C`. */
export type MessageOf<C extends Command> = Message extends infer M
  ? M extends { command: infer K }
    ? C extends K
      ? M & { command: C }
      : never
    : never
  : never;
