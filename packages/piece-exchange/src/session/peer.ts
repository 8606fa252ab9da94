/**
 * One peer connection: the BEP 3 state machine on a transport `Stream`.
 *
 * Handshake: an outgoing connection sends its handshake at once; an incoming one waits for the
 * remote handshake first. A connection whose first byte is not 19 (`\x13BitTorrent protocol`),
 * e.g. aria2's MSE/PE-encrypted handshake, is ended cleanly so that the client retries in plain.
 * Then `bitfield` / `have all` / `have none` (BEP 6), the BEP 10 extension handshake, and our
 * BEP 6 allowed-fast set.
 *
 * Four flags per connection (BEP 3): `amChoking`, `amInterested`, `peerChoking`,
 * `peerInterested`. We request blocks only while the peer does not choke us, or, with the fast
 * extension, pieces in its allowed-fast set. Without the fast extension a `choke` cancels every
 * outstanding request; with it, requests stay until rejected (BEP 6). A rejected allowed-fast
 * piece leaves the set, and rejects never trigger an immediate re-request, so a choking peer
 * cannot cause a request loop (webtorrent#890).
 *
 * The request pipeline keeps `targetDepth()` requests outstanding: enough to cover about two
 * seconds at the peer's measured rate, at least `minRequestDepth`, at most its `reqq`. A peer
 * that sends nothing for `requestTimeoutMs` while requests are outstanding is snubbed: its
 * requests go back to the picker (others fetch them) and its depth drops to one.
 */
import { Buffer } from 'node:buffer';
import type { Address, Stream } from '@peerkit/transport';
import { Bitfield } from '../bitfield';
import { WireError } from '../errors';
import type { BlockRequest } from '../picker';
import { allowedFastSet } from '../wire/allowed-fast';
import { WireDecoder, type WireFrame } from '../wire/decoder';
import {
  decodeExtensionHandshake,
  EXTENSION_HANDSHAKE_ID,
  type ExtensionHandshake,
  encodeExtensionHandshake,
  UT_METADATA,
  UT_PEX,
} from '../wire/extension';
import { encodeHandshake, readExtensions } from '../wire/handshake';
import {
  CHOKE,
  encodeAllowedFast,
  encodeBitfield,
  encodeCancel,
  encodeExtended,
  encodeHave,
  encodeReject,
  encodeRequest,
  HAVE_ALL,
  HAVE_NONE,
  INTERESTED,
  KEEP_ALIVE,
  NOT_INTERESTED,
  type RequestMessage,
  UNCHOKE,
} from '../wire/messages';
import { decodeMetadataMessage } from '../wire/metadata';
import { decodePexMessage } from '../wire/pex';
import { PeerError } from './peer-error';
import { LOCAL_EXTENSIONS, type PeerHost, pipelineDepth } from './peer-host';
import { RateMeter } from './rate';
import { encodeGroup, groupBytes, takeGroup } from './upload';

type Phase = 'handshake' | 'open' | 'closed';

export class Peer {
  readonly id: number;
  readonly stream: Stream;
  readonly outgoing: boolean;
  readonly remoteAddress: Address;
  readonly connectedAt: number;
  amChoking = true;
  amInterested = false;
  peerChoking = true;
  peerInterested = false;
  snubbed = false;
  /** BEP 6 fast extension on both sides. */
  fast = false;
  /** BEP 10 extension protocol on both sides. */
  extended = false;
  remotePeerId: Uint8Array | undefined;
  extensionHandshake: ExtensionHandshake | undefined;
  /** The peer's pieces, once the torrent's piece count is known. */
  pieces: Bitfield | undefined;
  readonly download = new RateMeter();
  readonly upload = new RateMeter();
  /** Pieces the peer lets us request while choked (BEP 6). */
  readonly allowedFast = new Set<number>();
  /** Pieces we let the peer request while choked (BEP 6). */
  private grantedFast = new Set<number>();
  /** Pieces the peer has that we miss: interest without scanning the bitfield. */
  private interesting = 0;
  private phase: Phase = 'handshake';
  private wasOpened = false;
  private readonly host: PeerHost;
  private readonly decoder: WireDecoder;
  /** Bitfield / have_all / have_none / haves received before the piece count was known. */
  private early: { all?: boolean; bitfield?: Uint8Array; haves: number[] } = { haves: [] };
  private uploadQueue: RequestMessage[] = [];
  private serving = false;
  private lastBlockAt: number;
  private lastReceivedAt: number;
  private lastSentAt: number;
  private closeError: Error | undefined;

