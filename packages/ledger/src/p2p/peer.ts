/**
 * One peer connection's protocol state, without I/O (docs/architecture.md, "I/O at the edges"):
 * bytes in through `receive`, bytes out through the injected `send`, time through the injected
 * `Clock`. The node (src/node.ts) wires it to a transport `Stream`; tests drive it directly.
 *
 * It implements the connection-level rules of the developer reference ("P2P Network:
 * Connecting To Peers", "Control Messages: version/verack/ping/pong") and BIP 31, 130, 133, 152:
 *
 * - The handshake: each side sends `version`; each answers a `version` with `verack`; the
 *   connection is ready when both happened. `wtxidrelay` and `sendaddrv2` are only valid between
 *   `version` and `verack` (BIP 339, BIP 155). Any other message before the handshake completes,
 *   a second `version`, a peer older than MIN_PEER_PROTO_VERSION, or our own nonce (a connection
 *   to ourselves) ends the connection.
 * - Liveness: a `ping` with a random nonce every `pingIntervalMs`; a `pong` must echo the nonce
 *   (BIP 31). No handshake within `handshakeTimeoutMs` or no pong within `pingTimeoutMs`
 *   ends the connection.
 * - Misbehaviour: every protocol violation adds to a score; at 100 the peer is disconnected and
 *   its address banned (Core's Misbehaving/discouragement threshold).
 * - Feature negotiation after the handshake: `sendheaders` (BIP 130), `feefilter` (BIP 133),
 *   `sendcmpct` (BIP 152) are recorded for relay.
 */
import type { Clock, Random, Timer } from '@peerkit/transport';
import { Emitter } from '@peerkit/transport';
import { LedgerError } from '../errors';
import {
  BIP0031_VERSION,
  MIN_PEER_PROTO_VERSION,
  NODE_WITNESS,
  SENDHEADERS_VERSION,
  SHORT_IDS_BLOCKS_VERSION,
} from './constants';
import { encodeMessage, MessageDecoder } from './envelope';
import { decodePayload, encodePayload } from './messages/codec';
import type { Message, VersionMessage } from './messages/types';

/** Misbehaviour score at which a peer is disconnected and banned (Core: DISCOURAGEMENT_THRESHOLD). */
export const BAN_THRESHOLD = 100;

export interface PeerOptions {
  magic: Uint8Array;
  clock: Clock;
  random: Random;
  outbound: boolean;
  /** A label for logs and RPC (the remote address). */
  address: string;
  /** Builds our `version` (nonce included); called once, when it is our turn to send it. */
  localVersion: () => VersionMessage;
  /** Hands encoded bytes to the connection. */
  send: (bytes: Uint8Array) => void;
  /** True for a nonce of one of our own `version`s: the connection loops back to us. */
  isLocalNonce?: (nonce: bigint) => boolean;
  handshakeTimeoutMs?: number;
  pingIntervalMs?: number;
  pingTimeoutMs?: number;
}

export type PeerState = 'handshake' | 'ready' | 'closed';

export interface PeerEvents {
  /** The handshake completed. */
  ready: { peer: Peer };
  /** A message after the handshake (version/verack/ping/pong and feature messages are handled here). */
  message: { peer: Peer; message: Message };
  /** The score went up; `banned` once it reached BAN_THRESHOLD. */
  misbehaved: { peer: Peer; score: number; reason: string; banned: boolean };
  /** The connection must end (the node closes the stream); emitted once. */
  closed: { peer: Peer; reason: string; error?: LedgerError };
}

/** What we learned about the peer in its `version` and feature messages. */
export interface PeerInfo {
  version: number;
  services: bigint;
  userAgent: string;
  startHeight: number;
  relay: boolean;
  /** BIP 130: announce blocks with `headers` instead of `inv`. */
  sendHeaders: boolean;
  /** BIP 133: don't announce transactions below this rate (sat/kvB). */
  feeFilter: bigint;
  /** BIP 152: the compact-block version we use with this peer (0: none), and high-bandwidth mode. */
  compactVersion: bigint;
  compactAnnounce: boolean;
  /** BIP 339 was offered. */
  wtxidRelay: boolean;
}

let nextId = 1;

