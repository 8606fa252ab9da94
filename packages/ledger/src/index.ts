// @peerkit/ledger — the public surface, one list sorted by module path (biome's organizeImports
// merges any separate blocks). ledger-net's exports are those from ./node and ./p2p/*;
// everything else is ledger-core's.

export type { BlockIndexEntry, BlockStatus } from './chain/block-index';
export { Chain, type ChainEvents, type ChainOptions, unixTimeFrom } from './chain/chain';
export { type Coin, isUnspendable } from './chain/coins';
export type { UnsupportedScriptPolicy } from './chain/connect';
export { openFileChainStore } from './chain/file-store';
export { type ChainStore, MemoryChainStore } from './chain/store';
export {
  checkBlock,
  checkBlockHeader,
  contextualCheckBlock,
  contextualCheckBlockHeader,
  type HeaderContext,
  witnessCommitment,
} from './consensus/block-checks';
export { blockProof, checkProofOfWork, compactToTarget, targetToCompact } from './consensus/pow';
export { blockSubsidy } from './consensus/subsidy';
export { checkTransaction, isFinalTx } from './consensus/tx-checks';
export { base58checkDecode, base58checkEncode } from './crypto/base58';
export { isLowS, isValidSignatureEncoding } from './crypto/der';
export { PrivateKey, verifySignature } from './crypto/ecdsa';
export { MAX_COMPACT_SIZE, Reader } from './encoding/reader';
export { compactSizeLength, Writer } from './encoding/writer';
export { isLedgerError, LedgerError, type LedgerErrorCode } from './errors';
export {
  bytesEqual,
  fromHex,
  hash160,
  hash256,
  hashFromHex,
  hashToHex,
  sha256,
  toHex,
} from './hash';
export {
  Mempool,
  type MempoolEntry,
  type MempoolEvents,
  type MempoolOptions,
  type RemovalReason,
} from './mempool/mempool';
export {
  type BlockTemplate,
  createBlockTemplate,
  generateBlocks,
  mineBlock,
  type TemplateOptions,
} from './mining/miner';
export {
  LedgerNode,
  type LedgerNodeOptions,
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
export {
  bytesToIp,
  ipToBytes,
  type NetAddress,
  type TimedNetAddress,
} from './p2p/messages/net-address';
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
export {
  BAN_THRESHOLD,
  Peer,
  type PeerEvents,
  type PeerInfo,
  type PeerOptions,
  type PeerState,
} from './p2p/peer';
export type { BlockResult, ChainEntry, MempoolResult, NodeChain, NodeMempool } from './p2p/ports';
export { type ShortIdKeys, shortId, shortIdKeys } from './p2p/short-ids';
export { siphash24 } from './p2p/siphash';
export { type ChainParams, COIN, REGTEST } from './params';
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
  type TxIn,
  type TxOut,
  totalSize,
  txid,
  txVsize,
  txWeight,
  writeTransaction,
  wtxid,
} from './primitives/transaction';
export {
  CONSENSUS_FLAGS,
  type ScriptErrorCode,
  type ScriptFlags,
  type ScriptResult,
  STANDARD_FLAGS,
  verifyScript,
} from './script/interpreter';
export { classifyScript, p2pkhScript, p2pkScript, type ScriptTemplate } from './script/script';
export { legacySighash, type SignatureDigest } from './script/sighash';
export {
  addressToScript,
  decodeWif,
  encodeWif,
  publicKeyToAddress,
  scriptToAddress,
} from './wallet/address';
export { type Balance, type PaymentOptions, signInput, Wallet } from './wallet/wallet';