  constructor(host: PeerHost, id: number, stream: Stream, outgoing: boolean) {
    this.host = host;
    this.id = id;
    this.stream = stream;
    this.outgoing = outgoing;
    this.remoteAddress = stream.remoteAddress;
    const now = host.clock.now();
    this.connectedAt = now;
    this.lastBlockAt = now;
    this.lastReceivedAt = now;
    this.lastSentAt = now;
    this.decoder = new WireDecoder({
      torrent: host.content?.geometry,
      maxRequestLength: 16_384,
    });
  }

  get isOpen(): boolean {
    return this.phase === 'open';
  }

  /** True once both handshakes were done (the torrent emitted `connect` for it). */
  get opened(): boolean {
    return this.wasOpened;
  }

  get isSeed(): boolean {
    return this.pieces?.complete ?? this.early.all === true;
  }

  /** The address the peer accepts connections on (for PEX): its `p` port when it sent one. */
  get listenAddress(): Address {
    const port = this.outgoing ? this.remoteAddress.port : this.extensionHandshake?.p;
    return { host: this.remoteAddress.host, port: port ?? this.remoteAddress.port };
  }

  /**
   * The address the peer accepts connections on, when known: the dialed address for an outgoing
   * connection, else the remote IP with the `p` port of its extension handshake (BEP 10).
   */
  get advertisedListenAddress(): Address | undefined {
    if (this.outgoing) return this.remoteAddress;
    const port = this.extensionHandshake?.p;
    return port === undefined ? undefined : { host: this.remoteAddress.host, port };
  }

  get clientName(): string | undefined {
    return this.extensionHandshake?.v;
  }

