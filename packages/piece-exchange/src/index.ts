/**
 * `@peerkit/piece-exchange`: the stable public surface (README "Public API"). Everything not
 * named here is internal and may change without notice; `./testing` (arbitraries, compliance
 * suites) and `./conformance` (rules against a live peer) are separate entries.
 */

// --- pure policies, for study and reuse -----------------------------------------------------
export { Bitfield, byteLengthFor } from './bitfield';
export {
  type ChokerPeer,
  type ChokerState,
  initialChokerState,
  NEW_PEER_MS,
  OPTIMISTIC_INTERVAL_MS,
  RECHOKE_INTERVAL_MS,
  REGULAR_UNCHOKE_SLOTS,
  type RechokeInput,
  type RechokeResult,
  rechoke,
} from './choker';
// Many torrents in one process: one port, shared connection/slot/rate/disk limits, one tick.
export {
  CLIENT_DEFAULTS,
  type ClientTorrentOptions,
  TorrentClient,
  type TorrentClientEvents,
  type TorrentClientOptions,
  type TorrentClientStats,
} from './client';
export {
  allocateUploadSlots,
  ConnectionBudget,
  capUnchoked,
  UploadSlots,
} from './client/limits';
// --- errors --------------------------------------------------------------------------------
export {
  isPieceExchangeError,
  MagnetError,
  type MagnetErrorCode,
  MetainfoError,
  type MetainfoErrorCode,
  PieceExchangeError,
  WireError,
  type WireErrorCode,
} from './errors';
export {
  type FilePriority,
  isFilePriority,
  PRIORITY_LEVEL,
  piecePriorities,
  prioritiesFromSelection,
  prioritiesFromSelectOnly,
} from './file-priorities';
// --- metainfo (BEP 3, 47, 52) and magnet links (BEP 9, 53) ----------------------------------
export {
  base32Decode,
  base32Encode,
  type FileIndexRange,
  formatMagnet,
  isFileSelected,
  type MagnetLink,
  type MagnetPeer,
  magnetFromMetainfo,
  type ParseMagnetOptions,
  parseMagnet,
} from './magnet';
export {
  type CreatedTorrent,
  type CreateTorrentOptions,
  createTorrent,
  defaultPieceLength,
  type FileContent,
  MAX_DEFAULT_PIECE_LENGTH,
  MIN_PIECE_LENGTH,
  type TorrentInputFile,
} from './metainfo/create';
export {
  type CreatedTorrentV2,
  type CreateTorrentV2Options,
  createTorrentV2,
} from './metainfo/create-v2';
export { torrentFilesFromPath } from './metainfo/fs';
// --- BEP 52 merkle trees and hash exchange ---------------------------------------------------
export { HASH_LENGTH_V2, MERKLE_BLOCK_LENGTH } from './metainfo/merkle';
export { leafHashes, MerkleTree, rootFromProof, verifyProof } from './metainfo/merkle-tree';
export {
  DEFAULT_MAX_FILES,
  DEFAULT_MAX_PIECES,
  DEFAULT_MAX_TORRENT_SIZE,
  MAX_PIECE_LENGTH,
  MIN_PIECE_LENGTH_V2,
  type ParseTorrentOptions,
  parseInfoDictionary,
  parseTorrent,
  parseTorrentV1,
  requireV1,
} from './metainfo/parse';
export type {
  Metainfo,
  MetaVersion,
  TorrentFile,
  V1Metainfo,
  V2OnlyMetainfo,
} from './metainfo/types';
// --- MSE/PE: Message Stream Encryption (mse.txt) ---------------------------------------------
export {
  allowedMethods,
  type EncryptionPolicy,
  MSE_HANDSHAKE_TIMEOUT_MS,
  type MseShellOptions,
  mseAccept,
  mseConnect,
} from './mse/connect';
export { MseError, type MseErrorCode } from './mse/errors';
export {
  CRYPTO_PLAINTEXT,
  CRYPTO_RC4,
  MAX_PAD_LENGTH,
  MseInitiator,
  type MseInitiatorOptions,
  type MseMethod,
  type MseOutcome,
  MseResponder,
  type MseResponderOptions,
  type MseStep,
  mseKeyLookup,
  selectMethod,
} from './mse/handshake';
export { MSE_PRIME } from './mse/keys';
export { Rc4 } from './mse/rc4';
export { MseStream } from './mse/stream';
export {
  type BlockReceived,
  type BlockRequest,
  type PartialPiece,
  PiecePicker,
  type PiecePickerOptions,
  type PieceSet,
} from './picker';
export { MAX_PIECE_PRIORITY } from './piece-buckets';
export { PeerError, type PeerErrorCode } from './session/peer-error';
export type {
  PeerOutput,
  PeerSessionHost,
  SessionContent,
} from './session/peer-host';
export { DEFAULT_LIMITS, type PeerLimits } from './session/peer-limits';
export { PeerSession, type PeerSessionInit } from './session/peer-session';
export { diskName, diskPaths, MAX_NAME_BYTES, type PathRules } from './storage/disk-paths';
// --- storage interfaces ---------------------------------------------------------------------
export {
  type FileSystem,
  type MemoryFileSystem,
  memoryFileSystem,
  nodeFileSystem,
  type StorageFile,
} from './storage/file-system';
export { FileLayout, type LayoutFileInput } from './storage/layout';
export { acquireLock, type LockHolder, type StorageLock } from './storage/lock';
export { decodeResume, encodeResume, type ResumeKey } from './storage/resume';
export { type ExistingFilePolicy, type StartOptions, verifiedAtStart } from './storage/start';
export { StorageError, type StorageErrorCode } from './storage/storage-error';
export { DEFAULT_READAHEAD_PIECES, type FileReadOptions } from './stream';
export {
  type Admission,
  type Ban,
  DEFAULT_BAN_TRUST,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_HALF_OPEN,
  DIAL_TIMEOUT_MS,
  HOST_BAN_PEERS,
  MAX_CANDIDATES,
  MAX_DIAL_FAILURES,
  type PeerIdentity,
  RECONNECT_DELAY_MS,
  REDIAL_BASE_MS,
  REDIAL_MAX_MS,
  redialDelay,
  SEED_REDIAL_MS,
  type SwarmLimits,
  SwarmPolicy,
  TRUST_MAX,
  TRUST_PER_BAD_PIECE,
  TRUST_PER_GOOD_PIECE,
} from './swarm-policy';
// --- the torrent session --------------------------------------------------------------------
export { Torrent } from './torrent';
export type {
  BanEvent,
  DoneEvent,
  HashFailureEvent,
  PeerEvent,
  PeerRejectReason,
  PieceEvent,
  ProgressEvent,
  TorrentEvents,
} from './torrent-events';
export {
  parseInfoBytes,
  type TorrentInfo,
  type TorrentInfoV2,
  torrentInfoFromMetainfo,
} from './torrent-info';
export { RESUME_INTERVAL_MS, TICK_MS, type TorrentOptions } from './torrent-options';
export type { PeerStats, PieceContributor, TorrentStats } from './torrent-stats';
// --- trackers: HTTP (BEP 3, 7, 23, 48) and UDP (BEP 15), on the Network seam -----------------
export {
  type AnnounceStats,
  isSupportedTracker,
  parseUdpTrackerUrl,
  STOPPED_TIMEOUT_MS,
  type TrackerAnnounceEvent,
  TrackerAnnouncer,
  type TrackerAnnouncerEvents,
  type TrackerAnnouncerOptions,
  type TrackerErrorEvent,
} from './tracker/announcer';
export { TrackerError, type TrackerErrorCode } from './tracker/errors';
export { type HttpGetOptions, type HttpResponse, httpGet, parseHttpUrl } from './tracker/http-get';
export {
  encodeAnnounceAnswer,
  encodeFailure,
  encodeScrapeAnswer,
  type HttpAnnounceRequest,
  type HttpScrapeRequest,
  type HttpTrackerRequest,
  MAX_HTTP_SCRAPE_HASHES,
  parseTrackerRequest,
  percentDecodeBytes,
} from './tracker/http-request';
export {
  type HttpTrackerRequestLog,
  HttpTrackerServer,
  type HttpTrackerServerOptions,
  MAX_REQUEST_HEAD,
} from './tracker/http-server';
export {
  announceUrl,
  type HttpAnnounceParams,
  type HttpAnnounceResult,
  httpAnnounce,
  httpScrape,
  MAX_RESPONSE_PEERS,
  parseAnnounceResponse,
  parseScrapeResponse,
  percentEncodeBytes,
  scrapeUrl,
} from './tracker/http-tracker';
export {
  type SwarmAnnounce,
  type SwarmAnswer,
  type SwarmPeer,
  type TrackerLimits,
  TrackerSwarms,
} from './tracker/swarms';
export {
  AnnounceSchedule,
  type DueAnnounce,
  FIRST_RETRY_MS,
  MAX_INTERVAL_S,
  MAX_RETRY_MS,
  MIN_INTERVAL_S,
  type TrackerAnswer,
  TrackerTiers,
} from './tracker/tiers';
export {
  type AnnounceParams as UdpAnnounceParams,
  type AnnounceResult as UdpAnnounceResult,
  CONNECTION_ID_LIFETIME_MS,
  MAX_RETRANSMITS,
  RETRANSMIT_BASE_MS,
  retransmitTimeout,
  UdpTrackerClient,
} from './tracker/udp-client';
export {
  type AnnounceEvent,
  compactPeer,
  decodeUdpRequest,
  decodeUdpResponse,
  encodeAnnounceRequest,
  encodeConnectRequest,
  encodeScrapeRequest,
  encodeUdpResponse,
  MAX_SCRAPE_HASHES,
  type PeerAddress,
  parseCompactPeer,
  type ScrapeEntry,
  UDP_PROTOCOL_ID,
  type UdpAnnounceRequest,
  type UdpRequest,
  type UdpResponse,
} from './tracker/udp-messages';
export {
  SERVER_CONNECTION_ID_LIFETIME_MS,
  type TrackerServerOptions,
  UdpTrackerServer,
} from './tracker/udp-server';
export { answerHashRequest, hashesProven, pieceLayerRequest } from './v2/hash-exchange';
export { answerLeafHashes, type LeafHashPlan, planLeafHashes } from './v2/leaf-hashes';
export { PieceLayers, type V2File } from './v2/piece-layers';

