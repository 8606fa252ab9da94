/**
 * A torrent's connections: the open peer sessions, the I/O that the swarm policy decides on
 * (dialling the due candidates, accepting or refusing incoming streams) and the handshake
 * check (our own peer id, a second connection to the same peer, a banned host).
 */
import type { Address, Network, Stream } from '@peerkit/transport';
import { PeerConnection, type PeerConnectionHost } from './session/peer-connection';
import { PeerError } from './session/peer-error';
import { peerIdHex } from './session/peer-report';
import type { PeerSession } from './session/peer-session';
import { DIAL_TIMEOUT_MS, type SwarmPolicy } from './swarm-policy';
import type { PeerRejectReason } from './torrent-events';

export class Connections {
  readonly #peers = new Map<number, PeerSession>();
  /** Why `admit` refused a connection, until it closes. */
  readonly #refusals = new Map<PeerSession, PeerRejectReason>();
  readonly #network: Network;
  readonly #swarm: SwarmPolicy;
  readonly #host: PeerConnectionHost;
  readonly #closed: () => boolean;
  #nextId = 1;

  constructor(
    network: Network,
    swarm: SwarmPolicy,
    host: PeerConnectionHost,
    closed: () => boolean,
  ) {
    this.#network = network;
    this.#swarm = swarm;
    this.#host = host;
    this.#closed = closed;
  }

  get size(): number {
    return this.#peers.size;
  }

  values(): IterableIterator<PeerSession> {
    return this.#peers.values();
  }

  get(id: number): PeerSession | undefined {
    return this.#peers.get(id);
  }

  /**
   * An incoming stream: a session for it, refused at once (banned host, every slot established),
   * or admitted in place of the oldest connection still in its handshake.
   */
  accept(stream: Stream): void {
    const { established, halfOpen, oldestHalfOpen } = this.#count();
    const admission = this.#closed()
      ? 'refuse'
      : this.#swarm.admit(stream.remoteAddress.host, established, halfOpen);
    if (admission === 'refuse' || (admission === 'evict-half-open' && !oldestHalfOpen)) {
      stream.destroy();
      return;
    }
    if (admission === 'evict-half-open')
      oldestHalfOpen?.close(new PeerError('PEER_EVICTED', 'handshake pending under pressure'));
    this.#start(stream, false);
  }

  /**
   * Established connections, those still in their handshake (and how many of those we dialled),
   * and the oldest connection still in its handshake.
   */
  #count(): {
    established: number;
    halfOpen: number;
    dialledHalfOpen: number;
    oldestHalfOpen: PeerSession | undefined;
  } {
    let established = 0;
    let halfOpen = 0;
    let dialledHalfOpen = 0;
    let oldestHalfOpen: PeerSession | undefined;
    for (const p of this.#peers.values()) {
      if (p.isOpen) established++;
      else if (!p.isClosed) {
        halfOpen++;
        if (p.outgoing) dialledHalfOpen++;
        // Map order is insertion order: the first found is the oldest.
        oldestHalfOpen ??= p;
      }
    }
    return { established, halfOpen, dialledHalfOpen, oldestHalfOpen };
  }

  /** Dials the candidates the swarm policy says are due. */
  dial(): void {
    if (this.#closed()) return;
    const now = this.#network.clock.now();
    // Incoming connections still in their handshake do not hold our dials back (they may be a
    // crowd of silent ones); established ones and our own pending handshakes do.
    const { established, dialledHalfOpen } = this.#count();
    const open = established + dialledHalfOpen;
    for (const address of this.#swarm.due(now, open, (a) => this.#connectedTo(a))) {
      this.#network
        .dial(address, { timeoutMs: DIAL_TIMEOUT_MS })
        .then((stream) => {
          this.#swarm.dialSucceeded(address);
          if (this.#closed()) stream.destroy();
          else this.#start(stream, true);
        })
        .catch(() => this.#swarm.dialFailed(address, this.#network.clock.now()));
    }
  }

  #start(stream: Stream, outgoing: boolean): void {
    const connection = new PeerConnection(this.#host, this.#nextId++, stream, outgoing);
    this.#peers.set(connection.session.id, connection.session);
    void connection.run();
  }

  #connectedTo(address: Address): boolean {
    for (const p of this.#peers.values()) {
      const a = p.listenAddress;
      if (a.host === address.host && a.port === address.port) return true;
    }
    return false;
  }

  /** The remote handshake arrived: true admits the peer, false refuses it (reason kept). */
  admit(peer: PeerSession, peerId: Uint8Array, ownPeerId: Uint8Array): boolean {
    const reason = this.#refusal(peer, peerId, ownPeerId);
    if (reason === undefined) return true;
    this.#refusals.set(peer, reason);
    return false;
  }

  #refusal(peer: PeerSession, peerId: Uint8Array, own: Uint8Array): PeerRejectReason | undefined {
    if (this.#closed()) return 'closing';
    if (this.#swarm.isBanned(peer.remoteAddress.host, peerIdHex(peerId))) return 'banned';
    if (Buffer.compare(peerId, own) === 0) {
      // A connection to ourselves: forget the address.
      if (peer.outgoing) this.#swarm.forget(peer.remoteAddress);
      return 'self';
    }
    for (const other of this.#peers.values()) {
      const id = other.remotePeerId;
      if (other === peer || !other.isOpen || id === undefined || Buffer.compare(id, peerId) !== 0)
        continue;
      // Two connections to one peer (both dialled at once). Both ends keep the same one: the
      // connection opened by the lower peer id, as libtorrent does; the other is closed.
      const newOpener = peer.outgoing ? own : peerId;
      const oldOpener = other.outgoing ? own : peerId;
      if (newOpener === oldOpener || Buffer.compare(newOpener, oldOpener) >= 0) return 'duplicate';
      other.close(new PeerError('PEER_REFUSED', 'duplicate connection to the same peer'));
      return undefined;
    }
    return undefined;
  }

  /**
   * A session closed: forgets it. Returns false when it was not ours (closed twice), else the
   * reason it was refused in the handshake, if it was.
   */
  remove(peer: PeerSession): { refusal: PeerRejectReason | undefined } | false {
    if (!this.#peers.delete(peer.id)) return false;
    const refusal = this.#refusals.get(peer);
    this.#refusals.delete(peer);
    return { refusal };
  }
}