export class Peer extends Emitter<PeerEvents> {
  readonly id = nextId++;
  readonly outbound: boolean;
  readonly address: string;
  readonly connectedAt: number;
  state: PeerState = 'handshake';
  info: PeerInfo | undefined;
  score = 0;
  bytesSent = 0;
  bytesReceived = 0;
  /** Round-trip time of the last ping, in ms. */
  pingTimeMs: number | undefined;
  readonly #opts: PeerOptions;
  readonly #decoder: MessageDecoder;
  #sentVersion = false;
  #gotVerack = false;
  #localNonce = 0n;
  #pingNonce: bigint | undefined;
  #pingSentAt = 0;
  #timers: Timer[] = [];

  constructor(options: PeerOptions) {
    super();
    this.#opts = options;
    this.outbound = options.outbound;
    this.address = options.address;
    this.connectedAt = options.clock.now();
    this.#decoder = new MessageDecoder({ magic: options.magic });
    const clock = options.clock;
    this.#timers.push(
      clock.setTimeout(() => {
        if (this.state === 'handshake') this.close('handshake timeout');
      }, options.handshakeTimeoutMs ?? 60_000),
    );
    // Outbound connections speak first (developer reference, "Connecting To Peers").
    if (this.outbound) this.#sendVersion();
  }

  /** The nonce of our `version`, to detect connections to ourselves. */
  get localNonce(): bigint {
    return this.#localNonce;
  }

  /** Sends one message; ignored after close. */
  send(message: Message): void {
    if (this.state === 'closed') return;
    const bytes = encodeMessage(this.#opts.magic, message.command, encodePayload(message));
    this.bytesSent += bytes.length;
    this.#opts.send(bytes);
  }

  /** Feeds received bytes; decoded messages are handled synchronously. */
  receive(chunk: Uint8Array): void {
    if (this.state === 'closed') return;
    this.bytesReceived += chunk.length;
    try {
      this.#decoder.push(chunk);
      for (let raw = this.#decoder.next(); raw && !this.#closed(); raw = this.#decoder.next()) {
        if (!raw.checksumOk) {
          // Core drops the message; peerkit also scores it: two in one connection are a ban.
          this.misbehave(BAN_THRESHOLD / 2, `${raw.command}: bad checksum`);
          continue;
        }
        const message = decodePayload(raw.command, raw.payload);
        if (message) this.#handle(message);
      }
    } catch (error) {
      const e = error instanceof LedgerError ? error : new LedgerError('PROTOCOL', String(error));
      // A stream that cannot be decoded cannot continue: a wrong magic, an oversized or a
      // malformed message are each a protocol violation worth a ban.
      this.misbehave(BAN_THRESHOLD, `${e.code}: ${e.message}`);
      this.close(e.message, e);
    }
  }

  /** Adds `howMuch` to the misbehaviour score; at BAN_THRESHOLD the peer is closed and banned. */
  misbehave(howMuch: number, reason: string): void {
    if (this.state === 'closed') return;
    this.score += howMuch;
    const banned = this.score >= BAN_THRESHOLD;
    this.emit('misbehaved', { peer: this, score: this.score, reason, banned });
    if (banned) this.close(`banned: ${reason}`);
  }

  /** Ends the connection (idempotent): timers stop, `closed` is emitted once. */
  close(reason: string, error?: LedgerError): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    for (const t of this.#timers) t.cancel();
    this.#timers = [];
    this.emit('closed', { peer: this, reason, error });
  }

  #closed(): boolean {
    return this.state === 'closed';
  }

  /** Whether the peer serves witness data (BIP 144 NODE_WITNESS). */
  get witness(): boolean {
    return this.info !== undefined && (this.info.services & NODE_WITNESS) !== 0n;
  }

  #sendVersion(): void {
    if (this.#sentVersion) return;
    this.#sentVersion = true;
    const v = this.#opts.localVersion();
    this.#localNonce = v.nonce;
    this.send(v);
  }

  #handle(m: Message): void {
    if (this.state === 'handshake') {
      this.#handshake(m);
      return;
    }
    switch (m.command) {
      case 'version':
        this.misbehave(1, 'duplicate version');
        return;
      case 'verack':
      case 'wtxidrelay':
      case 'sendaddrv2':
        // BIP 339 / BIP 155: only valid before verack; Core disconnects for a late wtxidrelay.
        if (m.command === 'wtxidrelay') this.close('wtxidrelay after verack');
        return;
      case 'ping':
        // BIP 31: answer with the same nonce.
        this.send({ command: 'pong', nonce: m.nonce });
        return;
      case 'pong':
        if (this.#pingNonce !== undefined && m.nonce === this.#pingNonce) {
          this.pingTimeMs = this.#opts.clock.now() - this.#pingSentAt;
          this.#pingNonce = undefined;
        }
        // A pong with the wrong nonce is ignored (Core logs it; the timeout still applies).
        return;
      case 'sendheaders':
        if (this.info) this.info.sendHeaders = true;
        return;
      case 'feefilter':
        // BIP 133: a fee rate outside the money range is ignored.
        if (this.info && m.feeRate >= 0n && m.feeRate <= 21_000_000n * 100_000_000n)
          this.info.feeFilter = m.feeRate;
        return;
      case 'sendcmpct':
        // BIP 152: use the highest version both support (1 without witness, 2 with).
        if (this.info && (m.version === 1n || m.version === 2n)) {
          const preferred = this.witness ? 2n : 1n;
          if (m.version === preferred || this.info.compactVersion === 0n) {
            this.info.compactVersion = m.version;
            this.info.compactAnnounce = m.announce;
          }
        }
        return;
      default:
        this.emit('message', { peer: this, message: m });
    }
  }

  #handshake(m: Message): void {
    if (m.command === 'version') {
      if (this.info) {
        this.misbehave(1, 'duplicate version');
        return;
      }
      // Core (net_processing.cpp, ProcessMessage "version"): an inbound version carrying the
      // nonce of one of our own outbound versions means we connected to ourselves.
      if (!this.outbound && this.#opts.isLocalNonce?.(m.nonce)) {
        this.close('connected to self');
        return;
      }
      if (m.version < MIN_PEER_PROTO_VERSION) {
        this.close(`peer version ${m.version} below ${MIN_PEER_PROTO_VERSION}`);
        return;
      }
      this.info = {
        version: m.version,
        services: m.services,
        userAgent: m.userAgent,
        startHeight: m.startHeight,
        relay: m.relay,
        sendHeaders: false,
        feeFilter: 0n,
        compactVersion: 0n,
        compactAnnounce: false,
        wtxidRelay: false,
      };
      if (!this.outbound) this.#sendVersion();
      this.send({ command: 'verack' });
      this.#maybeReady();
      return;
    }
    if (!this.info) {
      // Developer reference: "no further communication is possible until both peers have
      // exchanged their version". Core ignores and scores such messages.
      this.misbehave(10, `${m.command} before version`);
      return;
    }
    switch (m.command) {
      case 'verack':
        this.#gotVerack = true;
        this.#maybeReady();
        return;
      case 'wtxidrelay':
        this.info.wtxidRelay = true;
        return;
      case 'sendaddrv2':
        return;
      default:
        this.misbehave(10, `${m.command} before verack`);
    }
  }

  #maybeReady(): void {
    if (!this.info || !this.#gotVerack || this.state !== 'handshake') return;
    this.state = 'ready';
    const info = this.info;
    // Feature messages right after the handshake, as Core sends them.
    if (info.version >= SENDHEADERS_VERSION) this.send({ command: 'sendheaders' });
    if (info.version >= SHORT_IDS_BLOCKS_VERSION) {
      // BIP 152: announce the versions we support, preferred first; low-bandwidth mode.
      if (this.witness) this.send({ command: 'sendcmpct', announce: false, version: 2n });
      this.send({ command: 'sendcmpct', announce: false, version: 1n });
    }
    this.#startPings();
    this.emit('ready', { peer: this });
  }

  #startPings(): void {
    const clock = this.#opts.clock;
    const interval = this.#opts.pingIntervalMs ?? 120_000;
    const timeout = this.#opts.pingTimeoutMs ?? 20 * 60_000;
    const ping = (): void => {
      if (this.state !== 'ready' || !this.info) return;
      if (this.#pingNonce !== undefined) {
        if (clock.now() - this.#pingSentAt >= timeout) this.close('ping timeout');
        return;
      }
      if (this.info.version <= BIP0031_VERSION) return;
      const b = this.#opts.random.bytes(8);
      this.#pingNonce = new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true);
      this.#pingSentAt = clock.now();
      this.send({ command: 'ping', nonce: this.#pingNonce });
    };
    ping();
    this.#timers.push(clock.setInterval(ping, Math.min(interval, timeout)));
  }
}