  /** Reads and handles messages until the connection ends; never throws. */
  async run(): Promise<void> {
    // The iterator is driven by hand: leaving a `for await` early would reset the connection,
    // and a refused MSE handshake must end it cleanly (FIN) so that aria2 retries in plain.
    const chunks = this.stream[Symbol.asyncIterator]();
    let draining = false;
    try {
      if (this.outgoing) this.sendHandshake();
      for (;;) {
        const next = await chunks.next();
        if (next.done) break;
        if (draining) continue; // wait for the remote to close after our FIN
        this.lastReceivedAt = this.host.clock.now();
        try {
          this.decoder.push(next.value);
          for (let frame = this.decoder.next(); frame !== undefined; frame = this.decoder.next()) {
            this.handle(frame);
            if (this.phase === 'closed') break;
          }
        } catch (error) {
          if (
            error instanceof WireError &&
            error.code === 'INVALID_HANDSHAKE' &&
            this.phase === 'handshake'
          ) {
            // Not plain BitTorrent (e.g. MSE/PE): end cleanly so that the client retries in plain.
            this.close(error, true);
            draining = true;
            continue;
          }
          throw error;
        }
        if (this.phase === 'closed') break;
        const store = this.host.content?.store;
        // Backpressure: stop reading while the disk write queue is full.
        if (store !== undefined && store.queuedBytes > 0) await store.whenWritable();
      }
      this.close();
    } catch (error) {
      this.close(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /** Closes the connection (idempotent). `graceful` ends the stream instead of destroying it. */
  close(error?: Error, graceful = false): void {
    if (this.phase === 'closed') return;
    this.phase = 'closed';
    this.closeError = error;
    this.uploadQueue = [];
    if (graceful) {
      // Half-close; if the remote does not close its side soon, destroy.
      const timer = this.host.clock.setTimeout(() => this.stream.destroy(), 5_000);
      this.stream.end().catch(() => undefined);
      void this.stream.closed.then(() => timer.cancel());
    } else {
      this.stream.destroy();
    }
    this.host.onClosed(this, error);
  }

  get error(): Error | undefined {
    return this.closeError;
  }

  // --- sending --------------------------------------------------------------------------------

  private send(bytes: Uint8Array): void {
    if (this.phase === 'closed') return;
    this.lastSentAt = this.host.clock.now();
    this.stream.write(bytes).catch((error: unknown) => {
      this.close(error instanceof Error ? error : new Error(String(error)));
    });
  }

  private sendHandshake(): void {
    this.send(
      encodeHandshake({
        infoHash: this.host.infoHash,
        peerId: this.host.peerId,
        extensions: { extended: true, fast: true },
      }),
    );
  }

  setChoking(choke: boolean): void {
    if (!this.isOpen || this.amChoking === choke) return;
    this.amChoking = choke;
    this.send(choke ? CHOKE : UNCHOKE);
    if (choke) {
      // BEP 6: with the fast extension, queued requests we drop are rejected explicitly.
      const kept: RequestMessage[] = [];
      for (const r of this.uploadQueue) {
        if (this.grantedFast.has(r.index)) kept.push(r);
        else if (this.fast) this.send(encodeReject(r.index, r.begin, r.length));
      }
      this.uploadQueue = kept;
    } else {
      void this.serve();
    }
  }

  sendHave(piece: number): void {
    if (!this.isOpen) return;
    this.grantedFast.delete(piece);
    this.allowedFast.delete(piece);
    if (this.pieces?.has(piece)) {
      this.interesting--;
      this.updateInterest();
      return; // it has the piece: no need to tell it
    }
    this.send(encodeHave(piece));
    this.updateInterest();
  }

  sendCancel(request: BlockRequest): void {
    if (this.isOpen) this.send(encodeCancel(request.piece, request.offset, request.length));
  }

  sendExtended(name: string, payload: Uint8Array): boolean {
    const id = this.extensionHandshake?.m[name];
    if (!this.isOpen || id === undefined || id === 0) return false;
    this.send(encodeExtended(id, payload));
    return true;
  }

  /** True when the peer announced extension `name` in its extension handshake. */
  supports(name: string): boolean {
    const id = this.extensionHandshake?.m[name];
    return id !== undefined && id > 0;
  }

  // --- receiving ------------------------------------------------------------------------------

  private handle(frame: WireFrame): void {
    if (frame.type === 'handshake') {
      this.onHandshake(frame.reserved, frame.infoHash, frame.peerId);
      return;
    }
    switch (frame.type) {
      case 'keepAlive':
      case 'port':
      case 'suggest':
      case 'unknown':
        return;
      case 'choke':
        this.peerChoking = true;
        // BEP 6: "choke no longer implicitly rejects"; without it, every request is dropped.
        if (!this.fast) this.abortRequests();
        return;
      case 'unchoke':
        this.peerChoking = false;
        this.fillRequests();
        return;
      case 'interested':
      case 'notInterested': {
        const interested = frame.type === 'interested';
        if (this.peerInterested !== interested) {
          this.peerInterested = interested;
          this.host.onPeerInterest(this);
        }
        return;
      }
      case 'have':
        this.onHave(frame.index);
        return;
      case 'bitfield':
        this.onBitfield(frame.bitfield, false);
        return;
      case 'haveAll':
      case 'haveNone':
        this.onBitfield(undefined, frame.type === 'haveAll');
        return;
      case 'request':
        this.onRequest(frame);
        return;
      case 'cancel':
        this.uploadQueue = this.uploadQueue.filter(
          (r) => !(r.index === frame.index && r.begin === frame.begin && r.length === frame.length),
        );
        return;
      case 'piece':
        this.onPiece(frame.index, frame.begin, frame.block);
        return;
      case 'reject':
        // BEP 6: the request is withdrawn. No immediate re-request: the next block or tick refills.
        this.host.content?.picker.abort(this.id, frame.index, frame.begin);
        if (this.peerChoking) this.allowedFast.delete(frame.index);
        return;
      case 'allowedFast':
        if (!this.host.content?.have.has(frame.index)) {
          this.allowedFast.add(frame.index);
          if (this.peerChoking) this.fillRequests();
        }
        return;
      case 'extended':
        this.onExtended(frame.id, frame.payload);
        return;
    }
  }

  private onHandshake(reserved: Uint8Array, infoHash: Uint8Array, peerId: Uint8Array): void {
    if (Buffer.compare(infoHash, this.host.infoHash) !== 0) {
      throw new WireError('INFO_HASH_MISMATCH', 'peer handshake is for another torrent');
    }
    this.remotePeerId = peerId;
    if (!this.host.acceptHandshake(this, peerId)) {
      this.close(new PeerError('PEER_REFUSED', 'connection refused (self, duplicate or banned)'));
      return;
    }
    if (!this.outgoing) this.sendHandshake();
    const ext = readExtensions(reserved);
    this.fast = ext.fast;
    this.extended = ext.extended;
    this.phase = 'open';
    this.wasOpened = true;
    const content = this.host.content;
    if (content !== undefined) this.pieces = new Bitfield(content.geometry.pieceCount);
    this.sendPieces();
    if (this.extended) this.sendExtensionHandshake();
    this.sendAllowedFast();
    this.host.onReady(this);
  }

  /** BEP 3 bitfield, or BEP 6 have all / have none. */
  private sendPieces(): void {
    const have = this.host.content?.have;
    if (this.fast) {
      if (have?.complete) this.send(HAVE_ALL);
      else if (have === undefined || have.empty) this.send(HAVE_NONE);
      else this.send(encodeBitfield(have.bytes));
    } else if (have !== undefined && !have.empty) {
      this.send(encodeBitfield(have.bytes));
    }
  }

  sendExtensionHandshake(): void {
    const handshake: ExtensionHandshake = {
      m: { ...LOCAL_EXTENSIONS },
      v: this.host.clientName,
      reqq: this.host.limits.maxPeerRequests,
    };
    if (this.host.listenPort !== undefined) handshake.p = this.host.listenPort;
    if (this.host.metadataSize !== undefined) handshake.metadataSize = this.host.metadataSize;
    if (this.host.content?.have.complete) handshake.uploadOnly = true;
    this.send(encodeExtended(EXTENSION_HANDSHAKE_ID, encodeExtensionHandshake(handshake)));
  }

  /** BEP 6: the pieces this peer may request while we choke it (only pieces we have). */
  private sendAllowedFast(): void {
    const content = this.host.content;
    if (!this.fast || content === undefined) return;
    const set = allowedFastSet(
      this.host.infoHash,
      this.remoteAddress.host,
      content.geometry.pieceCount,
    );
    for (const index of set) {
      if (!content.have.has(index)) continue;
      this.grantedFast.add(index);
      this.send(encodeAllowedFast(index));
    }
  }

  private onHave(index: number): void {
    const content = this.host.content;
    if (content === undefined || this.pieces === undefined) {
      this.early.haves.push(index);
      if (this.early.haves.length > 100_000)
        throw new WireError('MESSAGE_TOO_LARGE', 'too many haves');
      return;
    }
    if (!this.pieces.set(index)) return;
    content.picker.incrementAvailability(index);
    if (!content.have.has(index)) {
      this.interesting++;
      this.updateInterest();
    }
    this.host.onAvailability(this);
  }

  /**
   * `bitfield` (bytes) or `have all`/`have none` (all = true/false). aria2 sends these in the
   * middle of a connection too (not allowed by BEP 3/6, tolerated by libtorrent): the new set
   * replaces the old one.
   */
  private onBitfield(bytes: Uint8Array | undefined, all: boolean): void {
    const content = this.host.content;
    if (content === undefined) {
      this.early = { haves: [], ...(bytes ? { bitfield: bytes.slice() } : { all }) };
      return;
    }
    const count = content.geometry.pieceCount;
    const next = bytes
      ? Bitfield.fromBytes(bytes, count)
      : all
        ? Bitfield.full(count)
        : new Bitfield(count);
    if (this.pieces !== undefined) content.picker.removeAvailability(this.pieces);
    this.pieces = next;
    content.picker.addAvailability(next);
    this.recountInterest();
    this.host.onAvailability(this);
  }

  /** The torrent's metainfo became known (magnet): apply what the peer announced earlier. */
  contentReady(): void {
    const content = this.host.content;
    if (content === undefined) return;
    this.decoder.setTorrent(content.geometry);
    const early = this.early;
    this.early = { haves: [] };
    if (early.bitfield !== undefined) this.onBitfield(early.bitfield, false);
    else this.onBitfield(undefined, early.all === true);
    for (const index of early.haves) {
      if (index < content.geometry.pieceCount) this.onHave(index);
    }
  }

  private recountInterest(): void {
    const content = this.host.content;
    let n = 0;
    if (content !== undefined && this.pieces !== undefined) {
      for (const i of this.pieces.indices()) if (!content.have.has(i)) n++;
    }
    this.interesting = n;
    this.updateInterest();
  }

  /** Sends interested / not interested when it changes (BEP 3). */
  updateInterest(): void {
    const want = this.interesting > 0 && !this.host.paused;
    if (want === this.amInterested || !this.isOpen) return;
    this.amInterested = want;
    this.send(want ? INTERESTED : NOT_INTERESTED);
    if (want) this.fillRequests();
    else this.abortRequests();
  }

  private onRequest(r: RequestMessage): void {
    const content = this.host.content;
    const allowed = !this.amChoking || this.grantedFast.has(r.index);
    if (content === undefined || !content.have.has(r.index) || !allowed || this.host.paused) {
      if (this.fast) this.send(encodeReject(r.index, r.begin, r.length));
      return;
    }
    if (this.uploadQueue.length >= this.host.limits.maxPeerRequests) {
      if (this.fast) this.send(encodeReject(r.index, r.begin, r.length));
      return;
    }
    this.uploadQueue.push(r);
    void this.serve();
  }

  /**
   * Serves queued requests in order. Consecutive blocks of one piece are read from disk at once
   * and sent in one write (header, block, header, block, ...), which keeps syscalls per byte low;
   * the next group is read while the current one drains to the socket.
   */
  private async serve(): Promise<void> {
    if (this.serving) return;
    this.serving = true;
    try {
      const store = this.host.content?.store;
      if (store === undefined) return;
      let group = takeGroup(this.uploadQueue, this.host.limits.uploadBatchBlocks);
      let reading = group && store.readBlock(group[0]!.index, group[0]!.begin, groupBytes(group));
      while (group !== undefined && reading !== undefined && this.isOpen) {
        const data = await reading;
        if (!this.isOpen) return;
        const current = group;
        group = takeGroup(this.uploadQueue, this.host.limits.uploadBatchBlocks);
        reading = group && store.readBlock(group[0]!.index, group[0]!.begin, groupBytes(group));
        // A read that fails while we write is handled when awaited; keep it from going unhandled.
        reading?.catch(() => undefined);
        const out = encodeGroup(current, data);
        const now = this.host.clock.now();
        this.upload.add(data.length, now);
        this.lastSentAt = now;
        await this.stream.write(out);
      }
    } catch (error) {
      this.close(error instanceof Error ? error : new Error(String(error)));
    } finally {
      this.serving = false;
      // Requests that arrived after the loop looked: serve them too.
      if (this.uploadQueue.length > 0 && this.isOpen) void this.serve();
    }
  }

  private onPiece(piece: number, offset: number, block: Uint8Array): void {
    const content = this.host.content;
    if (content === undefined) return;
    const now = this.host.clock.now();
    this.download.add(block.length, now);
    this.lastBlockAt = now;
    this.snubbed = false;
    const expected = Math.min(16_384, content.picker.pieceSize(piece) - offset);
    if (offset % 16_384 !== 0 || block.length !== expected) {
      // Not a block we could have requested (we only ask for aligned 16 KiB blocks).
      throw new WireError(
        'OFFSET_OUT_OF_RANGE',
        `unrequested block ${piece}/${offset}+${block.length}`,
      );
    }
    this.host.onBlock(this, piece, offset, block);
    this.fillRequests();
  }

  private onExtended(id: number, payload: Uint8Array): void {
    if (id === EXTENSION_HANDSHAKE_ID) {
      this.extensionHandshake = decodeExtensionHandshake(payload);
      this.host.onExtensionHandshake(this);
      return;
    }
    if (id === LOCAL_EXTENSIONS[UT_METADATA]) {
      this.host.onMetadataMessage(this, decodeMetadataMessage(payload));
    } else if (id === LOCAL_EXTENSIONS[UT_PEX]) {
      this.host.onPex(this, decodePexMessage(payload));
    }
  }

  // --- requesting -----------------------------------------------------------------------------

  /** How many requests to keep outstanding with this peer (see `pipelineDepth`). */
  targetDepth(): number {
    return pipelineDepth(
      this.download.rate(this.host.clock.now()),
      this.host.limits,
      this.extensionHandshake?.reqq,
      this.snubbed,
    );
  }

  /** Tops the request pipeline up (BEP 3 "pipelining"). */
  fillRequests(): void {
    const content = this.host.content;
    if (content === undefined || this.pieces === undefined || !this.isOpen || !this.amInterested)
      return;
    if (this.host.paused) return;
    let allowed: ReadonlySet<number> | undefined;
    if (this.peerChoking) {
      if (!this.fast || this.allowedFast.size === 0) return;
      allowed = this.allowedFast;
    }
    const picker = content.picker;
    const before = picker.outstanding(this.id);
    const depth = this.targetDepth();
    const want = depth - before;
    // Top up in batches of a quarter of the depth: on loopback a socket write costs tens of
    // microseconds, so requests should share writes.
    if (want <= 0 || (before > 0 && want < Math.ceil(depth / 4))) return;
    const picks = picker.pick(this.id, this.pieces, want, allowed);
    if (picks.length === 0) return;
    if (before === 0) this.lastBlockAt = this.host.clock.now();
    const out = new Uint8Array(17 * picks.length);
    for (const [i, r] of picks.entries())
      out.set(encodeRequest(r.piece, r.offset, r.length), i * 17);
    this.send(out);
  }

  /** Gives every outstanding request back to the picker (choked, not interested, snubbed). */
  abortRequests(): BlockRequest[] {
    return this.host.content?.picker.abortAll(this.id) ?? [];
  }

  /** Timers, driven by the torrent's tick: request timeouts (snub), keep-alive, idle. */
  tick(now: number): void {
    if (!this.isOpen) return;
    const picker = this.host.content?.picker;
    if (picker !== undefined && picker.outstanding(this.id) > 0) {
      if (now - this.lastBlockAt >= this.host.limits.requestTimeoutMs) {
        // Unchoked and silent: snubbed. Choked (fast extension, requests kept until rejected):
        // not its fault, but the requests go elsewhere all the same.
        if (!this.peerChoking) this.snubbed = true;
        for (const r of this.abortRequests()) this.sendCancel(r);
        this.lastBlockAt = now;
      }
    } else {
      this.lastBlockAt = now;
    }
    if (now - this.lastReceivedAt >= this.host.limits.idleTimeoutMs) {
      this.close(new PeerError('PEER_TIMEOUT', 'peer sent nothing for too long'));
      return;
    }
    // BEP 3: keep-alives are sent once every two minutes; we send one after 90 s of silence.
    if (now - this.lastSentAt >= 90_000) this.send(KEEP_ALIVE);
    this.fillRequests();
  }
}
