/**
 * A torrent session: the swarm of peer connections for one info-hash, wired to the picker, the
 * choker and verified storage. Peer discovery is not its job: it is handed peer addresses
 * (`addPeer`, the `peers` option, PEX) and accepts incoming connections when it listens.
 *
 * Everything time-related runs on `network.clock` and every random choice on
 * `network.random`, so a session inside netsim replays exactly from the simulation's seed.
 */

import { join } from 'node:path';
import type { Address, Network, Stream, StreamListener, Timer } from '@peerkit/transport';
import { formatAddress } from '@peerkit/transport';
import type { Bitfield } from './bitfield';
import { type ChokerState, initialChokerState, RECHOKE_INTERVAL_MS, rechoke } from './choker';
import { MetainfoError, PieceExchangeError } from './errors';
import { parseMagnet } from './magnet';
import { PiecePicker } from './picker';
import { Emitter } from './session/emitter';
import { MetadataExchange } from './session/metadata-exchange';
import { Peer } from './session/peer';
import { PeerError } from './session/peer-error';
import type { Content, PeerHost, PeerLimits } from './session/peer-host';
import { peerIdHex, peerStats, pieceContributors } from './session/peer-report';
import { PexState } from './session/pex';
import { type FileSystem, nodeFileSystem } from './storage/file-system';
import { FileLayout } from './storage/layout';
import { PieceStore } from './storage/piece-store';
import { bytesLeft, presentPieces } from './storage/progress';
import { saveResume, verifiedAtStart } from './storage/resume';
import {
  DEFAULT_LIMITS,
  type PeerRejectReason,
  type PeerStats,
  parseInfoBytes,
  redialDelay,
  type TorrentEvents,
  type TorrentInfo,
  type TorrentOptions,
  type TorrentStats,
} from './torrent-options';
import { torrentGeometry } from './wire/decoder';
import { DEFAULT_MAX_METADATA_SIZE } from './wire/extension';
import type { MetadataMessage } from './wire/metadata';
import type { PexMessage } from './wire/pex';

interface Candidate {
  address: Address;
  failures: number;
  nextAttemptAt: number;
}

export class Torrent extends Emitter<TorrentEvents> implements PeerHost {
  readonly infoHash: Uint8Array;
  readonly peerId: Uint8Array;
  readonly limits: PeerLimits;
  readonly clientName: string;
  info: TorrentInfo | undefined;
  content: Content | undefined;
  paused = false;
  /** The storage error that paused the session, if any (also emitted as `error`). */
  lastError: Error | undefined;
  private readonly network: Network;
  private readonly options: TorrentOptions;
  private readonly fs: FileSystem;
  private readonly peers = new Map<number, Peer>();
  private readonly candidates = new Map<string, Candidate>();
  private readonly connecting = new Set<string>();
  private readonly banned = new Set<string>();
  private readonly trust = new Map<string, number>();
  /** Per piece being downloaded: the peers whose blocks were accepted, and how many. */
  private readonly contributors = new Map<number, Map<Peer, number>>();
  /** Why `acceptHandshake` refused a connection, until it closes. */
  private readonly refusals = new Map<Peer, PeerRejectReason>();
  private readonly metadata: MetadataExchange;
  private readonly pex = new PexState();
  private listener: StreamListener | undefined;
  private tickTimer: Timer | undefined;
  private resumeTimer: Timer | undefined;
  private saving: Promise<void> = Promise.resolve();
  private chokerState: ChokerState = initialChokerState;
  private lastRechoke = 0;
  private nextPeerId = 1;
  private closed = false;
  private downloaded = 0;
  private uploadedBefore = 0;
  private wasted = 0;
  private hashFailures = 0;
  private resumedPieces = 0;
  private doneEmitted = false;
  private readonly magnetPeers: Address[];

  private constructor(options: TorrentOptions) {
    super();
    const magnet =
      typeof options.magnet === 'string' ? parseMagnet(options.magnet) : options.magnet;
    if (magnet !== undefined && magnet.infoHash === undefined) {
      throw new MetainfoError(
        'V2_ONLY_UNSUPPORTED',
        'a v2-only magnet (btmh) cannot be downloaded yet',
      );
    }
    this.magnetPeers = magnet?.peers.map((p) => ({ host: p.host, port: p.port })) ?? [];
    const infoHash = options.info?.infoHash ?? options.infoHash ?? magnet?.infoHash;
    if (infoHash === undefined || infoHash.length !== 20) {
      throw new RangeError('a torrent needs `info`, a 20-byte `infoHash` or a `magnet`');
    }
    this.options = options;
    this.network = options.network;
    this.infoHash = infoHash;
    this.fs = options.fs ?? nodeFileSystem();
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.clientName = options.clientName ?? 'peerkit 0.1';
    this.peerId = options.peerId ?? defaultPeerId(this.network.random.bytes(12));
    this.metadata = new MetadataExchange(
      infoHash,
      options.maxMetadataSize ?? DEFAULT_MAX_METADATA_SIZE,
    );
  }

