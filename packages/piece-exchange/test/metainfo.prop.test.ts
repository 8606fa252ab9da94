import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createTorrent, MetainfoError, parseTorrent, parseTorrentV1 } from '../src/index';
import { arbTorrentInput } from '../src/testing';

const sha1 = (bytes: Uint8Array) => createHash('sha1').update(bytes).digest();

describe('metainfo properties', () => {
  it('createTorrent → parseTorrent keeps files, layout and piece hashes', async () => {
    await fc.assert(
      fc.asyncProperty(arbTorrentInput(), async ({ files, options }) => {
        const { torrent, metainfo } = await createTorrent(files, options);
        const parsed = parseTorrentV1(torrent);
        expect(parsed.infoHash).toEqual(metainfo.infoHash);
        // Files come back in order with their paths (under the name for multi-file torrents).
        const real = parsed.files.filter((f) => !f.padding);
        const single = files.length === 1 && files[0]!.path.length === 1;
        expect(real.map((f) => f.path)).toEqual(
          files.map((f) => (single ? [options.name] : [options.name, ...f.path])),
        );
        expect(real.map((f) => f.length)).toEqual(files.map((f) => f.length));
        // BEP 47: with padFiles every file starts on a piece boundary.
        if (options.padFiles && !single) {
          for (const file of real) expect(file.offset % parsed.pieceLength).toBe(0);
        }
        // The piece hashes are SHA-1 over the concatenated byte space (pad files are zeros).
        const space = Buffer.concat(
          parsed.files.map((f) =>
            f.padding ? new Uint8Array(f.length) : (files[real.indexOf(f)]!.content as Uint8Array),
          ),
        );
        expect(space.length).toBe(parsed.length);
        for (let i = 0; i < parsed.pieceCount; i++) {
          const piece = space.subarray(i * parsed.pieceLength, (i + 1) * parsed.pieceLength);
          expect(Buffer.from(parsed.pieces.subarray(i * 20, i * 20 + 20)).equals(sha1(piece))).toBe(
            true,
          );
        }
        expect(parsed.private).toBe(options.private);
        expect(parsed.announce.flat()).toEqual(options.trackers);
      }),
      { numRuns: 200 },
    );
  });

  it('arbitrary bytes give a Metainfo or a MetainfoError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        try {
          parseTorrent(bytes);
        } catch (error) {
          expect(error).toBeInstanceOf(MetainfoError);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('mutated valid torrents give a Metainfo or a MetainfoError', async () => {
    const { torrent } = await createTorrent(
      [
        { path: ['a', 'x'], length: 3, content: Uint8Array.of(1, 2, 3) },
        { path: ['b'], length: 20000, content: new Uint8Array(20000) },
      ],
      { name: 'n', pieceLength: 16384, padFiles: true, trackers: ['http://t/a'] },
    );
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat({ max: torrent.length - 1 }), fc.nat({ max: 255 })), {
          minLength: 1,
          maxLength: 4,
        }),
        fc.nat({ max: torrent.length }),
        (edits, cut) => {
          const bytes = Uint8Array.from(torrent);
          for (const [at, value] of edits) bytes[at] = value;
          for (const input of [bytes, bytes.subarray(0, cut)]) {
            try {
              parseTorrent(input);
            } catch (error) {
              expect(error).toBeInstanceOf(MetainfoError);
            }
          }
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('mutated v2 and hybrid vectors give a Metainfo or a MetainfoError', () => {
    const shared = process.env.PEERKIT_SHARED
      ? new URL(`file://${process.env.PEERKIT_SHARED.replace(/\/?$/, '/')}`)
      : new URL('../../../../shared/', import.meta.url);
    const vectors = ['v2.torrent', 'v2_only.torrent', 'empty-files-1.torrent'].map((file) =>
      readFileSync(new URL(`vectors/torrents/libtorrent/${file}`, shared)),
    );
    fc.assert(
      fc.property(
        fc.nat({ max: vectors.length - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.nat({ max: 255 })), { minLength: 1, maxLength: 3 }),
        (which, edits) => {
          const bytes = Uint8Array.from(vectors[which]!);
          for (const [at, value] of edits) bytes[at % bytes.length] = value;
          try {
            parseTorrent(bytes);
          } catch (error) {
            expect(error).toBeInstanceOf(MetainfoError);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});
