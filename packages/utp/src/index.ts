export {
  Connection,
  type ConnectionHost,
  type ConnectionOptions,
  type ConnectionState,
  DUPLICATE_ACKS_BEFORE_RESEND,
} from './connection';
export {
  type DualNetworkOptions,
  dualNetwork,
  type TransportKind,
  transportOf,
} from './dual-network';
export { isUtpError, UtpError, type UtpErrorCode } from './errors';
export {
  decodePacket,
  EXT_SELECTIVE_ACK,
  type Extension,
  encodePacket,
  HEADER_SIZE,
  looksLikeUtp,
  type Packet,
  type PacketFields,
  type PacketType,
  ST_DATA,
  ST_FIN,
  ST_RESET,
  ST_STATE,
  ST_SYN,
  VERSION,
} from './header';
export {
  CCONTROL_TARGET_US,
  Ledbat,
  type LedbatOptions,
  MAX_CWND_INCREASE_BYTES_PER_RTT,
} from './ledbat';
export { PacketSizer } from './packet-size';
export { ReceiveBuffer } from './receive-buffer';
export { RttEstimator } from './rtt';
export { buildSelectiveAck, forEachSelectiveAck } from './sack';
export { SendBuffer } from './send-buffer';
export { seqAdd, seqDistance, seqLess } from './seq';
export type { UtpSocketOptions } from './socket';
export { isUtpStream, type UtpNetwork, type UtpNetworkOptions, utpNetwork } from './utp-network';