  /** Opens a torrent: loads resume data or re-checks, listens, and dials the given peers. */
  static async open(options: TorrentOptions): Promise<Torrent> {
    const torrent = new Torrent(options);
    try {
      if (options.info !== undefined) await torrent.setInfo(options.info);
      if (options.listen !== undefined) {
        torrent.listener = await options.network.listen(options.listen, (stream) =>
          torrent.accept(stream),
        );
      }
      const tickMs = options.tickMs ?? 1000;
      torrent.tickTimer = options.network.clock.setInterval(() => torrent.tick(), tickMs);
      for (const address of [...(options.peers ?? []), ...torrent.magnetPeers])
        torrent.addPeer(address);
    } catch (error) {
      await torrent.close();
      throw error;
    }
    return torrent;
  }

  get clock() {
    return this.network.clock;
  }

  /** The address incoming connections reach, when listening. */
  get listenAddress(): Address | undefined {
    return this.listener?.localAddress;
  }

  get listenPort(): number | undefined {
    return this.listener?.localAddress.port;
  }

  get metadataSize(): number | undefined {
    return this.metadata.size;
  }

  get done(): boolean {
    return this.content?.have.complete ?? false;
  }

  /** Resolves once every piece is verified (at once when it already is). */
  whenDone(): Promise<void> {
    if (this.done) return Promise.resolve();
    return new Promise((resolve) => this.once('done', resolve));
  }

  /** Adds a peer address to connect to (whether seeding or leeching). */
  addPeer(address: Address): void {
    const key = formatAddress(address);
    if (this.closed || this.banned.has(address.host) || this.candidates.has(key)) return;
    if (this.candidates.size >= 1000) return;
    this.candidates.set(key, { address, failures: 0, nextAttemptAt: 0 });
    this.dialCandidates();
  }

  /** Stops requesting and uploading (connections stay open). */
  pause(): void {
    if (this.paused) return;
    this.paused = true;
    for (const peer of this.peers.values()) {
      peer.setChoking(true);
      peer.updateInterest();
    }
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    for (const peer of this.peers.values()) peer.updateInterest();
    this.rechoke();
  }

  /** Closes every connection and the listener, saves resume data and closes the files. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.tickTimer?.cancel();
    this.resumeTimer?.cancel();
    await this.listener?.close();
    for (const peer of [...this.peers.values()]) {
      peer.close(new PeerError('TORRENT_STOPPED', 'torrent closed'));
    }
    await this.saving;
    if (this.content !== undefined) {
      await this.saveResumeNow().catch((error: unknown) => this.emit('error', asError(error)));
      await this.content.store.close();
    }
  }

  /**
   * Stops at once without flushing or saving resume data (what a crash does). Tests use it to
   * show that a restarted session re-fetches nothing it had verified.
   */
  async kill(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.tickTimer?.cancel();
    this.resumeTimer?.cancel();
    await this.listener?.close();
    for (const peer of [...this.peers.values()]) peer.close();
    await this.content?.store.abandon();
  }

  stats(): TorrentStats {
    const now = this.clock.now();
    const peers: PeerStats[] = [];
    let downloadRate = 0;
    let uploadRate = 0;
    let uploaded = this.uploadedBefore;
    for (const p of this.peers.values()) {
      if (!p.isOpen) continue;
      const stats = peerStats(p, now);
      downloadRate += stats.downloadRate;
      uploadRate += stats.uploadRate;
      uploaded += stats.uploaded;
      peers.push(stats);
    }
    const content = this.content;
    return {
      infoHash: Buffer.from(this.infoHash).toString('hex'),
      name: this.info?.name,
      pieceCount: content?.geometry.pieceCount ?? 0,
      verifiedPieces: content?.have.count ?? 0,
      totalLength: content?.store.layout.totalLength ?? 0,
      left: content === undefined ? undefined : bytesLeft(content.store.layout, content.have),
      downloaded: this.downloaded,
      uploaded,
      wasted: this.wasted,
      downloadRate,
      uploadRate,
      hashFailures: this.hashFailures,
      done: this.done,
      paused: this.paused,
      peers,
      availability: content?.picker.availabilitySnapshot() ?? new Uint32Array(0),
      resumedPieces: this.resumedPieces,
    };
  }

