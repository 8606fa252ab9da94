/**
 * Attack: the per-connection limits of a listener, on real sockets on loopback (docs/security.md,
 * "Connections and their phases" and "Magnet metadata"). A peer written by hand connects to a
 * `Torrent` and pushes one limit; a peer that stays just within it shows the limit is exactly
 * where the table says.
 *
 * - queued requests per peer (`limits.maxPeerRequests`, our `reqq`): a request flood beyond it is
 *   rejected (BEP 6), never queued;
 * - haves before the metadata (`MAX_EARLY_HAVES`): a magnet torrent does not remember more of
 *   them, it drops the peer;
 * - `metadata_size` (`maxMetadataSize`, 16 MiB): a peer advertising more is dropped, never asked.
 */
import { connect, type Socket } from 'node:net';
import { nodeNetwork } from '@peerkit/transport';
import { describe, expect, it } from 'vitest';
import type { PeerError } from '../src/session/peer-error';
import { DEFAULT_LIMITS, MAX_EARLY_HAVES } from '../src/session/peer-limits';
import { memoryFileSystem } from '../src/storage/file-system';
import { Torrent } from '../src/torrent';
import { WireDecoder, type WireFrame } from '../src/wire/decoder';
import {
  DEFAULT_MAX_METADATA_SIZE,
  decodeExtensionHandshake,
  EXTENSION_HANDSHAKE_ID,
  encodeExtensionHandshake,
} from '../src/wire/extension';
import { encodeHandshake } from '../src/wire/handshake';
import {
  BLOCK_LENGTH,
  encodeExtended,
  encodeHave,
  encodeRequest,
  INTERESTED,
} from '../src/wire/messages';
import { decodeMetadataMessage, encodeMetadataMessage } from '../src/wire/metadata';
import { makeTorrent, openSeeder } from './fixtures';

/** Hand-written peers so far (each gets its own peer id). */
let clients = 0;

/** The ut_metadata id the hand-written peer asks for. */
const OUR_UT_METADATA = 7;

/** A hand-written peer connected to `port`: it handshakes and records every frame it gets. */
class RawClient {
  readonly frames: WireFrame[] = [];
  closed = false;
  readonly #decoder = new WireDecoder({ handshake: true, maxMessageLength: 2 * 1024 * 1024 });
  readonly #waiters = new Set<() => void>();

  private constructor(readonly socket: Socket) {
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
      this.#wake();
    });
    socket.on('data', (chunk: Buffer) => {
      this.#decoder.push(chunk);
      for (let f = this.#decoder.next(); f; f = this.#decoder.next()) {
        // Piece blocks are views into the chunk; only their count matters here.
        this.frames.push(f.type === 'piece' ? { ...f, block: new Uint8Array(0) } : f);
      }
      this.#wake();
    });
  }

  static async open(
    port: number,
    infoHash: Uint8Array,
    extensions: { extended?: boolean; fast?: boolean },
  ): Promise<RawClient> {
    const socket = connect({ host: '127.0.0.1', port });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const client = new RawClient(socket);
    // A fresh peer id each time (one peer id twice is a duplicate connection).
    const peerId = new Uint8Array(20).fill(0x61);
    peerId.set([++clients >> 8, clients & 0xff], 18);
    client.send(encodeHandshake({ infoHash, peerId, extensions }));
    await client.until((f) => f.type === 'handshake', 'the handshake');
    return client;
  }

  send(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  /** The remote's ut_metadata id (from its extension handshake). */
  get remoteMetadataId(): number | undefined {
    for (const f of this.frames)
      if (f.type === 'extended' && f.id === EXTENSION_HANDSHAKE_ID)
        return decodeExtensionHandshake(f.payload).m.ut_metadata;
    return undefined;
  }

  /** ut_metadata messages sent to us. */
  metadataMessages(): ReturnType<typeof decodeMetadataMessage>[] {
    return this.frames
      .filter((f) => f.type === 'extended' && f.id === OUR_UT_METADATA)
      .map((f) => decodeMetadataMessage((f as { payload: Uint8Array }).payload));
  }

  /** Resolves once a frame matches; rejects when closed first or after 20 s. */
  until(match: (f: WireFrame) => boolean, what: string): Promise<void> {
    return this.untilState(() => this.frames.some(match), what);
  }

  /** Resolves once `check` holds (or, with `allowClose`, the connection closed). */
  untilState(check: () => boolean, what: string, allowClose = false): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => finish(new Error(`timed out waiting for ${what}`)), 20_000);
      const finish = (error?: Error) => {
        clearTimeout(timer);
        this.#waiters.delete(poll);
        if (error) reject(error);
        else resolve();
      };
      const poll = () => {
        if (check() || (this.closed && allowClose)) finish();
        else if (this.closed) finish(new Error(`closed before ${what}`));
      };
      this.#waiters.add(poll);
      poll();
    });
  }

  #wake(): void {
    for (const w of [...this.#waiters]) w();
  }

  close(): void {
    this.socket.destroy();
  }
}

/** A magnet torrent (only the info-hash known) listening on 127.0.0.1, with its peer errors. */
async function magnetListener(infoHash: Uint8Array) {
  const torrent = await Torrent.open({
    network: nodeNetwork(),
    directory: '/magnet',
    infoHash,
    fs: memoryFileSystem(),
    listen: { host: '127.0.0.1' },
  });
  const errors: string[] = [];
  torrent.on('peer', (e) => {
    const code = (e.error as PeerError | undefined)?.code;
    if (e.type === 'disconnect' && code !== undefined) errors.push(code);
  });
  return { torrent, port: torrent.listenAddress!.port, errors };
}

