/**
 * One peer connection's BEP 3 state machine, without I/O (sans-IO). It takes decoded frames
 * (`receive`), the torrent's calls (`setChoking`, `sendHave`, `fillRequests`, …) and the time
 * (`tick`, and the injected clock), and answers through two seams: `PeerOutput` (bytes to send,
 * requests to serve, the connection to end: implemented by `PeerConnection` over a socket, or by
 * a test) and `PeerSessionHost` (what to tell or ask the torrent). It never touches a socket or
 * the disk, so a test drives it message by message (test/peer-session.model.test.ts).
 *
 * Handshake: an outgoing connection sends its handshake at `start()`; an incoming one waits for
 * the remote handshake first. Then `bitfield` / `have all` / `have none` (BEP 6), the BEP 10
 * extension handshake, and our BEP 6 allowed-fast set.
 *
 * Four flags per connection (BEP 3): `amChoking`, `amInterested`, `peerChoking`,
 * `peerInterested`. Without the fast extension a `choke` cancels every outstanding request; with
 * it (BEP 6) requests stay until rejected, requests we drop when we choke are rejected, and only
 * allowed-fast pieces are requested while choked. Its parts: `PeerPieces` (what the peer has,
 * our interest), `RequestPipeline` (what we ask of it), `UploadQueue` (what it asks of us).
 */
import { Buffer } from 'node:buffer';
import { WireError } from '../errors';
import type { BlockRequest } from '../picker';
import type { WireFrame } from '../wire/decoder';
import {
  decodeExtensionHandshake,
  EXTENSION_HANDSHAKE_ID,
  UT_METADATA,
  UT_PEX,
} from '../wire/extension';
import { encodeHandshake, readExtensions, supportsV2 } from '../wire/handshake';
import {
  decodeHashMessage,
  encodeHashMessage,
  type HashRequestMessage,
  isHashMessageId,
} from '../wire/hashes';
import {
  BLOCK_LENGTH,
  CHOKE,
  encodeAllowedFast,
  encodeCancel,
  encodeExtended,
  encodeHave,
  encodeReject,
  INTERESTED,
  KEEP_ALIVE,
  NOT_INTERESTED,
  type RequestMessage,
  UNCHOKE,
} from '../wire/messages';
import { decodeMetadataMessage } from '../wire/metadata';
import { decodePexMessage } from '../wire/pex';
import { allowedFastGrants, extensionHandshakeMessage, piecesMessage } from './announce';
import { HashRequests } from './hash-requests';
import { PeerError } from './peer-error';
import { LOCAL_EXTENSIONS, type PeerOutput, type PeerSessionHost } from './peer-host';
import { KEEP_ALIVE_INTERVAL_MS } from './peer-limits';
import { type PeerSessionInit, PeerState } from './peer-state';

export { HASH_ANSWERS_PER_TICK, MAX_LEAF_HASH_READS } from './hash-requests';
export type { PeerSessionInit } from './peer-state';

export class PeerSession extends PeerState {
  readonly #host: PeerSessionHost;
  readonly #out: PeerOutput;
  #lastReceivedAt: number;
  #lastSentAt: number;
  /** The info-hash of this connection's handshakes (ours, or the alternative the peer used). */
  #infoHash: Uint8Array;
  /** BEP 52: the peer announced v2 support. */
  #v2 = false;
  /** BEP 52 hash requests we answer: budget and block-hash reads (./hash-requests.ts). */
  readonly #hashRequests: HashRequests;
  /** The block request the previous message asked for, when we are serving it (BEP 52). */
  #justServed: RequestMessage | undefined;