  // --- content --------------------------------------------------------------------------------

  private async setInfo(info: TorrentInfo): Promise<void> {
    const layout = new FileLayout(info.files, info.pieceLength);
    const store = new PieceStore({
      fs: this.fs,
      directory: this.options.directory,
      layout,
      pieceHashes: info.pieceHashes,
    });
    const picker = new PiecePicker({
      pieceCount: layout.pieceCount,
      pieceLength: layout.pieceLength,
      totalLength: layout.totalLength,
      random: this.network.random,
      sequential: this.options.sequential ?? false,
    });
    const have = await this.initialPieces(store);
    for (const index of have.indices()) picker.setHave(index);
    this.resumedPieces = have.count;
    this.info = info;
    if (info.infoBytes !== undefined) this.metadata.infoBytes = info.infoBytes;
    this.content = {
      picker,
      store,
      have,
      geometry: torrentGeometry(layout.totalLength, layout.pieceLength),
    };
    this.emit('metadata', info);
    for (const peer of this.peers.values()) peer.contentReady();
    if (have.complete) this.emitDone();
  }

  /** Resume data (checking that the files are there), or a full re-check. */
  private initialPieces(store: PieceStore): Promise<Bitfield> {
    if (this.options.recheck) return store.recheck(this.options.onRecheck);
    if (this.options.assumeComplete) return presentPieces(store);
    return verifiedAtStart(this.fs, this.resumePath(), this.infoHash, store);
  }

  private resumePath(): string | undefined {
    if (this.options.resume === false) return undefined;
    if (typeof this.options.resume === 'string') return this.options.resume;
    const hex = Buffer.from(this.infoHash).toString('hex');
    return join(this.options.directory, '.peerkit', `${hex}.resume`);
  }

  private scheduleResumeSave(): void {
    if (this.resumeTimer !== undefined || this.closed) return;
    this.resumeTimer = this.clock.setTimeout(() => {
      this.resumeTimer = undefined;
      void this.saveResumeNow().catch((error: unknown) => this.emit('error', asError(error)));
    }, this.options.resumeIntervalMs ?? 5000);
  }

  private saveResumeNow(): Promise<void> {
    const path = this.resumePath();
    const content = this.content;
    if (path === undefined || content === undefined) return Promise.resolve();
    // One save at a time; each copies the verified set, flushes the data, then writes.
    this.saving = this.saving
      .catch(() => undefined)
      .then(() => saveResume(this.fs, path, this.infoHash, content.have, content.store));
    return this.saving;
  }

  // --- connections ----------------------------------------------------------------------------

  private accept(stream: Stream): void {
    if (this.closed || this.peers.size >= (this.options.maxConnections ?? 50)) {
      stream.destroy();
      return;
    }
    if (this.banned.has(stream.remoteAddress.host)) {
      stream.destroy();
      return;
    }
    this.startPeer(stream, false);
  }

  private startPeer(stream: Stream, outgoing: boolean): void {
    const peer = new Peer(this, this.nextPeerId++, stream, outgoing);
    this.peers.set(peer.id, peer);
    void peer.run();
  }

  private dialCandidates(): void {
    if (this.closed) return;
    const now = this.clock.now();
    const max = this.options.maxConnections ?? 50;
    for (const [key, c] of this.candidates) {
      if (this.peers.size + this.connecting.size >= max) return;
      if (this.connecting.has(key) || c.nextAttemptAt > now || this.isConnectedTo(c.address))
        continue;
      this.connecting.add(key);
      this.network
        .dial(c.address, { timeoutMs: 10_000 })
        .then((stream) => {
          this.connecting.delete(key);
          if (this.closed) {
            stream.destroy();
            return;
          }
          c.failures = 0;
          this.startPeer(stream, true);
        })
        .catch(() => {
          this.connecting.delete(key);
          c.failures++;
          if (c.failures >= 6) this.candidates.delete(key);
          else c.nextAttemptAt = this.clock.now() + redialDelay(c.failures);
        });
    }
  }

  private isConnectedTo(address: Address): boolean {
    for (const p of this.peers.values()) {
      const a = p.listenAddress;
      if (a.host === address.host && a.port === address.port) return true;
    }
    return false;
  }

  acceptHandshake(peer: Peer, peerId: Uint8Array): boolean {
    const reason = this.refusalReason(peer, peerId);
    if (reason === undefined) return true;
    this.refusals.set(peer, reason);
    return false;
  }

