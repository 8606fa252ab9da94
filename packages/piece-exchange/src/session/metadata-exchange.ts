/**
 * BEP 9 `ut_metadata` both ways. Fetching (a magnet link): once a peer's extension handshake
 * announces `ut_metadata` and `metadata_size`, the info dictionary is requested from it in
 * 16 KiB pieces (a few at a time per peer), assembled, and verified against the info-hash.
 * Serving: requests are answered with `data` when we have the info dictionary, `reject`
 * otherwise.
 *
 * Surviving liars (docs/security.md):
 * - Per-peer state (its advertised size, its requests, the pieces it sent) goes with the peer.
 * - Sizes are cross-checked: the dictionary is assembled at the size most connected peers
 *   advertise; when that changes (a liar left, more honest peers came) the attempt restarts at
 *   the new size, so a wrong `metadata_size` blocks nothing once its peer is outvoted or gone.
 * - A request unanswered for `METADATA_REQUEST_TIMEOUT_MS` is asked from someone else (the same
 *   peer again only when nobody else took it within another timeout), and a peer that lets
 *   `METADATA_MAX_TIMEOUTS` requests time out is asked no more.
 * - A dictionary that does not hash to the info-hash is dropped. When one peer sent all of it,
 *   that peer lied: it is disconnected and asked no more. When several did, the next attempt
 *   takes every piece from one peer, so that the liar is found out by its own failure.
 */

import { UT_METADATA } from '../wire/extension';
import {
  encodeMetadataMessage,
  METADATA_PIECE_LENGTH,
  MetadataAssembler,
  type MetadataMessage,
  metadataPieceCount,
  metadataPieceLength,
} from '../wire/metadata';
import { PeerError } from './peer-error';
import type { PeerSession } from './peer-session';

/** Pieces asked from one peer at a time. */
const PER_PEER = 4;
/** A metadata request unanswered for this long is asked from someone else. */
export const METADATA_REQUEST_TIMEOUT_MS = 10_000;
/** Requests a peer may let time out before it is asked no more. */
export const METADATA_MAX_TIMEOUTS = 2;

export class MetadataExchange {
  private assembler: MetadataAssembler | undefined;
  private readonly requested = new Map<number, { peer: number; at: number }>();
  /** Per piece: the last peer that let a request for it time out, and when. */
  private readonly expired = new Map<number, { peer: number; at: number }>();
  /** Peers asked no more: they rejected, lied, or let requests time out. */
  private readonly refusing = new Set<number>();
  /** Per connected peer: the `metadata_size` it advertised. */
  private readonly sizes = new Map<number, number>();
  /** Per peer: requests it let time out. */
  private readonly timeouts = new Map<number, number>();
  /** Which peer sent each piece of the current attempt. */
  private readonly sources = new Map<number, number>();
  /**
   * After a dictionary that did not hash right came from several peers, the next attempt takes
   * every piece from one peer, so that a liar is identified (and refused) by its own failure.
   */
  private singleSource = false;
  /** Verified info dictionary bytes, once known. */
  infoBytes: Uint8Array | undefined;

  constructor(
    private readonly infoHash: Uint8Array,
    private readonly maxSize: number,
  ) {}

  get size(): number | undefined {
    return this.infoBytes?.length;
  }

  /** Asks `peer` for missing pieces, if we need metadata and it can serve it. */
  request(peer: PeerSession, now: number): void {
    if (this.infoBytes !== undefined || !peer.supports(UT_METADATA)) return;
    const advertised = peer.extensionHandshake?.metadataSize;
    if (advertised === undefined || advertised <= 0 || advertised > this.maxSize) return;
    this.sizes.set(peer.id, advertised);
    // Expire first: a peer refused by its own timeouts is not asked once more.
    this.expireRequests(now);
    if (this.refusing.has(peer.id)) return;
    const assembler = this.assemblerFor(this.consensusSize());
    if (assembler === undefined || assembler.size !== advertised) return;
    let asked = 0;
    for (const [, r] of this.requested) {
      if (r.peer === peer.id) asked++;
      else if (this.singleSource) return;
    }
    if (this.singleSource) {
      for (const source of this.sources.values()) if (source !== peer.id) return;
    }
    const limit = this.singleSource ? assembler.pieceCount : PER_PEER;
    for (const piece of assembler.missing()) {
      if (asked >= limit) break;
      if (this.requested.has(piece)) continue;
      // A piece this peer just let time out goes to another peer first; it gets a second
      // chance only when nobody else took it within a timeout.
      const expired = this.expired.get(piece);
      if (expired?.peer === peer.id && now - expired.at < METADATA_REQUEST_TIMEOUT_MS) continue;
      this.requested.set(piece, { peer: peer.id, at: now });
      peer.sendExtended(UT_METADATA, encodeMetadataMessage({ type: 'request', piece }));
      asked++;
    }
  }

