/**
 * What a peer session knows, for the torrent to read: the BEP 3 flags, what BEP 6 and BEP 10
 * negotiated, the peer's pieces, the allowed-fast and suggest sets, rates and the connection's
 * phase. Only `PeerSession` (its subclass, the state machine) changes it; everything here is
 * read through getters.
 */
import type { Address } from '@peerkit/transport';
import type { Bitfield } from '../bitfield';
import type { ExtensionHandshake } from '../wire/extension';
import { PeerPieces } from './peer-pieces';
import { RequestPipeline } from './request-pipeline';
import { UploadQueue } from './upload-queue';

export type PeerPhase = 'handshake' | 'open' | 'closed';

/** How a connection starts: who dialled, and to where. */
export interface PeerSessionInit {
  readonly id: number;
  readonly remoteAddress: Address;
  readonly outgoing: boolean;
  /** What carries the connection (transport's `Stream.transport`: 'tcp', 'utp'), if known. */
  readonly transport?: string;
}

export abstract class PeerState {
  readonly id: number;
  readonly outgoing: boolean;
  readonly remoteAddress: Address;
  /** What carries the connection ('tcp', 'utp'), when the stream says. */
  readonly transport: string | undefined;
  readonly connectedAt: number;
  /** The four BEP 3 flags, and what the handshake's reserved bits negotiated on both sides. */
  protected readonly flags = {
    amChoking: true,
    amInterested: false,
    peerChoking: true,
    peerInterested: false,
    /** BEP 6 fast extension on both sides. */
    fast: false,
    /** BEP 10 extension protocol on both sides. */
    extended: false,
  };
  protected phase: PeerPhase = 'handshake';
  protected wasOpened = false;
  protected remotePeerIdBytes: Uint8Array | undefined;
  protected remoteExtensions: ExtensionHandshake | undefined;
  protected closeError: Error | undefined;
  /** The peer's pieces and how many of them we miss. */
  protected readonly peerPieces = new PeerPieces();
  /** The requests we send: depth, allowed-fast set, snub clock, download rate. */
  protected readonly requests: RequestPipeline;
  /** Requests the peer queued with us, the fast grants we gave it, the upload rate. */
  protected readonly uploads = new UploadQueue();
  /** BEP 6 `suggest piece`: pieces the peer suggested we download (advisory). */
  protected readonly suggestedPieces = new Set<number>();

  protected constructor(init: PeerSessionInit, now: number) {
    this.id = init.id;
    this.outgoing = init.outgoing;
    this.remoteAddress = init.remoteAddress;
    this.transport = init.transport;
    this.connectedAt = now;
    this.requests = new RequestPipeline(init.id, now);
  }

  get amChoking(): boolean {
    return this.flags.amChoking;
  }
  get amInterested(): boolean {
    return this.flags.amInterested;
  }
  get peerChoking(): boolean {
    return this.flags.peerChoking;
  }
  get peerInterested(): boolean {
    return this.flags.peerInterested;
  }
  get snubbed(): boolean {
    return this.requests.snubbed;
  }
  /** BEP 6 fast extension on both sides. */
  get fast(): boolean {
    return this.flags.fast;
  }
  /** BEP 10 extension protocol on both sides. */
  get extended(): boolean {
    return this.flags.extended;
  }
  get remotePeerId(): Uint8Array | undefined {
    return this.remotePeerIdBytes;
  }
  get extensionHandshake(): ExtensionHandshake | undefined {
    return this.remoteExtensions;
  }
  /** The peer's pieces, once the piece count is known (read it, do not change it). */
  get pieces(): Bitfield | undefined {
    return this.peerPieces.bitfield;
  }
  /** Pieces the peer lets us request while it chokes us (BEP 6). */
  get allowedFast(): ReadonlySet<number> {
    return this.requests.allowedFast;
  }
  /** Pieces we let the peer request while we choke it (BEP 6). */
  get grantedFast(): ReadonlySet<number> {
    return this.uploads.granted;
  }
  /** Pieces the peer suggested (BEP 6 `suggest piece`), that we do not have yet. */
  get suggested(): ReadonlySet<number> {
    return this.suggestedPieces;
  }
  /** Requests the peer queued with us, not yet served. */
  get queuedUploads(): number {
    return this.uploads.length;
  }
  downloadRate(now: number): number {
    return this.requests.downloadRate(now);
  }
  uploadRate(now: number): number {
    return this.uploads.rate(now);
  }
  /** Bytes of blocks received from the peer. */
  get downloaded(): number {
    return this.requests.downloaded;
  }
  /** Bytes of blocks sent to the peer. */
  get uploaded(): number {
    return this.uploads.sent;
  }

  get isOpen(): boolean {
    return this.phase === 'open';
  }

  get isClosed(): boolean {
    return this.phase === 'closed';
  }

  /** True once both handshakes were done (the torrent emitted `connect` for it). */
  get opened(): boolean {
    return this.wasOpened;
  }

  get isSeed(): boolean {
    return this.peerPieces.isSeed;
  }

  /** The address the peer accepts connections on (for PEX): its `p` port when it sent one. */
  get listenAddress(): Address {
    const port = this.outgoing ? this.remoteAddress.port : this.remoteExtensions?.p;
    return { host: this.remoteAddress.host, port: port ?? this.remoteAddress.port };
  }

  /** Why the session ended, if it ended with an error. */
  get error(): Error | undefined {
    return this.closeError;
  }

  /** True when the peer announced extension `name` in its extension handshake. */
  supports(name: string): boolean {
    const id = this.remoteExtensions?.m[name];
    return id !== undefined && id > 0;
  }
}