// --- the peer wire codec (BEP 3, 6, 9, 10, 11) ----------------------------------------------
export { allowedFastSet, DEFAULT_ALLOWED_FAST_COUNT } from './wire/allowed-fast';
export {
  bytesToIPv4,
  bytesToIPv6,
  decodeCompactPeers,
  encodeCompactPeers,
  hostFamily,
  ipv4ToBytes,
  ipv6ToBytes,
} from './wire/compact';
export {
  DEFAULT_MAX_MESSAGE_LENGTH,
  decodeMessage,
  type HandshakeFrame,
  type MessageValidationOptions,
  type TorrentGeometry,
  torrentGeometry,
  WireDecoder,
  type WireDecoderOptions,
  type WireFrame,
} from './wire/decoder';
export {
  DEFAULT_MAX_METADATA_SIZE,
  decodeExtensionDict,
  decodeExtensionHandshake,
  EXTENSION_HANDSHAKE_ID,
  type ExtensionDecodeOptions,
  type ExtensionHandshake,
  encodeExtensionHandshake,
  UT_METADATA,
  UT_PEX,
} from './wire/extension';
export {
  checkProtocolHeader,
  decodeHandshake,
  encodeHandshake,
  HANDSHAKE_LENGTH,
  type Handshake,
  type HandshakeExtensions,
  type HandshakeInit,
  PROTOCOL_HEADER,
  PROTOCOL_NAME,
  RESERVED_LENGTH,
  readExtensions,
  reservedBytes,
  supportsV2,
} from './wire/handshake';
export {
  decodeHashMessage,
  encodeHashMessage,
  HASH_REJECT_ID,
  HASH_REQUEST_ID,
  HASHES_ID,
  type HashesMessage,
  type HashMessage,
  type HashRejectMessage,
  type HashRequestFields,
  type HashRequestMessage,
  MAX_HASH_REQUEST_LENGTH,
} from './wire/hashes';
export {
  type AllowedFastMessage,
  type BitfieldMessage,
  BLOCK_LENGTH,
  type CancelMessage,
  CHOKE,
  type ChokeMessage,
  type ExtendedMessage,
  encodeAllowedFast,
  encodeBitfield,
  encodeCancel,
  encodeExtended,
  encodeHave,
  encodeMessage,
  encodePiece,
  encodePieceHeader,
  encodePort,
  encodeReject,
  encodeRequest,
  encodeSuggest,
  HAVE_ALL,
  HAVE_NONE,
  type HaveAllMessage,
  type HaveMessage,
  type HaveNoneMessage,
  INTERESTED,
  type InterestedMessage,
  KEEP_ALIVE,
  type KeepAliveMessage,
  LENGTH_PREFIX_BYTES,
  MessageId,
  type MessageType,
  NOT_INTERESTED,
  type NotInterestedMessage,
  type PieceMessage,
  type PortMessage,
  type RejectMessage,
  type RequestMessage,
  type SuggestMessage,
  UNCHOKE,
  type UnchokeMessage,
  type UnknownMessage,
  type WireMessage,
} from './wire/messages';
export {
  decodeMetadataMessage,
  encodeMetadataMessage,
  METADATA_PIECE_LENGTH,
  MetadataAssembler,
  type MetadataDecodeOptions,
  type MetadataMessage,
  metadataPieceCount,
  metadataPieceLength,
} from './wire/metadata';
export {
  decodePexMessage,
  encodePexMessage,
  type PexDecodeOptions,
  type PexFlags,
  type PexMessage,
  type PexPeer,
} from './wire/pex';
