// @peerkit/ledger — the public surface. ledger-core's exports first; ledger-net's block below.

export { MAX_COMPACT_SIZE, Reader } from './encoding/reader';
export { compactSizeLength, Writer } from './encoding/writer';
export { isLedgerError, LedgerError, type LedgerErrorCode } from './errors';
export { bytesEqual, fromHex, hash160, hash256, hashFromHex, hashToHex, sha256, toHex } from './hash';
export { COIN, type ChainParams, REGTEST } from './params';
export {
  BLOCK_HEADER_SIZE,
  type Block,
  type BlockHeader,
  blockHash,
  blockSize,
  blockWeight,
  decodeBlock,
  decodeBlockHeader,
  encodeBlock,
  encodeBlockHeader,
  merkleRoot,
  readBlock,
  readBlockHeader,
  writeBlock,
  writeBlockHeader,
} from './primitives/block';
export {
  baseSize,
  decodeTransaction,
  encodeTransaction,
  hasWitness,
  isCoinbase,
  type OutPoint,
  readTransaction,
  type Transaction,
  totalSize,
  type TxIn,
  type TxOut,
  txid,
  txVsize,
  txWeight,
  writeTransaction,
  wtxid,
} from './primitives/transaction';

// ---- ledger-net exports (src/p2p, src/node.ts) go below this line ----
export {
  type LedgerNodeOptions,
  LedgerNode,
  type NodeEvents,
  type PeerSummary,
} from './node';
export { AddressBook, BanList } from './p2p/address-book';
export { BlockDownload, type BlockDownloadOptions, type WantedBlock } from './p2p/block-download';
export {
  buildCompactBlock,
  finishReconstruction,
  type PartialBlock,
  startReconstruction,
} from './p2p/compact-block';
export * as p2pConstants from './p2p/constants';
export {
  checksum,
  decodeCommand,
  encodeCommand,
  encodeMessage,
  MessageDecoder,
  type MessageDecoderOptions,
  type RawMessage,
} from './p2p/envelope';
export { decodePayload, encodePayload, KNOWN_COMMANDS } from './p2p/messages/codec';
export { bytesToIp, ipToBytes, type NetAddress, type TimedNetAddress } from './p2p/messages/net-address';
export type {
  BlockTxn,
  BlockTxnRequest,
  Command,
  CompactBlock,
  EmptyCommand,
  InvVector,
  Message,
  MessageOf,
  PrefilledTransaction,
  VersionMessage,
} from './p2p/messages/types';
export { BAN_THRESHOLD, Peer, type PeerEvents, type PeerInfo, type PeerOptions, type PeerState } from './p2p/peer';
export type { BlockResult, ChainEntry, MempoolResult, NodeChain, NodeMempool } from './p2p/ports';
export { shortId, shortIdKeys, type ShortIdKeys } from './p2p/short-ids';
export { siphash24 } from './p2p/siphash';
