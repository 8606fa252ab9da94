/**
 * fast-check arbitraries for peer wire messages (exported from `@peerkit/piece-exchange/testing`).
 */
import fc from 'fast-check';
import { bytesToIPv6 } from '../wire/compact';
import type { TorrentGeometry } from '../wire/decoder';
import { DEFAULT_MAX_METADATA_SIZE, type ExtensionHandshake } from '../wire/extension';
import type { HandshakeInit } from '../wire/handshake';
import { BLOCK_LENGTH, type WireMessage } from '../wire/messages';
import {
  METADATA_PIECE_LENGTH,
  type MetadataMessage,
  metadataPieceCount,
  metadataPieceLength,
} from '../wire/metadata';
import type { PexMessage } from '../wire/pex';

export interface WireArbitraryOptions {
  /** Generate indices and blocks that fit this torrent (default: any uint32 index/offset). */
  torrent?: TorrentGeometry;
  /** Largest generated request/block length (default 16384). */
  maxRequestLength?: number;
}

const uint32 = fc.nat({ max: 0xffffffff });

/** A torrent geometry with 1..5000 pieces of 16 KiB..1 MiB (powers of two). */
export function arbTorrentGeometry(): fc.Arbitrary<TorrentGeometry> {
  return fc
    .record({
      pieceCount: fc.integer({ min: 1, max: 5000 }),
      shift: fc.integer({ min: 14, max: 20 }),
      lastFraction: fc.double({ min: 0, max: 1, noNaN: true }),
    })
    .map(({ pieceCount, shift, lastFraction }) => {
      const pieceLength = 2 ** shift;
      const lastPieceLength = Math.max(1, Math.ceil(lastFraction * pieceLength));
      return { pieceCount, pieceLength, lastPieceLength };
    });
}

function pieceSize(torrent: TorrentGeometry, index: number): number {
  return index === torrent.pieceCount - 1 ? torrent.lastPieceLength : torrent.pieceLength;
}

/** A valid peer wire message (one that the decoder with the same options accepts). */
export function arbWireMessage(options: WireArbitraryOptions = {}): fc.Arbitrary<WireMessage> {
  const torrent = options.torrent;
  const maxLength = options.maxRequestLength ?? BLOCK_LENGTH;
  const index = torrent ? fc.nat({ max: torrent.pieceCount - 1 }) : uint32;
  const block = torrent
    ? index.chain((i) => {
        const size = pieceSize(torrent, i);
        return fc
          .integer({ min: 0, max: size - 1 })
          .chain((begin) =>
            fc
              .integer({ min: 1, max: Math.min(maxLength, size - begin) })
              .map((length) => ({ index: i, begin, length })),
          );
      })
    : fc.record({ index: uint32, begin: uint32, length: fc.integer({ min: 1, max: maxLength }) });
  const bitfield = torrent
    ? fc
        .uint8Array({
          minLength: Math.ceil(torrent.pieceCount / 8),
          maxLength: Math.ceil(torrent.pieceCount / 8),
        })
        .map((bytes) => {
          const used = torrent.pieceCount & 7;
          if (used !== 0) bytes[bytes.length - 1]! &= ~(0xff >>> used) & 0xff;
          return bytes;
        })
    : fc.uint8Array({ maxLength: 64 });
  const pieceBlock = torrent
    ? index.chain((i) => {
        const size = pieceSize(torrent, i);
        return fc.integer({ min: 0, max: size }).chain((begin) =>
          fc
            .integer({ min: 0, max: Math.min(maxLength, size - begin, 256) })
            .chain((length) => fc.uint8Array({ minLength: length, maxLength: length }))
            .map((data) => ({ index: i, begin, block: data })),
        );
      })
    : fc.record({ index: uint32, begin: uint32, block: fc.uint8Array({ maxLength: 256 }) });
  return fc.oneof(
    fc.constantFrom<WireMessage>(
      { type: 'keepAlive' },
      { type: 'choke' },
      { type: 'unchoke' },
      { type: 'interested' },
      { type: 'notInterested' },
      { type: 'haveAll' },
      { type: 'haveNone' },
    ),
    index.map((i): WireMessage => ({ type: 'have', index: i })),
    index.map((i): WireMessage => ({ type: 'suggest', index: i })),
    index.map((i): WireMessage => ({ type: 'allowedFast', index: i })),
    bitfield.map((b): WireMessage => ({ type: 'bitfield', bitfield: b })),
    block.map((b): WireMessage => ({ type: 'request', ...b })),
    block.map((b): WireMessage => ({ type: 'cancel', ...b })),
    block.map((b): WireMessage => ({ type: 'reject', ...b })),
    pieceBlock.map((p): WireMessage => ({ type: 'piece', ...p })),
    fc.nat({ max: 0xffff }).map((port): WireMessage => ({ type: 'port', port })),
    fc
      .record({ id: fc.nat({ max: 255 }), payload: fc.uint8Array({ maxLength: 128 }) })
      .map((e): WireMessage => ({ type: 'extended', ...e })),
    fc
      .record({
        id: fc.integer({ min: 21, max: 255 }),
        payload: fc.uint8Array({ maxLength: 64 }),
      })
      .map((u): WireMessage => ({ type: 'unknown', ...u })),
  );
}

