/**
 * What a uTP `Connection` needs from its host (the socket layer) and the options it takes.
 */
import type { TransportError } from '@peerkit/transport';
import type { LedbatOptions } from './ledbat';

const U32 = 0x1_0000_0000;

/** What a connection needs from the layer that owns the socket. */
export interface ConnectionHost {
  /** Sends one datagram to the peer (the buffer is not touched afterwards). */
  transmit(datagram: Uint8Array): void;
  /** Asks for `tick()` at clock time `atMs` (replaces any earlier request). */
  armTimer(atMs: number): void;
  /** The handshake completed (initiator: the peer acknowledged ST_SYN). */
  onConnected(): void;
  /** In-order payload bytes for the reader. */
  onData(payload: Uint8Array): void;
  /** The peer's ST_FIN arrived and every packet before it was delivered. */
  onEnd(): void;
  /** Our ST_FIN went out (everything queued was handed to the network). */
  onFinSent(): void;
  /** The peer acknowledged our ST_FIN and everything before it: every byte we wrote arrived. */
  onFinAcked(): void;
  /**
   * The peer went quiet while our packets wait for an ACK (longer than twice the round trip,
   * or a retransmission timeout; once per silence): the host may check whether the peer is still
   * there (ICMP port unreachable) and call `unreachable()`.
   */
  onPeerSilent(): void;
  /** Buffered bytes fell below `sendBufferBytes` (a blocked writer may go on). */
  onWritable(): void;
  /** Terminal: `undefined` for an orderly close, else what broke the connection. */
  onClose(error: TransportError | undefined): void;
}

export interface ConnectionOptions {
  /** Receive buffer: the most bytes received but not consumed (advertised as wnd_size). 1 MiB. */
  recvBufferBytes?: number;
  /** Bytes queued or in flight before `writable` turns false. Default 1 MiB. */
  sendBufferBytes?: number;
  /** Largest UDP payload a packet may have (the path search's ceiling). Default 1472. */
  maxPacketSize?: number;
  /** Packet size known to pass every path (the search's floor). Default 548. */
  minPacketSize?: number;
  /** Congestion controller settings. */
  ledbat?: LedbatOptions;
  /** ST_SYN retransmissions before a dial fails with CONNECTION_REFUSED. Default 2. */
  synRetries?: number;
  /**
   * Consecutive retransmission timeouts without an ACK before a connection fails with TIMEOUT
   * (libutp: 4). With the timeout doubling from 500 ms and capped at `MAX_TIMEOUT_MS`, a peer
   * that vanished is noticed after 0.5 + 1 + 2 + 4 + 8 = 15.5 s on a short path. Default 4.
   */
  maxTimeouts?: number;
  /** Send an ST_STATE after this long without sending anything. Default 29,000 ms. */
  keepAliveMs?: number;
  /** Fail with TIMEOUT after this long without receiving anything. Default 120,000 ms. */
  idleTimeoutMs?: number;
  /**
   * Acknowledge at once after this many in-order data packets (else at `flushAck`, once per
   * batch of datagrams, as libutp and libtorrent defer ACKs to the end of a read burst). Each
   * ACK is a datagram, and on loopback a datagram that wakes the sleeping sender costs the
   * receiver ~15 us; 8 instead of 32 cost the receiver ~10% more CPU per MB. Default 32.
   */
  ackEvery?: number;
  /** Packets kept past a gap in the receive buffer. Default 2048. */
  reorderPackets?: number;
}

/** Microseconds modulo 2^32 of a millisecond clock reading. */
export function microseconds(ms: number): number {
  return Math.floor(ms * 1000) % U32;
}

/** A connection's state, with libutp's names. */
export type ConnectionState = 'CS_SYN_SENT' | 'CS_SYN_RECV' | 'CS_CONNECTED' | 'CS_CLOSED';