  private refusalReason(peer: Peer, peerId: Uint8Array): PeerRejectReason | undefined {
    if (this.closed) return 'closing';
    if (this.banned.has(peer.remoteAddress.host)) return 'banned';
    if (Buffer.compare(peerId, this.peerId) === 0) {
      // A connection to ourselves: forget the address.
      if (peer.outgoing) this.candidates.delete(formatAddress(peer.remoteAddress));
      return 'self';
    }
    for (const other of this.peers.values()) {
      if (
        other !== peer &&
        other.isOpen &&
        other.remotePeerId !== undefined &&
        Buffer.compare(other.remotePeerId, peerId) === 0
      ) {
        return 'duplicate';
      }
    }
    return undefined;
  }

  onReady(peer: Peer): void {
    this.emit('peer', {
      type: 'connect',
      address: peer.remoteAddress,
      peerId: peerIdHex(peer.remotePeerId),
    });
    if (this.paused) return;
    this.rechoke();
  }

  onClosed(peer: Peer, error: Error | undefined): void {
    if (!this.peers.delete(peer.id)) return;
    const content = this.content;
    if (content !== undefined) {
      if (peer.pieces !== undefined) content.picker.removeAvailability(peer.pieces);
      content.picker.abortAll(peer.id);
    }
    this.uploadedBefore += peer.upload.total;
    this.metadata.forget(peer.id);
    this.pex.forget(peer.id);
    const refusal = this.refusals.get(peer);
    this.refusals.delete(peer);
    if (peer.opened) {
      this.emit('peer', {
        type: 'disconnect',
        address: peer.remoteAddress,
        peerId: peerIdHex(peer.remotePeerId),
        ...(error ? { error } : {}),
      });
    } else {
      // Refused or failed in the handshake: it never emitted `connect`.
      this.emit('peer', {
        type: 'rejected',
        address: peer.remoteAddress,
        reason: refusal ?? (this.closed ? 'closing' : 'handshake'),
        ...(error ? { error } : {}),
      });
    }
    if (!this.closed) {
      // Its requests are free again: let the others pick them up.
      for (const other of this.peers.values()) other.fillRequests();
      if (peer.outgoing && !this.banned.has(peer.remoteAddress.host) && !this.done) {
        const c = this.candidates.get(formatAddress(peer.remoteAddress));
        if (c !== undefined) c.nextAttemptAt = this.clock.now() + 5000;
      }
      if (!peer.amChoking) this.rechoke();
    }
  }

  onPeerInterest(_peer: Peer): void {
    // Fill a free upload slot at once instead of waiting for the next rechoke.
    let unchokedInterested = 0;
    for (const p of this.peers.values())
      if (p.isOpen && !p.amChoking && p.peerInterested) unchokedInterested++;
    if (unchokedInterested < 4) this.rechoke();
  }

  onAvailability(peer: Peer): void {
    // Two seeds have nothing to exchange.
    if (this.done && peer.isSeed) peer.close();
  }

  onBlock(peer: Peer, piece: number, offset: number, block: Uint8Array): void {
    const content = this.content;
    if (content === undefined) return;
    const result = content.picker.received(peer.id, piece, offset);
    if (!result.accepted) {
      this.wasted += block.length;
      return;
    }
    this.downloaded += block.length;
    for (const other of result.cancel) {
      this.peers.get(other)?.sendCancel({ piece, offset, length: block.length });
    }
    let senders = this.contributors.get(piece);
    if (senders === undefined) {
      senders = new Map();
      this.contributors.set(piece, senders);
    }
    senders.set(peer, (senders.get(peer) ?? 0) + 1);
    content.store.writeBlock(piece, offset, block).then(
      (check) => {
        if (check !== undefined) this.pieceChecked(check.piece, check.ok);
      },
      (error: unknown) => {
        // The piece is not on disk: forget its blocks so that it is fetched again on resume().
        content.picker.pieceFailed(piece);
        content.store.discardPiece(piece);
        this.contributors.delete(piece);
        this.storageFailed(asError(error));
      },
    );
  }

