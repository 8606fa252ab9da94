/**
 * @peerkit/kademlia: a Kademlia DHT speaking Mainline KRPC (BEP 5, 32, 42, 43, 44, 51) over any
 * transport `Network` (real UDP or netsim).
 */
export { bep42Hash, isValidNodeIdForIp, isVerifiedNode, nodeIdForIp } from './bep42';
export {
  checkItem,
  createMutableItem,
  decodeValue,
  encodeValue,
  generateKeyPair,
  type Item,
  immutableTarget,
  itemTarget,
  type KeyPair,
  MAX_SALT_BYTES,
  MAX_VALUE_BYTES,
  mutableTarget,
  publicKeyFromSecret,
  signatureBuffer,
  signMutable,
  verifyMutable,
} from './bep44';
export {
  DEFAULT_SAMPLE_INTERVAL_S,
  type InfohashSample,
  InfohashSampler,
  MAX_SAMPLE_INTERVAL_S,
  readSampleResponse,
  type SampleInfohashesResult,
} from './bep51';
export { type BootstrapNode, type BootstrapNodeOptions, runBootstrapNode } from './bootstrap-node';
export {
  type Contact,
  decodeCompactNodes,
  decodeCompactPeer,
  encodeCompactNodes,
  encodeCompactPeer,
  type IpFamily,
} from './compact';
export { crc32c } from './crc32c';
export {
  DEFAULT_ALPHA,
  DEFAULT_QUERY_TIMEOUT_MS,
  DEFAULT_REFRESH_CHECK_MS,
} from './defaults';
export {
  type AnnounceOptions,
  DHT,
  type DHTEvents,
  type DHTOptions,
  type IdEvent,
  type ListenOptions,
  type LookupEvent,
  type LookupMethod,
  type LookupOptions,
  type LookupResult,
  type LookupStats,
  type NodeEvent,
  type PeerEvent,
} from './dht';
export { DHTError, type DHTErrorCode, isDHTError } from './errors';
export { isLocalAddress } from './ip';
export {
  DEFAULT_MAX_MESSAGE_BYTES,
  type DecodeMessageOptions,
  decodeMessage,
  encodeMessage,
  KRPC_ERROR,
  type KrpcErrorMessage,
  type KrpcMessage,
  type KrpcQuery,
  type KrpcResponse,
  type QueryArguments,
  type ResponseValues,
  SAMPLE_BYTES,
} from './krpc';
export {
  type Candidate,
  type CandidateState,
  Lookup,
  type LookupOptions as LookupStateOptions,
} from './lookup';
export {
  commonPrefixLength,
  compareDistance,
  fromHex,
  ID_BITS,
  ID_LENGTH,
  idEquals,
  isNodeId,
  type NodeId,
  randomId,
  randomIdInBucket,
  toHex,
  toNodeId,
  xor,
} from './node-id';
export { type DHTState, loadState, parseState, saveState } from './persistence';
export {
  BUCKET_REFRESH_MS,
  DEFAULT_K,
  GOOD_NODE_MS,
  type NodeStatus,
  type ObserveResult,
  RoutingTable,
  type RoutingTableOptions,
  type TableNode,
} from './routing-table';
export type { RpcOptions, RpcStats } from './rpc';
export { MAX_RESPONSE_BYTES } from './server';
export { ITEM_TTL_MS, PEER_TTL_MS, Store, type StoreLimits } from './store';
export { TokenManager } from './token';
