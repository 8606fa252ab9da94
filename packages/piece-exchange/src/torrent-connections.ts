/**
 * A torrent's connections: the open peer sessions, the I/O that the swarm policy decides on
 * (dialling the due candidates, accepting or refusing incoming streams), MSE/PE encryption
 * under the torrent's policy (src/mse/connect.ts) and the handshake check (our own peer id, a
 * second connection to the same peer, a banned host).
 */
import type { Address, Network, Stream } from '@peerkit/transport';
import { type EncryptionPolicy, mseAccept, mseConnect } from './mse/connect';
import { mseKeyLookup } from './mse/handshake';
import { PeerConnection, type PeerConnectionHost } from './session/peer-connection';
import { PeerError } from './session/peer-error';
import { peerIdHex } from './session/peer-report';
import type { PeerSession } from './session/peer-session';
import { type Ban, DIAL_TIMEOUT_MS, type SwarmPolicy } from './swarm-policy';
import type { PeerRejectReason } from './torrent-events';

/** Most addresses remembered as plain-only (`prefer` fell back); bounded like the candidates. */
const PLAIN_ONLY_MAX = 1000;

export class Connections {
  readonly #peers = new Map<number, PeerSession>();
  /** Why `admit` refused a connection, until it closes. */
  readonly #refusals = new Map<PeerSession, PeerRejectReason>();
  readonly #network: Network;
  readonly #swarm: SwarmPolicy;
  readonly #host: PeerConnectionHost;
  readonly #closed: () => boolean;
  readonly #encryption: EncryptionPolicy;
  readonly #infoHash: Uint8Array;
  readonly #lookupSkey: (req2: Uint8Array) => Uint8Array | undefined;
  readonly #handshakeFailed: ((address: Address, error: Error) => void) | undefined;
  /** Streams in their MSE handshake (destroyed by `closeHandshakes`). */
  readonly #handshaking = new Set<Stream>();
  /** Incoming streams in their MSE handshake: half-open, like sessions in theirs. */
  #incomingHandshakes = 0;
  /** `prefer`: addresses whose encrypted handshake failed; they are dialled in plain. */
  readonly #plainOnly = new Set<string>();
  #nextId = 1;

  constructor(
    network: Network,
    swarm: SwarmPolicy,
    host: PeerConnectionHost,
    closed: () => boolean,
    encryption: {
      policy: EncryptionPolicy;
      infoHash: Uint8Array;
      /** BEP 52: a hybrid's truncated v2 info-hash, which incoming MSE handshakes may use too. */
      altInfoHash?: Uint8Array | undefined;
      /** An incoming connection failed its MSE/PE handshake (reported as `rejected`). */
      handshakeFailed?: (address: Address, error: Error) => void;
    },
  ) {
    this.#network = network;
    this.#swarm = swarm;
    this.#host = host;
    this.#closed = closed;
    this.#encryption = encryption.policy;
    this.#infoHash = encryption.infoHash;
    const alt = encryption.altInfoHash;
    this.#lookupSkey = mseKeyLookup([encryption.infoHash, ...(alt ? [alt] : [])]);
    this.#handshakeFailed = encryption.handshakeFailed;
  }

  /** Ends the streams still in their MSE handshake (the torrent closes). */
  closeHandshakes(): void {
    for (const stream of this.#handshaking) stream.destroy();
    this.#handshaking.clear();
  }

  #mseOptions(policy: 'prefer' | 'require') {
    return {
      policy,
      random: this.#network.random,
      clock: this.#network.clock,
      timeoutMs: this.#host.limits.handshakeTimeoutMs,
    };
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
   * or admitted in place of the oldest connection still in its handshake. `secured`: its MSE/PE
   * handshake (or plain recognition) is already done.
   */
  accept(stream: Stream, secured = false): void {
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
    const policy = this.#encryption;
    // `secured`: a client already ran MSE/PE (or saw a plain handshake) to route the stream.
    if (policy === 'plain' || secured) {
      this.#start(stream, false);
      return;
    }
    // MSE/PE: a plain BitTorrent handshake (unless required) or an encrypted one for our SKEY.
    this.#handshaking.add(stream);
    this.#incomingHandshakes++;
    mseAccept(stream, this.#lookupSkey, this.#mseOptions(policy))
      .then(
        (secured) => {
          if (this.#closed()) secured.destroy();
          else this.#start(secured, false);
        },
        // Refused or failed (mseAccept destroyed the stream): reported, like a refused handshake.
        (error: unknown) => {
          if (!this.#closed())
            this.#handshakeFailed?.(
              stream.remoteAddress,
              error instanceof Error ? error : new Error(String(error)),
            );
        },
      )
      .finally(() => {
        this.#handshaking.delete(stream);
        this.#incomingHandshakes--;
      });
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
    let halfOpen = this.#incomingHandshakes;
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
      this.#connect(address)
        .then((stream) => {
          this.#swarm.dialSucceeded(address);
          if (this.#closed()) stream.destroy();
          else this.#start(stream, true);
        })
        .catch(() => this.#swarm.dialFailed(address, this.#network.clock.now()));
    }
  }

  /**
   * Dials `address` under the encryption policy: `require` encrypted only; `prefer` encrypted
   * first, and in plain when that handshake fails (remembered for the address); `plain` plain.
   */
  async #connect(address: Address): Promise<Stream> {
    const key = `${address.host}|${address.port}`;
    const policy = this.#encryption;
    const dial = () => this.#network.dial(address, { timeoutMs: DIAL_TIMEOUT_MS });
    if (policy === 'plain' || this.#plainOnly.has(key)) return dial();
    const stream = await dial();
    this.#handshaking.add(stream);
    try {
      return await mseConnect(stream, this.#infoHash, this.#mseOptions(policy));
    } catch (error) {
      if (policy === 'require' || this.#closed()) throw error;
      if (this.#plainOnly.size >= PLAIN_ONLY_MAX) this.#plainOnly.clear();
      this.#plainOnly.add(key);
      return dial();
    } finally {
      this.#handshaking.delete(stream);
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
   * The swarm policy banned a peer (its address and peer id) or, after `HOST_BAN_PEERS` banned
   * peers there, its whole address: cut off exactly those connections, and never redial them
   * (the address each listens on is forgotten with it).
   */
  cutOff(ban: Ban): void {
    const { host, peerId, wholeHost } = ban;
    for (const p of [...this.#peers.values()]) {
      if (p.remoteAddress.host !== host) continue;
      if (!wholeHost && peerIdHex(p.remotePeerId) !== peerId) continue;
      this.#swarm.forget(p.listenAddress);
      p.close(new PeerError('PEER_BANNED', `${host} (${peerId}) sent corrupt data`));
    }
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
