/**
 * A torrent session: the swarm of peer connections for one info-hash, wired to the picker, the
 * choker, the swarm policy and verified storage. Peer discovery is not its job: it is handed
 * peer addresses (`addPeer`, the `peers` option, PEX) and accepts incoming connections when it
 * listens.
 *
 * The decisions live in pure modules this class only wires together: `PeerSession` (one
 * connection's BEP 3/6/10 state machine), `PiecePicker`, `rechoke` (the choker), `SwarmPolicy`
 * (dialling, limits, trust and bans) and `MetadataExchange` (BEP 9). Everything time-related runs
 * on `network.clock` and every random choice on `network.random`, so a session inside netsim
 * replays exactly from the simulation's seed.
 */
import type { Readable } from 'node:stream';
import type { Address, Network, StreamListener, Timer } from '@peerkit/transport';
import { Emitter } from '@peerkit/transport';
import { type ChokerState, initialChokerState, RECHOKE_INTERVAL_MS } from './choker';
import type { ClientRegistration } from './client/attach';
import type { FilePriority } from './file-priorities';
import { MetadataExchange } from './session/metadata-exchange';
import type { PeerConnectionHost } from './session/peer-connection';
import { PeerError } from './session/peer-error';
import type { Content } from './session/peer-host';
import { DEFAULT_LIMITS, type PeerLimits } from './session/peer-limits';
import { peerIdentities, pieceContributors } from './session/peer-report';
import type { PeerSession } from './session/peer-session';
import { PexState } from './session/pex';
import { type FileSystem, nodeFileSystem } from './storage/file-system';
import type { StorageLock } from './storage/lock';
import type { FileReadOptions } from './stream';
import { type Ban, SwarmPolicy } from './swarm-policy';
import { applyRechoke, uploadSlotFree } from './torrent-choke';
import { Connections } from './torrent-connections';
import { openContent } from './torrent-content';
import { Downloads } from './torrent-downloads';
import type { TorrentEvents } from './torrent-events';
import { peerHost } from './torrent-host';
import { parseInfoBytes, type TorrentInfo, torrentTarget } from './torrent-info';
import { defaultPeerId, TICK_MS, type TorrentOptions } from './torrent-options';
import { closedEvent, connectEvent } from './torrent-peer-events';
import { ResumeSaver } from './torrent-resume';
import { initialPriorities } from './torrent-selection';
import { type TorrentStats, torrentStats } from './torrent-stats';
import { TorrentStreams } from './torrent-streams';
import { asError, TorrentV2 } from './torrent-v2';
import { DEFAULT_MAX_METADATA_SIZE } from './wire/extension';