/** Handshake fields (20-byte info-hash and peer id, any reserved bytes). */
export function arbHandshake(): fc.Arbitrary<
  Required<Pick<HandshakeInit, 'infoHash' | 'peerId' | 'reserved'>>
> {
  return fc.record({
    infoHash: fc.uint8Array({ minLength: 20, maxLength: 20 }),
    peerId: fc.uint8Array({ minLength: 20, maxLength: 20 }),
    reserved: fc.uint8Array({ minLength: 8, maxLength: 8 }),
  });
}

/**
 * Splits `bytes` into chunks at arbitrary points (to feed a streaming decoder the way a socket
 * might deliver them).
 */
export function arbChunking(bytes: Uint8Array): fc.Arbitrary<Uint8Array[]> {
  return fc
    .uniqueArray(fc.integer({ min: 1, max: Math.max(1, bytes.length - 1) }), { maxLength: 12 })
    .map((cuts) => {
      const points = cuts.filter((c) => c < bytes.length).sort((a, b) => a - b);
      const chunks: Uint8Array[] = [];
      let start = 0;
      for (const point of points) {
        chunks.push(bytes.subarray(start, point));
        start = point;
      }
      chunks.push(bytes.subarray(start));
      return chunks;
    });
}

/** A BEP 10 extension handshake (as `decodeExtensionHandshake` returns it). */
export function arbExtensionHandshake(): fc.Arbitrary<ExtensionHandshake> {
  const name = fc.stringMatching(/^[A-Za-z_.]{1,16}$/);
  return fc
    .record(
      {
        m: fc.dictionary(name, fc.nat({ max: 255 }), { maxKeys: 5 }),
        v: fc.string({ unit: 'grapheme', maxLength: 20 }),
        p: fc.integer({ min: 1, max: 0xffff }),
        reqq: fc.integer({ min: 1, max: 100000 }),
        metadataSize: fc.integer({ min: 1, max: DEFAULT_MAX_METADATA_SIZE }),
        yourip: fc.oneof(
          fc.uint8Array({ minLength: 4, maxLength: 4 }),
          fc.uint8Array({ minLength: 16, maxLength: 16 }),
        ),
        ipv4: fc.uint8Array({ minLength: 4, maxLength: 4 }),
        ipv6: fc.uint8Array({ minLength: 16, maxLength: 16 }),
        uploadOnly: fc.boolean(),
      },
      { requiredKeys: ['m'] },
    )
    .map((h) => {
      const m: Record<string, number> = Object.create(null);
      Object.assign(m, h.m);
      return { ...h, m };
    });
}

/** A BEP 9 ut_metadata message with consistent sizes. */
export function arbMetadataMessage(): fc.Arbitrary<MetadataMessage> {
  const piece = fc.nat({ max: 1000 });
  const data = fc.integer({ min: 1, max: 4 * METADATA_PIECE_LENGTH }).chain((totalSize) =>
    fc.nat({ max: metadataPieceCount(totalSize) - 1 }).chain((p) => {
      const length = metadataPieceLength(totalSize, p);
      // A random head and a filled tail: cheap to generate even for 16 KiB pieces.
      return fc
        .tuple(fc.uint8Array({ maxLength: Math.min(length, 64) }), fc.nat({ max: 255 }))
        .map(([head, fill]): MetadataMessage => {
          const data = new Uint8Array(length).fill(fill);
          data.set(head);
          return { type: 'data', piece: p, totalSize, data };
        });
    }),
  );
  return fc.oneof(
    piece.map((p): MetadataMessage => ({ type: 'request', piece: p })),
    piece.map((p): MetadataMessage => ({ type: 'reject', piece: p })),
    data,
    fc
      .record({ msgType: fc.integer({ min: 3, max: 1000 }), piece })
      .map((u): MetadataMessage => ({ type: 'unknown', ...u })),
  );
}

const arbIPv4 = fc.ipV4();
const arbIPv6 = fc.uint8Array({ minLength: 16, maxLength: 16 }).map(bytesToIPv6);
const port = fc.nat({ max: 0xffff });

/** A BEP 11 ut_pex message (hosts in canonical text form, so it round-trips exactly). */
export function arbPexMessage(): fc.Arbitrary<PexMessage> {
  const flags = fc.nat({ max: 0x1f });
  return fc.record({
    added: fc.array(fc.record({ host: arbIPv4, port, flags }), { maxLength: 10 }),
    added6: fc.array(fc.record({ host: arbIPv6, port, flags }), { maxLength: 10 }),
    dropped: fc.array(fc.record({ host: arbIPv4, port }), { maxLength: 10 }),
    dropped6: fc.array(fc.record({ host: arbIPv6, port }), { maxLength: 10 }),
  });
}
