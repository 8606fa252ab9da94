/**
 * Protocol constants of Bitcoin's peer-to-peer network, with the Bitcoin Core source they come
 * from (specs/bitcoin/bitcoin-core/src/protocol.h, node/protocol_version.h, net_processing.cpp).
 */

/** The protocol version peerkit speaks (node/protocol_version.h: WTXID_RELAY_VERSION). */
export const PROTOCOL_VERSION = 70016;
/** Peers below this are disconnected after their `version` (MIN_PEER_PROTO_VERSION). */
export const MIN_PEER_PROTO_VERSION = 31800;
/** BIP 31: `ping` carries a nonce and expects `pong` from this version on. */
export const BIP0031_VERSION = 60000;
/** BIP 130: `sendheaders` is understood from this version on. */
export const SENDHEADERS_VERSION = 70012;
/** BIP 133: `feefilter` is understood from this version on. */
export const FEEFILTER_VERSION = 70013;
/** BIP 152: compact blocks from this version on. */
export const SHORT_IDS_BLOCKS_VERSION = 70014;

/** Service bits (protocol.h, ServiceFlags). */
export const NODE_NETWORK = 1n << 0n;
export const NODE_BLOOM = 1n << 2n;
export const NODE_WITNESS = 1n << 3n;
export const NODE_NETWORK_LIMITED = 1n << 10n;

/** Inventory types (developer reference, "Data Messages: Inventory", BIP 144 for witness flags). */
export const MSG_TX = 1;
export const MSG_BLOCK = 2;
export const MSG_FILTERED_BLOCK = 3;
/** BIP 152: a `getdata` for a compact block. */
export const MSG_CMPCT_BLOCK = 4;
/** BIP 339 */
export const MSG_WTX = 5;
/** BIP 144: the witness flag OR-ed into a type asks for the witness serialization. */
export const MSG_WITNESS_FLAG = 1 << 30;
export const MSG_WITNESS_TX = MSG_TX | MSG_WITNESS_FLAG;
export const MSG_WITNESS_BLOCK = MSG_BLOCK | MSG_WITNESS_FLAG;

/** The 24-byte message header (protocol.h, CMessageHeader::HEADER_SIZE). */
export const HEADER_SIZE = 24;
export const COMMAND_SIZE = 12;
/** net.h MAX_PROTOCOL_MESSAGE_LENGTH: no payload may be larger. */
export const MAX_PROTOCOL_MESSAGE_LENGTH = 4_000_000;
/** net_processing.cpp MAX_INV_SZ: entries in one inv/getdata/notfound. */
export const MAX_INV_SZ = 50_000;
/** net_processing.cpp MAX_ADDR_TO_SEND: entries in one addr. */
export const MAX_ADDR_TO_SEND = 1000;
/** net_processing.cpp MAX_HEADERS_RESULTS: headers in one `headers` message. */
export const MAX_HEADERS_RESULTS = 2000;
/** net_processing.cpp MAX_LOCATOR_SZ: hashes in a block locator. */
export const MAX_LOCATOR_SZ = 101;
/** net.h MAX_SUBVERSION_LENGTH: the user agent of a `version`. */
export const MAX_SUBVERSION_LENGTH = 256;
/** BIP 152: indexes are 16-bit; a block cannot hold more transactions than this. */
export const MAX_COMPACT_INDEX = 0xffff;
/** Shortest serializable transaction (10 bytes: version, 0 in, 0 out, locktime); bounds counts. */
export const MIN_TX_SIZE = 10;