  private pieceChecked(piece: number, ok: boolean): void {
    const content = this.content;
    if (content === undefined || this.closed) return;
    const senders = this.contributors.get(piece) ?? new Map<Peer, number>();
    this.contributors.delete(piece);
    const hosts = [...new Set([...senders.keys()].map((p) => p.remoteAddress.host))];
    if (!ok) {
      // BEP 3: a piece that fails its hash is discarded and downloaded again.
      this.hashFailures++;
      this.wasted += content.store.layout.pieceSize(piece);
      content.picker.pieceFailed(piece);
      content.store.discardPiece(piece);
      this.emit('hashFailure', piece, hosts);
      for (const host of hosts) this.adjustTrust(host, -2);
      for (const p of this.peers.values()) p.fillRequests();
      return;
    }
    for (const host of hosts) this.adjustTrust(host, 1);
    content.picker.setHave(piece);
    content.have.set(piece);
    for (const p of this.peers.values()) p.sendHave(piece);
    this.emit('piece', piece, pieceContributors(senders));
    this.emit('progress', content.have.count, content.geometry.pieceCount);
    if (content.have.complete) {
      void this.saveResumeNow().catch((error: unknown) => this.emit('error', asError(error)));
      this.emitDone();
    } else {
      this.scheduleResumeSave();
    }
  }

  private emitDone(): void {
    if (this.doneEmitted) return;
    this.doneEmitted = true;
    this.emit('done');
    // Seeds do not need connections to other seeds.
    for (const p of this.peers.values()) if (p.isSeed) p.close();
  }

  /** libtorrent-style trust points: +1 per good piece (max 8), -2 per failed piece. */
  private adjustTrust(host: string, delta: number): void {
    const value = Math.min(8, (this.trust.get(host) ?? 0) + delta);
    this.trust.set(host, value);
    if (value > (this.options.banTrust ?? -6) || this.banned.has(host)) return;
    this.banned.add(host);
    for (const [key, c] of this.candidates)
      if (c.address.host === host) this.candidates.delete(key);
    this.emit('ban', host);
    for (const p of [...this.peers.values()]) {
      if (p.remoteAddress.host === host)
        p.close(new PeerError('PEER_BANNED', `${host} sent corrupt data`));
    }
  }

  private storageFailed(error: Error): void {
    if (this.closed) return;
    this.lastError = error;
    this.emit('error', error);
    this.pause();
  }

  onExtensionHandshake(peer: Peer): void {
    this.metadata.request(peer, this.clock.now());
  }

  onMetadataMessage(peer: Peer, message: MetadataMessage): void {
    const info = this.metadata.onMessage(peer, message, this.clock.now());
    if (info === undefined || this.content !== undefined) return;
    let parsed: TorrentInfo;
    try {
      parsed = (this.options.parseInfo ?? parseInfoBytes)(info, this.infoHash);
    } catch (error) {
      this.emit('error', asError(error));
      return;
    }
    this.setInfo({ ...parsed, infoBytes: info }).then(
      () => {
        for (const p of this.peers.values()) p.sendExtensionHandshake();
        this.rechoke();
      },
      (error: unknown) => this.storageFailed(asError(error)),
    );
  }

  onPex(_peer: Peer, message: PexMessage): void {
    for (const a of [...message.added, ...message.added6].slice(0, 50))
      this.addPeer({ host: a.host, port: a.port });
  }

  // --- periodic work --------------------------------------------------------------------------

  private tick(): void {
    if (this.closed) return;
    const now = this.clock.now();
    for (const peer of [...this.peers.values()]) {
      peer.tick(now);
      if (this.content === undefined) this.metadata.request(peer, now);
    }
    if (now - this.lastRechoke >= RECHOKE_INTERVAL_MS) this.rechoke();
    this.pex.tick(now, [...this.peers.values()]);
    if (!this.paused) this.dialCandidates();
  }

  /** Runs the choker over the open peers and applies its decision (BEP 3). */
  private rechoke(): void {
    const now = this.clock.now();
    this.lastRechoke = now;
    const open = [...this.peers.values()].filter((p) => p.isOpen);
    if (this.paused || this.content === undefined) {
      for (const p of open) p.setChoking(true);
      return;
    }
    const result = rechoke({
      peers: open.map((p) => ({
        id: p.id,
        interested: p.peerInterested,
        downloadRate: p.download.rate(now),
        uploadRate: p.upload.rate(now),
        connectedAt: p.connectedAt,
        snubbed: p.snubbed,
        isSeed: p.isSeed,
      })),
      seeding: this.done,
      now,
      state: this.chokerState,
      random: this.network.random,
    });
    this.chokerState = result.state;
    for (const p of open) p.setChoking(!result.unchoked.has(p.id));
  }
}

function defaultPeerId(random: Uint8Array): Uint8Array {
  const id = new Uint8Array(20);
  id.set(new TextEncoder().encode('-PK0100-'), 0);
  id.set(random.subarray(0, 12), 8);
  return id;
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new PieceExchangeError('UNKNOWN', String(error));
}
