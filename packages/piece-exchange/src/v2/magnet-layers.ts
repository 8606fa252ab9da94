/**
 * The step between BEP 9 metadata and the download for a v2 torrent started from a magnet link:
 * the info dictionary names each file's `pieces root` but not its piece layer, so pieces cannot
 * be checked yet. The piece layers are fetched from the peers with hash requests (BEP 52), each
 * chunk proven against its root, and then the content opens as if from a .torrent file.
 */
import type { PeerSession } from '../session/peer-session';
import type { TorrentInfo } from '../torrent-info';
import type { HashesMessage, HashRejectMessage } from '../wire/hashes';
import { PieceLayerFetcher } from './hash-exchange';
import { PieceLayers } from './piece-layers';

/** Most chunks of hashes asked of one peer at a time. */
const PER_PEER = 4;

export class MagnetLayers {
  readonly info: TorrentInfo;
  readonly #layers: PieceLayers;
  readonly #fetcher: PieceLayerFetcher;
  readonly #asked = new Map<number, number>();

  constructor(info: TorrentInfo) {
    if (info.v2 === undefined) throw new RangeError('not a v2 torrent');
    this.info = info;
    this.#layers = new PieceLayers(info.v2.files, info.pieceLength, info.v2.pieceLayers);
    this.#fetcher = new PieceLayerFetcher(this.#layers);
  }

  /**
   * True when the info dictionary alone cannot check every piece (layers to fetch first): a
   * v2-only torrent. A hybrid opens at once, its pieces checked by SHA-1 (and by merkle where a
   * layer is known), so that v1-only peers can serve it.
   */
  static needed(info: TorrentInfo): boolean {
    if (info.v2?.version !== 'v2') return false;
    return (
      new PieceLayers(info.v2.files, info.pieceLength, info.v2.pieceLayers).missing().length > 0
    );
  }

  get complete(): boolean {
    return this.#fetcher.complete;
  }

  /** The torrent's info with every piece layer, once `complete`. */
  completeInfo(): TorrentInfo {
    return { ...this.info, v2: { ...this.info.v2!, pieceLayers: this.#layers.known() } };
  }

  /** Sends hash requests to `peer` up to `PER_PEER` outstanding. */
  ask(peer: PeerSession, now: number): void {
    if (!peer.isOpen) return;
    while ((this.#asked.get(peer.id) ?? 0) < PER_PEER) {
      const request = this.#fetcher.next(peer.id, now);
      if (request === undefined) return;
      this.#asked.set(peer.id, (this.#asked.get(peer.id) ?? 0) + 1);
      peer.sendHashRequest(request);
    }
  }

  /**
   * A `hashes` / `hash reject` from `peer`. Returns false when its hashes do not prove against
   * the pieces root: the peer lies (the caller bans it).
   */
  receive(peer: PeerSession, message: HashesMessage | HashRejectMessage, now: number): boolean {
    const result = this.#fetcher.receive(peer.id, message);
    if (result === 'unexpected') return true;
    this.#asked.set(peer.id, Math.max(0, (this.#asked.get(peer.id) ?? 0) - 1));
    if (result === 'bad') return false;
    this.ask(peer, now);
    return true;
  }

  forget(peer: PeerSession): void {
    this.#fetcher.forget(peer.id);
    this.#asked.delete(peer.id);
  }
}

/** What `LayerFetch` needs of its torrent. */
export interface LayerFetchHooks {
  peers(): Iterable<PeerSession>;
  now(): number;
  /** Every piece layer is in and proven: open the content with this info. */
  complete(info: TorrentInfo): void;
  /** `peer` sent hashes that fail their pieces root (it alone lied: ban it). */
  lied(peer: PeerSession): void;
}

/** The torrent's side of fetching piece layers: one `MagnetLayers` at a time, driven by ticks. */
export class LayerFetch {
  readonly #hooks: LayerFetchHooks;
  #layers: MagnetLayers | undefined;

  constructor(hooks: LayerFetchHooks) {
    this.#hooks = hooks;
  }

  /** Starts fetching the piece layers `info` lacks. */
  start(info: TorrentInfo): void {
    this.#layers = new MagnetLayers(info);
    this.tick();
  }

  /** Asks the peers for what is missing; hands the info over once complete. */
  tick(): void {
    const layers = this.#layers;
    if (layers === undefined) return;
    if (layers.complete) {
      this.#layers = undefined;
      this.#hooks.complete(layers.completeInfo());
      return;
    }
    const now = this.#hooks.now();
    for (const peer of this.#hooks.peers()) layers.ask(peer, now);
  }

  /** A `hashes` / `hash reject` message from `peer`. */
  receive(peer: PeerSession, message: HashesMessage | HashRejectMessage): void {
    if (this.#layers?.receive(peer, message, this.#hooks.now()) === false) this.#hooks.lied(peer);
    this.tick();
  }

  forget(peer: PeerSession): void {
    this.#layers?.forget(peer);
  }
}