export class Torrent extends Emitter<TorrentEvents> {
  readonly infoHash: Uint8Array;
  readonly peerId: Uint8Array;
  readonly limits: Readonly<PeerLimits>;
  readonly clientName: string;
  readonly #network: Network;
  readonly #options: TorrentOptions;
  readonly #fs: FileSystem;
  readonly #peers: Connections;
  readonly #swarm: SwarmPolicy;
  readonly #metadata: MetadataExchange;
  readonly #pex = new PexState();
  readonly #host: PeerConnectionHost;
  readonly #magnetPeers: Address[];
  /** Blocks received, their contributors and the pieces they complete. */
  readonly #downloads: Downloads;
  readonly #resume: ResumeSaver;
  #info: TorrentInfo | undefined;
  #content: Content | undefined;
  #paused = false;
  #lastError: Error | undefined;
  #listener: StreamListener | undefined;
  #lock: StorageLock | undefined;
  #tickTimer: Timer | undefined;
  #client: ClientRegistration | undefined;
  #chokerState: ChokerState = initialChokerState;
  #lastRechoke = 0;
  #closed = false;
  #uploadedBefore = 0;
  #resumedPieces = 0;
  #doneEmitted = false;
  /** BEP 52: the v2 info-hashes and a v2 magnet's piece layer fetch (torrent-v2.ts). */
  readonly #v2: TorrentV2;
  /** File priorities and streams (./torrent-streams.ts). */
  readonly #streams = new TorrentStreams({
    now: () => this.#network.clock.now(),
    peers: () => this.#peers.values(),
    setFilePriorities: (priorities) => this.setFilePriorities(priorities),
  });

  private constructor(options: TorrentOptions) {
    super();
    const { infoHash, magnetPeers, v2 } = torrentTarget(options);
    this.#magnetPeers = magnetPeers;
    this.#options = options;
    this.#network = options.network;
    this.infoHash = infoHash;
    const fs = options.fs ?? nodeFileSystem();
    this.#fs = options.client?.fileSystem(fs) ?? fs;
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.clientName = options.clientName ?? 'peerkit 0.1';
    this.peerId = options.peerId ?? defaultPeerId(this.#network.random.bytes(12));
    this.#swarm = new SwarmPolicy({
      maxConnections: options.maxConnections,
      maxHalfOpen: options.maxHalfOpen,
      banTrust: options.banTrust,
    });
    this.#metadata = new MetadataExchange(
      v2?.infoHash ?? infoHash,
      options.maxMetadataSize ?? DEFAULT_MAX_METADATA_SIZE,
    );
    this.#host = peerHost({
      clock: this.#network.clock,
      infoHash,
      peerId: this.peerId,
      limits: this.limits,
      clientName: this.clientName,
      metadata: this.#metadata,
      v2: () => this.#v2,
      content: () => this.#content,
      paused: () => this.#paused,
      isPrivate: () => this.#info?.private === true,
      listenPort: () => this.listenAddress?.port,
      admit: (peer, peerId) => this.#peers.admit(peer, peerId, this.peerId),
      ready: (peer) => this.#onReady(peer),
      closed: (peer, error) => this.#onClosed(peer, error),
      interest: () => this.#onPeerInterest(),
      block: (content, ...block) => this.#downloads.block(content, ...block),
      closeIfBothSeeds: (peer) => this.#closeIfBothSeeds(peer),
      candidate: (address) => this.#addCandidate(address, false),
    });
    this.#peers = new Connections(this.#network, this.#swarm, this.#host, () => this.#closed, {
      policy: options.encryption ?? 'prefer',
      infoHash,
      altInfoHash: v2?.altInfoHash,
      handshakeFailed: (address, error) =>
        this.emit('peer', { type: 'rejected', address, reason: 'handshake', error }),
    });
    this.#resume = new ResumeSaver(this.#fs, options, infoHash, this.#network.clock, (error) =>
      this.#emitError(error),
    );
    this.#v2 = new TorrentV2(v2, {
      peers: () => this.#peers.values(),
      now: () => this.#network.clock.now(),
      swarm: this.#swarm,
      ban: (ban) => this.#ban(ban),
      parse: (bytes) => (options.parseInfo ?? parseInfoBytes)(bytes, this.infoHash),
      infoBytes: (bytes) => (this.#metadata.infoBytes = bytes),
      open: (info) => this.#setInfo(info),
      rechoke: () => this.#rechoke(),
      failed: (error) => this.#storageFailed(error),
      error: (error) => this.#emitError(error),
    });
    this.#downloads = new Downloads({
      peer: (id) => this.#peers.get(id),
      pieceChecked: (piece, ok, senders) => this.#pieceChecked(piece, ok, senders),
      storageFailed: (error) => this.#storageFailed(error),
      active: () => !this.#closed,
    });
  }

  /** Opens a torrent: loads resume data or re-checks, listens, and dials the given peers. */
  static async open(options: TorrentOptions): Promise<Torrent> {
    const torrent = new Torrent(options);
    try {
      if (options.info !== undefined && torrent.#v2.needsLayers(options.info))
        torrent.#v2.fetchLayers(options.info);
      else if (options.info !== undefined) await torrent.#setInfo(options.info);
      if (options.client !== undefined) {
        // A `TorrentClient` (client/attach.ts) listens and ticks for all its torrents.
        const [tick, rechoke] = [() => torrent.#tick(), () => torrent.#rechoke()];
        const { infoHash } = torrent;
        torrent.#client = options.client.attach({ infoHash, peers: torrent.#peers, tick, rechoke });
      } else if (options.listen !== undefined) {
        torrent.#listener = await options.network.listen(options.listen, (stream) =>
          torrent.#peers.accept(stream),
        );
      }
      const tickMs = options.tickMs ?? TICK_MS;
      if (torrent.#client === undefined)
        torrent.#tickTimer = options.network.clock.setInterval(() => torrent.#tick(), tickMs);
      for (const address of [...(options.peers ?? []), ...torrent.#magnetPeers])
        torrent.addPeer(address);
    } catch (error) {
      await torrent.close();
      throw error;
    }
    return torrent;
  }

  /** The torrent's content, once known (at once, or fetched for a magnet). */
  get info(): TorrentInfo | undefined {
    return this.#info;
  }

  /**
   * Each file's path elements on disk, under `directory`, once the content is known: the
   * torrent's names after sanitising and shortening to the platform's limits (storage/disk-paths).
   */
  get diskPaths(): readonly (readonly string[])[] | undefined {
    return this.#content?.store.paths;
  }

  /** True while paused (by `pause()`, or by a storage failure: see `lastError`). */
  get paused(): boolean {
    return this.#paused;
  }

  /** The storage error that paused the session, if any (also emitted as `error`). */
  get lastError(): Error | undefined {
    return this.#lastError;
  }

  /** The address incoming connections reach, when listening. */
  get listenAddress(): Address | undefined {
    return this.#listener?.localAddress ?? this.#client?.listenAddress;
  }

  /** Every piece of the selected files is verified (every piece, when all files are). */
  get done(): boolean {
    return this.#content?.picker.wantedComplete ?? false;
  }

  /** Resolves once every wanted piece is verified (at once when it already is). */
  whenDone(): Promise<void> {
    if (this.done) return Promise.resolve();
    return new Promise((resolve) => this.once('done', () => resolve()));
  }

  /**
   * Adds a peer address to connect to (whether seeding or leeching). It is retried with backoff
   * for the whole session, however long it is down.
   */
  addPeer(address: Address): void {
    this.#addCandidate(address, true);
  }

  #addCandidate(address: Address, permanent: boolean): void {
    if (this.#closed || !this.#swarm.add(address, permanent)) return;
    this.#peers.dial();
  }

  // --- file selection and streaming (./torrent-streams.ts) ---------------------------------

  /** Each file's priority, once the content is known. */
  get filePriorities(): readonly FilePriority[] | undefined {
    return this.#streams.priorities;
  }

  /** Sets each file's priority: `skip`, `normal`, `high` (./torrent-selection.ts). */
  async setFilePriorities(priorities: readonly FilePriority[]): Promise<void> {
    await this.#streams.change(priorities);
    if (!this.done && this.#doneEmitted) {
      this.#doneEmitted = false;
      this.#swarm.incompleteAgain(this.#network.clock.now()); // redial the seeds we left
      this.#peers.dial();
    }
    for (const p of this.#peers.values()) p.prioritiesChanged();
    if (this.done) this.#emitDone();
  }

  /** Downloads only the files `indices` (counted from 0, in the torrent's file order). */
  select(indices: Iterable<number>): Promise<void> {
    return this.setFilePriorities(this.#streams.selected(indices));
  }

  /** Reads bytes `start..end` (inclusive) of a file while it downloads (./stream.ts). */
  createReadStream(file: number, options?: FileReadOptions): Readable {
    return this.#streams.createReadStream(file, options);
  }

  /** Stops requesting and uploading (connections stay open). */
  pause(): void {
    if (this.#paused) return;
    this.#paused = true;
    for (const peer of this.#peers.values()) {
      peer.setChoking(true);
      peer.updateInterest();
    }
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    for (const peer of this.#peers.values()) peer.updateInterest();
    this.#rechoke();
  }

  /** Closes every connection and the listener, saves resume data and closes the files. */
  async close(): Promise<void> {
    if (!(await this.#stop(new PeerError('TORRENT_STOPPED', 'torrent closed')))) return;
    await this.#resume.stop();
    if (this.#content !== undefined) {
      await this.#resume.saveNow(this.#content).catch((error: unknown) => this.#emitError(error));
      await this.#content.store.close();
    }
    await this.#lock?.release();
  }

  /**
   * Stops at once without flushing or saving resume data (what a crash does). Tests use it to
   * show that a restarted session re-fetches nothing it had verified.
   */
  async kill(): Promise<void> {
    if (!(await this.#stop(undefined, () => void this.#resume.stop()))) return;
    await this.#content?.store.abandon();
    await this.#lock?.release();
  }

  /** Stops the timers, the listener and every connection; false when already stopped. */
  async #stop(error: PeerError | undefined, first?: () => void): Promise<boolean> {
    if (this.#closed) return false;
    this.#closed = true;
    this.#tickTimer?.cancel();
    this.#client?.detach();
    this.#streams.close();
    first?.();
    await this.#listener?.close();
    this.#peers.closeHandshakes();
    for (const peer of [...this.#peers.values()]) peer.close(error);
    return true;
  }

  stats(): TorrentStats {
    return torrentStats({
      infoHash: this.infoHash,
      name: this.#info?.name,
      content: this.#content,
      peers: this.#peers.values(),
      now: this.#network.clock.now(),
      uploadedBefore: this.#uploadedBefore,
      downloads: this.#downloads,
      paused: this.#paused,
      resumedPieces: this.#resumedPieces,
    });
  }

  // --- content -------------------------------------------------------------------------------

  async #setInfo(info: TorrentInfo): Promise<void> {
    const priorities = initialPriorities(this.#options, info.files);
    const { content, lock, selection } = await openContent(info, {
      fs: this.#fs,
      directory: this.#options.directory,
      // One writer per set of files (on disk; a custom `fs` is the caller's business).
      lock: this.#options.fs === undefined && this.#options.lock !== false,
      random: this.#network.random,
      sequential: this.#options.sequential ?? false,
      resume: this.#resume,
      onPieceChanged: (error) => this.#emitError(error),
      priorities,
      resumePath: this.#options.resume,
    });
    this.#lock = lock;
    this.#resumedPieces = content.have.count;
    this.#info = info;
    this.#v2.infoKnown(info);
    if (info.infoBytes !== undefined) this.#metadata.infoBytes = info.infoBytes;
    this.#content = content;
    this.#streams.contentReady(content, selection);
    this.emit('metadata', info);
    for (const peer of this.#peers.values()) peer.contentReady();
    if (this.done) this.#emitDone();
  }

  #pieceChecked(piece: number, ok: boolean, senders: ReadonlyMap<PeerSession, number>): void {
    const content = this.#content;
    if (content === undefined || this.#closed) return;
    const hosts = [...new Set([...senders.keys()].map((p) => p.remoteAddress.host))];
    const identities = peerIdentities(senders.keys());
    if (!ok) {
      this.emit('hashFailure', { index: piece, peers: hosts });
      for (const ban of this.#swarm.pieceFailed(identities)) this.#ban(ban);
      for (const p of this.#peers.values()) p.fillRequests();
      return;
    }
    this.#swarm.pieceVerified(identities);
    content.picker.setHave(piece);
    content.have.set(piece);
    this.#streams.pieceVerified(piece);
    for (const p of this.#peers.values()) p.sendHave(piece);
    this.emit('piece', { index: piece, contributors: pieceContributors(senders) });
    this.emit('progress', { verified: content.have.count, total: content.geometry.pieceCount });
    if (this.done) {
      void this.#resume.saveNow(content).catch((error: unknown) => this.#emitError(error));
      this.#emitDone();
    } else {
      this.#resume.schedule(content);
    }
  }

  #emitDone(): void {
    if (this.#doneEmitted) return;
    this.#doneEmitted = true;
    this.emit('done', { pieces: this.#content?.geometry.pieceCount ?? 0 });
    // Seeds do not need connections to other seeds.
    for (const p of [...this.#peers.values()]) if (p.isSeed) p.close();
  }

  /**
   * The swarm policy banned a peer (its address and peer id) or, after `HOST_BAN_PEERS` banned
   * peers there, its whole address: cut off exactly those connections.
   */
  #ban(ban: Ban): void {
    const { host, peerId, wholeHost } = ban;
    this.emit('ban', { host, peerId, wholeHost });
    this.#peers.cutOff(ban);
  }

  #emitError(error: unknown): void {
    this.emit('error', asError(error));
  }

  #storageFailed(error: Error): void {
    if (this.#closed) return;
    this.#lastError = error;
    this.emit('error', error);
    this.pause();
  }

  // --- what the peer sessions tell the torrent (./torrent-host.ts) ---------------------------

  /**
   * Two seeds have nothing to exchange: close, once the peer's extension handshake told where it
   * listens (its `p`), so that the swarm policy knows whom not to redial (`SEED_REDIAL_MS`).
   */
  #closeIfBothSeeds(peer: PeerSession): void {
    if (!this.done || !peer.isSeed) return;
    if (peer.extended && peer.extensionHandshake === undefined) return;
    peer.close();
  }

  #onReady(peer: PeerSession): void {
    this.emit('peer', connectEvent(peer));
    if (!this.#paused) this.#rechoke();
  }

  #onClosed(peer: PeerSession, error: Error | undefined): void {
    const removed = this.#peers.remove(peer);
    if (removed === false) return;
    const content = this.#content;
    if (content !== undefined) {
      if (peer.pieces !== undefined) content.picker.removeAvailability(peer.pieces);
      content.picker.abortAll(peer.id);
    }
    this.#uploadedBefore += peer.uploaded;
    this.#metadata.forget(peer.id);
    this.#v2.forget(peer);
    this.#pex.forget(peer.id);
    this.emit('peer', closedEvent(peer, removed.refusal, this.#closed, error));
    if (this.#closed) return;
    // Its requests are free again: let the others pick them up.
    for (const other of this.#peers.values()) other.fillRequests();
    const now = this.#network.clock.now();
    this.#swarm.disconnected(peer.listenAddress, peer.outgoing, this.done, peer.isSeed, now);
    if (!peer.amChoking) this.#rechoke();
  }

  #onPeerInterest(): void {
    // Fill a free upload slot at once instead of waiting for the next rechoke.
    if (uploadSlotFree(this.#peers.values())) this.#rechoke();
  }

  // --- periodic work -------------------------------------------------------------------------

  #tick(): void {
    if (this.#closed) return;
    const now = this.#network.clock.now();
    for (const peer of [...this.#peers.values()]) {
      peer.tick(now);
      if (this.#content === undefined) this.#metadata.request(peer, now);
    }
    this.#v2.tick();
    if (now - this.#lastRechoke >= RECHOKE_INTERVAL_MS) this.#rechoke();
    // BEP 27: a private torrent sends no PEX.
    if (!this.#info?.private) this.#pex.tick(now, [...this.#peers.values()]);
    if (!this.#paused) this.#peers.dial();
  }

  /** Runs the choker over the open peers and applies its decision (BEP 3; ./torrent-choke.ts). */
  #rechoke(): void {
    const now = this.#network.clock.now();
    this.#lastRechoke = now;
    this.#chokerState = applyRechoke(this.#peers.values(), {
      now,
      seeding: this.done,
      chokeAll: this.#paused || this.#content === undefined,
      state: this.#chokerState,
      random: this.#network.random,
      slots: this.#client?.slots(),
    });
  }
}
