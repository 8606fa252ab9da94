/**
 * fast-check arbitraries for metainfo and magnet links (exported from
 * `@peerkit/piece-exchange/testing`).
 */
import fc from 'fast-check';
import type { MagnetLink } from '../magnet';
import type { CreateTorrentOptions, TorrentInputFile } from '../metainfo/create';
import { isDroppedPathCharacter } from '../metainfo/path';
import { bytesToIPv6 } from '../wire/compact';

/** A safe path element: what `createTorrent` accepts and `parseTorrent` gives back unchanged. */
export function arbPathElement(): fc.Arbitrary<string> {
  return fc
    .string({ unit: 'grapheme', minLength: 1, maxLength: 12 })
    .filter(
      (s) =>
        s !== '.' &&
        s !== '..' &&
        !Array.from(s).some((c) => c === '\ufffd' || isDroppedPathCharacter(c.codePointAt(0)!)),
    );
}

export interface TorrentInput {
  files: TorrentInputFile[];
  options: CreateTorrentOptions;
}

/**
 * Input for `createTorrent`: 1..6 files with distinct paths and small random content, 16 or
 * 32 KiB pieces, optional trackers, web seeds, comment, private flag and pad files.
 */
export function arbTorrentInput(): fc.Arbitrary<TorrentInput> {
  const file = fc.record({
    path: fc.array(arbPathElement(), { minLength: 1, maxLength: 3 }),
    content: fc.oneof(
      fc.uint8Array({ maxLength: 2048 }),
      fc
        .tuple(fc.integer({ min: 0, max: 70000 }), fc.nat({ max: 255 }))
        .map(([n, b]) => new Uint8Array(n).fill(b)),
    ),
    executable: fc.boolean(),
  });
  const url = fc.webUrl();
  return fc
    .record({
      files: fc.uniqueArray(file, {
        minLength: 1,
        maxLength: 6,
        selector: (f) => f.path.join('/'),
      }),
      name: arbPathElement(),
      pieceLength: fc.constantFrom(16384, 32768),
      trackers: fc.array(url, { maxLength: 3 }),
      urlList: fc.array(url, { maxLength: 2 }),
      comment: fc.option(fc.string({ maxLength: 20 }), { nil: undefined }),
      private: fc.boolean(),
      padFiles: fc.boolean(),
    })
    .filter(({ files }) => {
      // A path may not also be a directory of another file.
      const paths = files.map((f) => f.path.join('/'));
      return !paths.some((p) => paths.some((q) => q.startsWith(`${p}/`)));
    })
    .filter(({ files }) => files.some((f) => f.content.length > 0))
    .map(({ files, name, ...options }) => ({
      files: files.map((f) => ({
        path: f.path,
        length: f.content.length,
        content: f.content,
        executable: f.executable,
      })),
      options: {
        ...options,
        name,
        comment: options.comment,
      },
    }));
}

const hash = (length: number) => fc.uint8Array({ minLength: length, maxLength: length });
const tracker = fc.webUrl({ withQueryParameters: true, withFragments: true });

/** A magnet link as `parseMagnet` returns it (so `formatMagnet` round-trips it exactly). */
export function arbMagnetLink(): fc.Arbitrary<MagnetLink> {
  const peer = fc.oneof(
    fc.record({ host: fc.ipV4(), port: fc.integer({ min: 1, max: 0xffff }) }),
    fc.record({
      host: hash(16).map(bytesToIPv6),
      port: fc.integer({ min: 1, max: 0xffff }),
    }),
    fc.record({ host: fc.domain(), port: fc.integer({ min: 1, max: 0xffff }) }),
  );
  const range = fc
    .tuple(fc.nat({ max: 5000 }), fc.nat({ max: 50 }))
    .map(([start, span]): readonly [number, number] => [start, start + span]);
  return fc
    .record(
      {
        infoHash: hash(20),
        infoHashV2: hash(32),
        name: fc.string({ unit: 'grapheme', maxLength: 30 }),
        trackers: fc.array(tracker, { maxLength: 3 }),
        peers: fc.array(peer, { maxLength: 3 }),
        webSeeds: fc.array(fc.webUrl(), { maxLength: 2 }),
        selectOnly: fc.array(range, { minLength: 1, maxLength: 4 }),
      },
      { requiredKeys: ['trackers', 'peers', 'webSeeds'] },
    )
    .filter((m) => m.infoHash !== undefined || m.infoHashV2 !== undefined)
    .map((m) => ({
      ...m,
      trackers: [...m.trackers],
      peers: [...m.peers],
      webSeeds: [...m.webSeeds],
    }));
}
