/**
 * What the parts of a messenger node (rooms, direct messages, the inbound selector) share: the
 * node's identity, limits and codecs, its peer book, where its events go, and its control
 * requests. Built once, before any part, so that no part needs another one late.
 */
import type { Identity } from '@peerkit/noise';
import { type Address, formatAddress, type Network, sameAddress } from '@peerkit/transport';
import {
  type ControlCodecs,
  type ControlRequest,
  type ControlResponse,
  controlCodecs,
} from './control';
import { controlRequest } from './control-channel';
import { EnvelopeCodec } from './envelope';
import { ChatError } from './errors';
import { ChatEventChannel } from './events';
import { type ChatLimits, DEFAULT_LIMITS } from './limits';
import type { MessengerOptions } from './options';
import { PeerBook } from './peer-book';

export class ChatContext {
  readonly network: Network;
  readonly identity: Identity;
  readonly limits: ChatLimits;
  readonly codec: EnvelopeCodec;
  readonly codecs: ControlCodecs;
  readonly book = new PeerBook();
  readonly events: ChatEventChannel;
  readonly options: MessengerOptions;
  /** Display name sent with our messages. */
  nick: string | undefined;
  /**
   * Addresses that turned out to be us: our own listen address, and any address at which a
   * dial reached our own identity (Noise proves it). Never a guess such as "127.0.0.1".
   */
  private readonly selfAddresses = new Set<string>();
  private ownAddress: Address | undefined;
  closed = false;

  constructor(options: MessengerOptions) {
    this.options = options;
    this.network = options.network;
    this.identity = options.identity;
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.codec = new EnvelopeCodec(this.limits);
    this.codecs = controlCodecs(this.limits);
    this.nick = options.nick;
    this.events = new ChatEventChannel();
    if (options.onEvent) this.events.on('event', options.onEvent);
  }

  /** Our listen address, once bound (its host may be a wildcard such as 0.0.0.0). */
  setListenAddress(address: Address): void {
    this.ownAddress = address;
  }

  /** Our TCP listen address. */
  get listenAddress(): Address {
    if (this.ownAddress === undefined) throw new ChatError('CLOSED', 'not listening yet');
    return this.ownAddress;
  }

  /** Remembers that `address` reached our own identity. */
  learnSelf(address: Address): void {
    if (this.selfAddresses.size >= 64) this.selfAddresses.clear();
    this.selfAddresses.add(formatAddress(address));
  }

  /** Whether `address` is us: our exact listen address, or one a dial proved to be us. */
  isSelf(address: Address): boolean {
    if (this.ownAddress !== undefined && sameAddress(address, this.ownAddress)) return true;
    return this.selfAddresses.has(formatAddress(address));
  }

  /** Sends one control request (Noise-authenticated; `expected`: insist on that identity). */
  request(
    address: Address,
    request: ControlRequest,
    expected?: Uint8Array,
  ): Promise<{ response: ControlResponse; remoteIdentity: Uint8Array }> {
    return controlRequest(address, request, {
      network: this.network,
      identity: this.identity,
      codecs: this.codecs,
      timeoutMs: this.options.requestTimeoutMs ?? 5000,
      ...(expected ? { expectedRemoteIdentity: expected } : {}),
    });
  }

  /** Wall-clock now for message timestamps, ms since the epoch. */
  wallNow(): number {
    return Math.floor((this.options.wallClock ?? Date.now)());
  }
}