  /**
   * Handles a ut_metadata message. Returns the verified info dictionary when this message
   * completed it.
   */
  onMessage(peer: PeerSession, message: MetadataMessage, now: number): Uint8Array | undefined {
    switch (message.type) {
      case 'request':
        this.serve(peer, message.piece);
        return undefined;
      case 'reject':
        this.refuse(peer.id);
        return undefined;
      case 'unknown':
        return undefined; // BEP 9: unknown message types are ignored
      case 'data': {
        const a = this.assembler;
        if (this.infoBytes !== undefined || a === undefined || message.totalSize !== a.size)
          return undefined;
        if (this.requested.get(message.piece)?.peer !== peer.id) return undefined;
        this.requested.delete(message.piece);
        if (a.add(message.piece, message.data)) this.sources.set(message.piece, peer.id);
        if (!a.complete) {
          this.request(peer, now);
          return undefined;
        }
        const verified = a.verify(this.infoHash);
        if (verified === undefined) {
          // Wrong dictionary: the assembler dropped every piece. One source: it lied, drop it;
          // several: fetch the next attempt from a single peer to find out which.
          const senders = new Set(this.sources.values());
          this.sources.clear();
          if (senders.size === 1) {
            this.refuse(peer.id);
            peer.close(new PeerError('PEER_REFUSED', 'its info dictionary fails the info-hash'));
          } else {
            this.singleSource = true;
          }
          return undefined;
        }
        this.infoBytes = verified.slice();
        this.requested.clear();
        this.expired.clear();
        this.sizes.clear();
        return this.infoBytes;
      }
    }
  }

  /** A peer left: everything about it goes (its size no longer counts, its requests are free). */
  forget(peer: number): void {
    this.dropRequests(peer);
    this.sizes.delete(peer);
    this.timeouts.delete(peer);
    this.refusing.delete(peer);
    for (const [piece, source] of this.sources) {
      // In single-source mode a departed source's pieces are dropped with it.
      if (source === peer && this.singleSource) this.sources.delete(piece);
    }
  }

  private serve(peer: PeerSession, piece: number): void {
    const info = this.infoBytes;
    if (info === undefined || piece >= metadataPieceCount(info.length)) {
      peer.sendExtended(UT_METADATA, encodeMetadataMessage({ type: 'reject', piece }));
      return;
    }
    const start = piece * METADATA_PIECE_LENGTH;
    const data = info.subarray(start, start + metadataPieceLength(info.length, piece));
    peer.sendExtended(
      UT_METADATA,
      encodeMetadataMessage({ type: 'data', piece, totalSize: info.length, data }),
    );
  }

  /** The size advertised by the most peers we still ask (ties: the smaller). */
  private consensusSize(): number | undefined {
    const votes = new Map<number, number>();
    for (const [peer, size] of this.sizes) {
      if (!this.refusing.has(peer)) votes.set(size, (votes.get(size) ?? 0) + 1);
    }
    let best: number | undefined;
    let bestVotes = 0;
    for (const [size, n] of votes) {
      if (n > bestVotes || (n === bestVotes && best !== undefined && size < best)) {
        best = size;
        bestVotes = n;
      }
    }
    return best;
  }

  /** The assembler for `size`, starting a new attempt when the consensus size changed. */
  private assemblerFor(size: number | undefined): MetadataAssembler | undefined {
    if (size === undefined) return undefined;
    if (this.assembler?.size !== size) {
      this.assembler = new MetadataAssembler(size, { maxMetadataSize: this.maxSize });
      this.requested.clear();
      this.expired.clear();
      this.sources.clear();
      this.singleSource = false;
    }
    return this.assembler;
  }

  /** Requests unanswered for too long go free; a peer that lets too many expire is dropped. */
  private expireRequests(now: number): void {
    for (const [piece, r] of this.requested) {
      if (now - r.at < METADATA_REQUEST_TIMEOUT_MS) continue;
      this.requested.delete(piece);
      this.expired.set(piece, { peer: r.peer, at: now });
      const n = (this.timeouts.get(r.peer) ?? 0) + 1;
      this.timeouts.set(r.peer, n);
      if (n >= METADATA_MAX_TIMEOUTS) this.refuse(r.peer);
    }
  }

  private refuse(peer: number): void {
    this.refusing.add(peer);
    this.dropRequests(peer);
  }

  private dropRequests(peer: number): void {
    for (const [piece, r] of this.requested) if (r.peer === peer) this.requested.delete(piece);
  }
}
