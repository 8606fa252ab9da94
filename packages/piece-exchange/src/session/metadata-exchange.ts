/**
 * BEP 9 `ut_metadata` both ways. Fetching (a magnet link): once a peer's extension handshake
 * announces `ut_metadata` and `metadata_size`, the info dictionary is requested from it in
 * 16 KiB pieces (a few at a time per peer), assembled, and verified against the info-hash;
 * pieces that time out or are rejected are asked from another peer, and a dictionary that does
 * not hash to the info-hash is dropped and fetched again. Serving: requests are answered with
 * `data` when we have the info dictionary, `reject` otherwise.
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
import type { PeerSession } from './peer-session';

/** Pieces asked from one peer at a time. */
const PER_PEER = 4;
/** A metadata request unanswered for this long is asked from someone else. */
const REQUEST_TIMEOUT_MS = 10_000;

export class MetadataExchange {
  private assembler: MetadataAssembler | undefined;
  private readonly requested = new Map<number, { peer: number; at: number }>();
  private readonly refusing = new Set<number>();
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
    if (this.refusing.has(peer.id)) return;
    const size = peer.extensionHandshake?.metadataSize;
    if (size === undefined || size > this.maxSize) return;
    if (this.assembler === undefined)
      this.assembler = new MetadataAssembler(size, { maxMetadataSize: this.maxSize });
    if (this.assembler.size !== size) return;
    let asked = 0;
    for (const [, r] of this.requested) {
      if (r.peer === peer.id) asked++;
      else if (this.singleSource && now - r.at < REQUEST_TIMEOUT_MS) return;
    }
    if (this.singleSource) {
      for (const source of this.sources.values()) if (source !== peer.id) return;
    }
    const limit = this.singleSource ? this.assembler.pieceCount : PER_PEER;
    for (const piece of this.assembler.missing()) {
      if (asked >= limit) break;
      const r = this.requested.get(piece);
      if (r !== undefined && now - r.at < REQUEST_TIMEOUT_MS) continue;
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
      case 'request': {
        const info = this.infoBytes;
        if (info === undefined || message.piece >= metadataPieceCount(info.length)) {
          peer.sendExtended(
            UT_METADATA,
            encodeMetadataMessage({ type: 'reject', piece: message.piece }),
          );
          return undefined;
        }
        const start = message.piece * METADATA_PIECE_LENGTH;
        const data = info.subarray(start, start + metadataPieceLength(info.length, message.piece));
        peer.sendExtended(
          UT_METADATA,
          encodeMetadataMessage({
            type: 'data',
            piece: message.piece,
            totalSize: info.length,
            data,
          }),
        );
        return undefined;
      }
      case 'reject':
        this.refusing.add(peer.id);
        this.forget(peer.id);
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
          // Wrong dictionary: the assembler dropped every piece. One source: it lied, refuse it;
          // several: fetch the next attempt from a single peer to find out which.
          const senders = new Set(this.sources.values());
          this.sources.clear();
          if (senders.size === 1) this.refusing.add(peer.id);
          else this.singleSource = true;
          return undefined;
        }
        this.infoBytes = verified.slice();
        this.requested.clear();
        return this.infoBytes;
      }
    }
  }

  /** A peer left: its requests are free to go elsewhere. */
  forget(peer: number): void {
    for (const [piece, r] of this.requested) if (r.peer === peer) this.requested.delete(piece);
    for (const [piece, source] of this.sources) {
      // In single-source mode a departed source's pieces are dropped with it.
      if (source === peer && this.singleSource) this.sources.delete(piece);
    }
  }
}