/** Our extension handshake (ut_metadata under our id), with `metadataSize` if given. */
function ourExtensionHandshake(metadataSize?: number): Uint8Array {
  return encodeExtended(
    EXTENSION_HANDSHAKE_ID,
    encodeExtensionHandshake({
      m: { ut_metadata: OUR_UT_METADATA },
      ...(metadataSize !== undefined ? { metadataSize } : {}),
    }),
  );
}

describe('attack: per-connection limits of a listener (real sockets)', () => {
  it('a request flood beyond maxPeerRequests is rejected, not queued (BEP 6)', async () => {
    const fixture = makeTorrent('queue.bin', [8 * 1024 * 1024], 256 * 1024, 51);
    const seeder = await openSeeder(fixture, { resume: false, assumeComplete: true });
    const client = await RawClient.open(seeder.listenAddress!.port, fixture.info.infoHash, {
      fast: true,
    });
    try {
      client.send(INTERESTED);
      await client.until((f) => f.type === 'unchoke', 'unchoke');
      // Three times our reqq in one write: every block of the torrent, round and round.
      const limit = DEFAULT_LIMITS.maxPeerRequests;
      const total = 3 * limit;
      const blocks = fixture.data.length / BLOCK_LENGTH;
      const perPiece = fixture.info.pieceLength / BLOCK_LENGTH;
      const flood = new Uint8Array(17 * total);
      for (let i = 0; i < total; i++) {
        const block = i % blocks;
        const request = encodeRequest(
          Math.floor(block / perPiece),
          (block % perPiece) * BLOCK_LENGTH,
          BLOCK_LENGTH,
        );
        flood.set(request, i * 17);
      }
      client.send(flood);
      const count = (type: string) => client.frames.filter((f) => f.type === type).length;
      // Every request is answered: a block, or a reject (none is silently held).
      await client.untilState(() => count('piece') + count('reject') >= total, 'every answer');
      expect(count('piece') + count('reject')).toBe(total);
      // The queue took at most `limit` at once: the rest of the flood was rejected.
      expect(count('reject')).toBeGreaterThan(0);
      expect(count('piece')).toBeGreaterThanOrEqual(limit);
      expect(client.closed).toBe(false);
    } finally {
      client.close();
      await seeder.close();
    }
  });

  it('a magnet torrent keeps MAX_EARLY_HAVES haves before the metadata, and drops a peer sending more', async () => {
    const fixture = makeTorrent('early.bin', [100_000], 16_384, 52);
    const { torrent, port, errors } = await magnetListener(fixture.info.infoHash);
    const haves = (n: number) => {
      const out = new Uint8Array(9 * n);
      for (let i = 0; i < n; i++) out.set(encodeHave(i), 9 * i);
      return out;
    };
    const clients: RawClient[] = [];
    try {
      for (const [count, dropped] of [
        [MAX_EARLY_HAVES, false],
        [MAX_EARLY_HAVES + 1, true],
      ] as const) {
        const client = await RawClient.open(port, fixture.info.infoHash, { extended: true });
        clients.push(client);
        client.send(ourExtensionHandshake());
        await client.untilState(() => client.remoteMetadataId !== undefined, 'its ut_metadata id');
        client.send(haves(count));
        // Then a metadata request: the answer (a reject: the magnet has no metadata yet) shows
        // every have before it was taken without dropping us.
        client.send(
          encodeExtended(
            client.remoteMetadataId!,
            encodeMetadataMessage({ type: 'request', piece: 0 }),
          ),
        );
        await client.untilState(
          () => client.metadataMessages().some((m) => m.type === 'reject'),
          `the answer after ${count} haves`,
          true,
        );
        expect(client.closed).toBe(dropped);
        expect(client.metadataMessages().some((m) => m.type === 'reject')).toBe(!dropped);
      }
      expect(errors).toEqual(['MESSAGE_TOO_LARGE']);
    } finally {
      for (const c of clients) c.close();
      await torrent.close();
    }
  });

  it('a peer advertising a metadata_size above maxMetadataSize is dropped and never asked', async () => {
    const fixture = makeTorrent('huge.bin', [100_000], 16_384, 53);
    const { torrent, port, errors } = await magnetListener(fixture.info.infoHash);
    const clients: RawClient[] = [];
    try {
      // Over the limit first, alone: if it were taken, it would be the one asked.
      const over = await RawClient.open(port, fixture.info.infoHash, { extended: true });
      clients.push(over);
      over.send(ourExtensionHandshake(DEFAULT_MAX_METADATA_SIZE + 1));
      await over.untilState(
        () => over.metadataMessages().length > 0,
        'a request or the close',
        true,
      );
      expect(over.closed).toBe(true);
      expect(over.metadataMessages()).toEqual([]);
      expect(errors).toEqual(['INVALID_EXTENSION_MESSAGE']);
      // At the limit: taken, and asked for the first piece.
      const at = await RawClient.open(port, fixture.info.infoHash, { extended: true });
      clients.push(at);
      at.send(ourExtensionHandshake(DEFAULT_MAX_METADATA_SIZE));
      await at.untilState(() => at.metadataMessages().length > 0, 'a metadata request');
      expect(at.metadataMessages()[0]).toEqual({ type: 'request', piece: 0 });
    } finally {
      for (const c of clients) c.close();
      await torrent.close();
    }
  });
});