  constructor(host: PeerSessionHost, out: PeerOutput, init: PeerSessionInit) {
    const now = host.clock.now();
    super(init, now);
    this.#host = host;
    this.#out = out;
    this.#lastReceivedAt = now;
    this.#lastSentAt = now;
    this.#infoHash = host.infoHash;
    this.#hashRequests = new HashRequests({
      send: (bytes) => this.#send(bytes),
      closed: () => this.phase === 'closed',
      host,
      out,
    });
  }

  /** BEP 52: the peer set the v2 bit in its handshake. */
  get supportsV2(): boolean {
    return this.#v2;
  }

  // --- life cycle ----------------------------------------------------------------------------

  /** The connection is up: an outgoing one sends its handshake first (BEP 3). */
  start(): void {
    if (this.outgoing) this.#sendHandshake();
  }

  /**
   * Ends the session (idempotent): drops the upload queue, tells the output to end the
   * connection (`graceful`: FIN instead of reset) and the host that the peer is gone.
   */
  close(error?: Error, graceful = false): void {
    if (this.phase === 'closed') return;
    this.phase = 'closed';
    this.closeError = error;
    this.uploads.clear();
    this.#out.close(error, graceful);
    this.#host.onClosed(this, error);
  }

  // --- sending -------------------------------------------------------------------------------

  #send(bytes: Uint8Array): void {
    if (this.phase === 'closed') return;
    this.#lastSentAt = this.#host.clock.now();
    this.#out.send(bytes);
  }

  #sendHandshake(): void {
    this.#send(
      encodeHandshake({
        infoHash: this.#infoHash,
        peerId: this.#host.peerId,
        extensions: { extended: true, fast: true, v2: this.#host.v2 === true },
      }),
    );
  }

  /** Chokes or unchokes the peer (the choker's decision, BEP 3). */
  setChoking(choke: boolean): void {
    if (!this.isOpen || this.flags.amChoking === choke) return;
    this.flags.amChoking = choke;
    this.#send(choke ? CHOKE : UNCHOKE);
    if (choke) {
      // BEP 6: with the fast extension, queued requests we drop are rejected explicitly.
      const dropped = this.uploads.choke();
      if (this.flags.fast)
        for (const r of dropped) this.#send(encodeReject(r.index, r.begin, r.length));
    } else if (this.uploads.length > 0) {
      this.#out.serve();
    }
  }

  /** We verified `piece`: tell the peer unless it has it (BEP 3 `have`), and re-think interest. */
  sendHave(piece: number): void {
    if (!this.isOpen) return;
    this.uploads.revoke(piece);
    this.requests.forget(piece);
    this.suggestedPieces.delete(piece);
    if (this.peerPieces.weHave(piece, this.#host.content?.picker.priorityOf(piece) !== 0)) {
      this.updateInterest();
      return; // it has the piece: no need to tell it
    }
    this.#send(encodeHave(piece));
    this.updateInterest();
  }

  sendCancel(request: BlockRequest): void {
    if (this.isOpen) this.#send(encodeCancel(request.piece, request.offset, request.length));
  }

  /** Sends a BEP 10 extended message by its name; false when the peer does not support it. */
  sendExtended(name: string, payload: Uint8Array): boolean {
    const id = this.remoteExtensions?.m[name];
    if (!this.isOpen || id === undefined || id === 0) return false;
    this.#send(encodeExtended(id, payload));
    return true;
  }

  /** Sends our BEP 10 extension handshake (again, once the metadata size is known). */
  sendExtensionHandshake(): void {
    this.#send(extensionHandshakeMessage(this.#host));
  }

  // --- receiving -----------------------------------------------------------------------------

  /**
   * Handles one decoded frame. Throws `WireError` / `PeerError` for a protocol violation (the
   * caller closes the connection with it).
   */
  receive(frame: WireFrame): void {
    if (this.phase === 'closed') return;
    const now = this.#host.clock.now();
    this.#lastReceivedAt = now;
    if (frame.type === 'handshake') {
      this.#onHandshake(frame.reserved, frame.infoHash, frame.peerId);
      return;
    }
    const served = this.#justServed;
    this.#justServed = undefined;
    switch (frame.type) {
      case 'unknown':
        if (isHashMessageId(frame.id)) this.#onHashMessage(frame.id, frame.payload, served);
        return;
      case 'keepAlive':
      case 'port':
        return;
      case 'suggest':
        // BEP 6: advisory; remembered for study and stats, the picker keeps its own order.
        if (this.#host.content?.have.has(frame.index) === false)
          this.suggestedPieces.add(frame.index);
        return;
      case 'choke':
        this.flags.peerChoking = true;
        // BEP 6: "choke no longer implicitly rejects"; without it, every request is dropped.
        if (!this.flags.fast) this.abortRequests();
        return;
      case 'unchoke':
        this.flags.peerChoking = false;
        this.fillRequests();
        return;
      case 'interested':
      case 'notInterested': {
        const interested = frame.type === 'interested';
        if (this.flags.peerInterested !== interested) {
          this.flags.peerInterested = interested;
          this.#host.onPeerInterest(this);
        }
        return;
      }
      case 'have':
        if (this.peerPieces.have(frame.index, this.#host.content)) this.#availabilityChanged();
        return;
      case 'bitfield':
        if (this.peerPieces.replace(frame.bitfield, false, this.#host.content))
          this.#availabilityChanged();
        return;
      case 'haveAll':
      case 'haveNone':
        if (this.peerPieces.replace(undefined, frame.type === 'haveAll', this.#host.content))
          this.#availabilityChanged();
        return;
      case 'request':
        this.#onRequest(frame);
        return;
      case 'cancel':
        this.uploads.cancel(frame.index, frame.begin, frame.length);
        return;
      case 'piece':
        this.#onPiece(frame.index, frame.begin, frame.block, now);
        return;
      case 'reject':
        // BEP 6: the request is withdrawn. No immediate re-request: the next block or tick refills.
        this.requests.rejected(
          this.#host.content?.picker,
          frame.index,
          frame.begin,
          this.flags.peerChoking,
        );
        return;
      case 'allowedFast':
        if (!this.#host.content?.have.has(frame.index)) {
          this.requests.allow(frame.index);
          if (this.flags.peerChoking) this.fillRequests();
        }
        return;
      case 'extended':
        this.#onExtended(frame.id, frame.payload);
        return;
    }
  }

  #onHandshake(reserved: Uint8Array, infoHash: Uint8Array, peerId: Uint8Array): void {
    const alt = this.#host.altInfoHash;
    if (Buffer.compare(infoHash, this.#host.infoHash) !== 0) {
      // BEP 52: a hybrid torrent is reached by its v1 and its (truncated) v2 info-hash; a v2
      // peer (libtorrent) answers our v1 handshake with the v2 one when we set the v2 bit.
      if (alt === undefined || Buffer.compare(infoHash, alt) !== 0)
        throw new WireError('INFO_HASH_MISMATCH', 'peer handshake is for another torrent');
      this.#infoHash = alt;
    }
    this.#v2 = supportsV2(reserved);
    this.remotePeerIdBytes = peerId;
    if (!this.#host.acceptHandshake(this, peerId)) {
      this.close(new PeerError('PEER_REFUSED', 'connection refused (self, duplicate or banned)'));
      return;
    }
    if (!this.outgoing) this.#sendHandshake();
    const ext = readExtensions(reserved);
    this.flags.fast = ext.fast;
    this.flags.extended = ext.extended;
    this.phase = 'open';
    this.wasOpened = true;
    this.peerPieces.start(this.#host.content);
    const pieces = piecesMessage(this.#host.content?.have, this.flags.fast);
    if (pieces !== undefined) this.#send(pieces);
    if (this.flags.extended) this.sendExtensionHandshake();
    if (this.flags.fast) {
      for (const index of allowedFastGrants(this.#host, this.remoteAddress.host)) {
        this.uploads.grant(index);
        this.#send(encodeAllowedFast(index));
      }
    }
    this.#host.onReady(this);
  }

  /** The peer announced pieces: interest may change, and the torrent hears of it. */
  #availabilityChanged(): void {
    this.updateInterest();
    this.#host.onAvailability(this);
  }

  /** The torrent's metainfo became known (magnet): apply what the peer announced earlier. */
  contentReady(): void {
    const content = this.#host.content;
    if (content === undefined) return;
    this.#out.geometryKnown(content.geometry);
    if (this.phase !== 'open') return;
    this.peerPieces.applyEarly(content);
    this.#availabilityChanged();
  }

  /** Piece priorities changed (file selection): interest and requests follow. */
  prioritiesChanged(): void {
    const content = this.#host.content;
    if (content === undefined || !this.isOpen) return;
    this.peerPieces.recount(content);
    this.updateInterest();
    this.fillRequests();
  }

  /** Sends interested / not interested when it changes (BEP 3: interest follows availability). */
  updateInterest(): void {
    const want = this.peerPieces.interesting > 0 && !this.#host.paused;
    if (want === this.flags.amInterested || !this.isOpen) return;
    this.flags.amInterested = want;
    this.#send(want ? INTERESTED : NOT_INTERESTED);
    if (want) this.fillRequests();
    else this.abortRequests();
  }

  #onRequest(r: RequestMessage): void {
    const content = this.#host.content;
    const allowed = !this.flags.amChoking || this.uploads.granted.has(r.index);
    if (content === undefined || !content.have.has(r.index) || !allowed || this.#host.paused) {
      if (this.flags.fast) this.#send(encodeReject(r.index, r.begin, r.length));
      return;
    }
    if (this.uploads.length >= this.#host.limits.maxPeerRequests) {
      if (this.flags.fast) this.#send(encodeReject(r.index, r.begin, r.length));
      return;
    }
    this.uploads.push(r);
    this.#justServed = r;
    this.#out.serve();
  }

  #onPiece(piece: number, offset: number, block: Uint8Array, now: number): void {
    const content = this.#host.content;
    if (content === undefined) return;
    this.requests.received(block.length, now);
    const expected = Math.min(BLOCK_LENGTH, content.picker.pieceSize(piece) - offset);
    if (offset % BLOCK_LENGTH !== 0 || block.length !== expected) {
      // Not a block we could have requested (we only ask for aligned 16 KiB blocks).
      throw new WireError(
        'OFFSET_OUT_OF_RANGE',
        `unrequested block ${piece}/${offset}+${block.length}`,
      );
    }
    this.#host.onBlock(this, piece, offset, block);
    this.fillRequests();
  }

  /** BEP 52 hash request / hashes / hash reject (ids 21-23). */
  #onHashMessage(id: number, payload: Uint8Array, served: RequestMessage | undefined): void {
    const message = decodeHashMessage(id, payload);
    if (message.type === 'hashRequest') this.#hashRequests.answer(message, served);
    else this.#host.onHashes?.(this, message);
  }

  /** Sends a BEP 52 hash request (e.g. for a piece layer of a magnet-started v2 torrent). */
  sendHashRequest(request: Omit<HashRequestMessage, 'type'>): void {
    if (this.isOpen) this.#send(encodeHashMessage({ type: 'hashRequest', ...request }));
  }

  #onExtended(id: number, payload: Uint8Array): void {
    if (id === EXTENSION_HANDSHAKE_ID) {
      this.remoteExtensions = decodeExtensionHandshake(payload);
      this.#host.onExtensionHandshake(this);
      return;
    }
    if (id === LOCAL_EXTENSIONS[UT_METADATA]) {
      this.#host.onMetadataMessage(this, decodeMetadataMessage(payload));
    } else if (id === LOCAL_EXTENSIONS[UT_PEX]) {
      this.#host.onPex(this, decodePexMessage(payload));
    }
  }

  // --- uploading -----------------------------------------------------------------------------

  /**
   * Takes the next queued requests to serve, in order, at most `max` (one socket write for them
   * all, one disk read per run of consecutive blocks). Undefined when nothing is queued.
   */
  takeUploadGroup(max: number): RequestMessage[] | undefined {
    return this.isOpen ? this.uploads.take(max) : undefined;
  }

  /** `bytes` of block data were handed to the socket for the peer. */
  uploadedBytes(bytes: number): void {
    const now = this.#host.clock.now();
    this.uploads.served(bytes, now);
    this.#lastSentAt = now;
  }

  // --- requesting ----------------------------------------------------------------------------

  /** How many requests to keep outstanding with this peer (see `pipelineDepth`). */
  targetDepth(): number {
    const now = this.#host.clock.now();
    return this.requests.depth(now, this.#host.limits, this.remoteExtensions?.reqq);
  }

  /** Tops the request pipeline up (BEP 3 "pipelining", `RequestPipeline.fill`). */
  fillRequests(): void {
    const content = this.#host.content;
    const pieces = this.peerPieces.bitfield;
    if (content === undefined || pieces === undefined || !this.isOpen || !this.flags.amInterested)
      return;
    if (this.#host.paused) return;
    const requests = this.requests.fill({
      picker: content.picker,
      pieces,
      peerChoking: this.flags.peerChoking,
      fast: this.flags.fast,
      reqq: this.remoteExtensions?.reqq,
      limits: this.#host.limits,
      now: this.#host.clock.now(),
    });
    if (requests !== undefined) this.#send(requests);
  }

  /** Gives every outstanding request back to the picker (choked, not interested, snubbed). */
  abortRequests(): BlockRequest[] {
    return this.requests.abort(this.#host.content?.picker);
  }

  /** Timers, driven by the torrent's tick: handshake, request (snub), idle, write stall, keep-alive. */
  tick(now: number): void {
    if (this.isClosed) return;
    this.#hashRequests.tick();
    const limits = this.#host.limits;
    const stalled = this.#out.stalledSince();
    if (stalled !== undefined && now - stalled >= limits.writeStallTimeoutMs) {
      this.close(new PeerError('PEER_TIMEOUT', 'peer stopped reading'));
      return;
    }
    if (!this.isOpen) {
      if (now - this.connectedAt >= limits.handshakeTimeoutMs)
        this.close(new PeerError('PEER_TIMEOUT', 'handshake not finished in time'));
      return;
    }
    const picker = this.#host.content?.picker;
    for (const r of this.requests.timeout(picker, now, limits, this.flags.peerChoking))
      this.sendCancel(r);
    if (now - this.#lastReceivedAt >= limits.idleTimeoutMs) {
      this.close(new PeerError('PEER_TIMEOUT', 'peer sent nothing for too long'));
      return;
    }
    // BEP 3: keep-alives are sent once every two minutes; we send one after 90 s of silence.
    if (now - this.#lastSentAt >= KEEP_ALIVE_INTERVAL_MS) this.#send(KEEP_ALIVE);
    this.fillRequests();
  }
}
