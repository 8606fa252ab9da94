/**
 * The BEP 52 side of a `Torrent`: which info-hashes reach it (the truncated SHA-256 one of a v2
 * or hybrid torrent), and how a torrent started from a magnet link gets its content: BEP 9 gives
 * the info dictionary; a v2 one holds only each file's `pieces root`, so its piece layers are
 * fetched by hash request before the content opens. A peer whose piece layer hashes fail a
 * file's `pieces root` is banned.
 */
import { PieceExchangeError } from './errors';
import { PeerError } from './session/peer-error';
import { peerIdentities } from './session/peer-report';
import type { PeerSession } from './session/peer-session';
import type { Ban, SwarmPolicy } from './swarm-policy';
import { type TorrentInfo, torrentTarget, type V2Target } from './torrent-info';
import { LayerFetch, MagnetLayers } from './v2/magnet-layers';
import type { HashesMessage, HashRejectMessage } from './wire/hashes';

export interface TorrentV2Hooks {
  peers(): Iterable<PeerSession>;
  now(): number;
  readonly swarm: SwarmPolicy;
  ban(ban: Ban): void;
  /** Parses a BEP 9 info dictionary (throws when it is not a valid one). */
  parse(bytes: Uint8Array): TorrentInfo;
  /** The info dictionary to serve to other peers (BEP 9). */
  infoBytes(bytes: Uint8Array): void;
  /** Opens the content (storage, resume data or re-check). */
  open(info: TorrentInfo): Promise<void>;
  rechoke(): void;
  /** Opening the content failed (pauses the torrent). */
  failed(error: Error): void;
  /** The metadata was not a valid info dictionary. */
  error(error: unknown): void;
}

export class TorrentV2 {
  /** The v2 info-hash (and a hybrid's second handshake info-hash), when known. */
  #target: V2Target | undefined;
  /** Fetches a v2 magnet's piece layers after its metadata. */
  readonly #layers: LayerFetch;
  readonly #hooks: TorrentV2Hooks;

  constructor(target: V2Target | undefined, hooks: TorrentV2Hooks) {
    this.#target = target;
    this.#hooks = hooks;
    this.#layers = new LayerFetch({
      peers: hooks.peers,
      now: hooks.now,
      complete: (info) => this.#open(info),
      lied: (peer) => {
        peer.close(new PeerError('PEER_BANNED', 'its piece layer hashes fail the pieces root'));
        const ban = hooks.swarm.provenBad(peerIdentities([peer])[0]!);
        if (ban !== undefined) hooks.ban(ban);
      },
    });
  }

  /** True for a v2 or hybrid torrent: the handshake announces v2 support. */
  get enabled(): boolean {
    return this.#target !== undefined;
  }

  /** A hybrid's second info-hash (the truncated SHA-256 one), accepted in handshakes. */
  get altInfoHash(): Uint8Array | undefined {
    return this.#target?.altInfoHash;
  }

  /** True when `info` is a v2 info dictionary whose piece layers must come from peers. */
  needsLayers(info: TorrentInfo): boolean {
    return MagnetLayers.needed(info);
  }

  /** The content is known: a v2 or hybrid info gives the v2 target. */
  infoKnown(info: TorrentInfo): void {
    if (info.v2 !== undefined) this.#target = torrentTarget({ info }).v2;
  }

  /** BEP 9: the info dictionary of a magnet arrived and hashed right. */
  metadataArrived(bytes: Uint8Array): void {
    let parsed: TorrentInfo;
    try {
      parsed = this.#hooks.parse(bytes);
    } catch (error) {
      this.#hooks.error(error);
      return;
    }
    if (this.needsLayers(parsed)) this.fetchLayers({ ...parsed, infoBytes: bytes });
    else this.#open({ ...parsed, infoBytes: bytes });
  }

  /** BEP 52: a v2 info dictionary without piece layers; they come by hash request first. */
  fetchLayers(info: TorrentInfo): void {
    if (info.infoBytes !== undefined) this.#hooks.infoBytes(info.infoBytes);
    this.#target = torrentTarget({ info }).v2;
    for (const p of this.#hooks.peers()) p.sendExtensionHandshake();
    this.#layers.start(info);
  }

  #open(info: TorrentInfo): void {
    this.#hooks.open(info).then(
      () => {
        for (const p of this.#hooks.peers()) p.sendExtensionHandshake();
        this.#hooks.rechoke();
      },
      (error: unknown) => this.#hooks.failed(asError(error)),
    );
  }

  /** A `hashes` or `hash reject` answer from `peer`. */
  onHashes(peer: PeerSession, message: HashesMessage | HashRejectMessage): void {
    this.#layers.receive(peer, message);
  }

  forget(peer: PeerSession): void {
    this.#layers.forget(peer);
  }

  tick(): void {
    this.#layers.tick();
  }
}

/** `error` as an `Error` (a thrown non-error becomes a `PieceExchangeError` `UNKNOWN`). */
export function asError(error: unknown): Error {
  return error instanceof Error ? error : new PieceExchangeError('UNKNOWN', String(error));
}
