/**
 * `createTorrentV2` on its own (the byte-for-byte comparison with libtorrent is in
 * v2.interop.test.ts): the BEP 52 structure of v2-only and hybrid torrents, pieces roots and
 * piece layers from the merkle tree of each file, BEP 47 pad files in hybrids, and every piece of
 * the content checking against the hashes (merkle, and SHA-1 for hybrids); and the libtorrent
 * v2 vectors turning into a session's view with the truncated info-hash.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { BencodeDict } from '@peerkit/bencode';
import { describe, expect, it } from 'vitest';
import { createTorrentV2 } from '../src/metainfo/create-v2';
import { MerkleTree } from '../src/metainfo/merkle-tree';
import { parseInfoDictionary, parseTorrent } from '../src/metainfo/parse';
import { torrentInfoFromMetainfo } from '../src/torrent-info';
import { v2Hashing } from '../src/v2/hashing';
import { MagnetLayers } from '../src/v2/magnet-layers';
import { content } from './fixtures';

const shared = process.env.PEERKIT_SHARED
  ? new URL(`file://${process.env.PEERKIT_SHARED.replace(/\/?$/, '/')}`)
  : new URL('../../../../shared/', import.meta.url);

const PIECE = 32_768;
const files = () => [
  { path: ['b', 'big.bin'], length: 100_000, content: content(100_000, 1) },
  { path: ['a.txt'], length: 20_000, content: content(20_000, 2) },
  { path: ['empty'], length: 0, content: new Uint8Array(0) },
  { path: ['b', 'exact.bin'], length: PIECE, content: content(PIECE, 3) },
];

/** The torrent's byte space: each file from a piece boundary, zeros between. */
function pieceSpace(metainfo: ReturnType<typeof parseTorrent>, byPath: Map<string, Uint8Array>) {
  const out = new Uint8Array(metainfo.length);
  for (const f of metainfo.files) {
    const bytes = byPath.get(f.path.slice(1).join('/'));
    if (bytes !== undefined && !f.padding) out.set(bytes, f.offset);
  }
  return out;
}

describe('createTorrentV2', () => {
  for (const hybrid of [false, true]) {
    it(`${hybrid ? 'hybrid' : 'v2-only'}: file tree, roots, layers${hybrid ? ', pad files, SHA-1 pieces' : ''}`, async () => {
      const input = files();
      const { torrent, metainfo } = await createTorrentV2(input, {
        name: 'set',
        pieceLength: PIECE,
        hybrid,
      });
      expect(metainfo.version).toBe(hybrid ? 'hybrid' : 'v2');
      const info = metainfo.raw.info as BencodeDict;
      expect(info['meta version']).toBe(2);
      expect(info.pieces !== undefined).toBe(hybrid);
      // File tree order: a.txt, b/big.bin, b/exact.bin, empty.
      const real = metainfo.files.filter((f) => !f.padding);
      expect(real.map((f) => f.path.join('/'))).toEqual([
        'set/a.txt',
        'set/b/big.bin',
        'set/b/exact.bin',
        'set/empty',
      ]);
      for (const f of real) {
        const source = input.find((i) => `set/${i.path.join('/')}` === f.path.join('/'))!;
        if (f.length === 0) {
          expect(f.piecesRoot).toBeUndefined();
          continue;
        }
        // BEP 52: the root of the 16 KiB-leaf tree, at least one piece wide when larger.
        const tree = MerkleTree.ofData(source.content, f.length > PIECE ? PIECE / 16_384 : 1);
        expect(Buffer.from(f.piecesRoot!)).toEqual(Buffer.from(tree.root));
        expect(f.offset % PIECE).toBe(0);
      }
      // Piece layers: only big.bin is larger than one piece.
      expect([...(metainfo.pieceLayers?.values() ?? [])].map((l) => l.length)).toEqual([4 * 32]);
      const v1Files = info.files as BencodeDict[] | undefined;
      if (hybrid) {
        // BEP 47: `.pad/<length>` entries with attr `p` after each file not ending a piece.
        const pads = v1Files!.filter((f) => f.attr !== undefined);
        expect(pads.map((f) => [Buffer.from(f.attr as Uint8Array).toString(), f.length])).toEqual([
          ['p', 12_768],
          ['p', 31_072],
        ]);
        expect(
          metainfo.files.filter((f) => f.padding).map((f) => [f.path.at(-1), f.length]),
        ).toEqual([
          ['12768', 12_768],
          ['31072', 31_072],
        ]);
      } else {
        expect(v1Files).toBeUndefined();
      }
      // Every piece of the content checks against the torrent's hashes, and a changed byte fails.
      const byPath = new Map(input.map((i) => [i.path.join('/'), i.content]));
      const space = pieceSpace(metainfo, byPath);
      const session = torrentInfoFromMetainfo(metainfo);
      const pieceCount = Math.ceil(metainfo.length / PIECE);
      const { hashing } = v2Hashing(session, session.v2!, pieceCount);
      for (let p = 0; p < pieceCount; p++) {
        const bytes = space.subarray(p * PIECE, (p + 1) * PIECE);
        const hash = hashing.start(p);
        hash.update(bytes);
        expect(hashing.check(p, hash)).toBe(true);
        if (hybrid) {
          const sha1 = createHash('sha1').update(bytes).digest();
          expect(Buffer.from((info.pieces as Uint8Array).subarray(p * 20, p * 20 + 20))).toEqual(
            sha1,
          );
        }
        const changed = Uint8Array.from(bytes);
        changed[0]! ^= 1;
        const bad = hashing.start(p);
        bad.update(changed);
        // (For a hybrid both hashes fail together: no v1/v2 conflict is reported.)
        expect(hashing.check(p, bad)).toBe(false);
      }
      expect(parseTorrent(torrent).infoHashV2).toEqual(metainfo.infoHashV2);
    });
  }

  it('a single file: `length` and no pad in a hybrid, a one-entry file tree', async () => {
    const data = content(50_000, 9);
    const input = [{ path: ['one.bin'], length: data.length, content: data }];
    const v2 = await createTorrentV2(input, { pieceLength: PIECE });
    const tree = (v2.metainfo.raw.info as BencodeDict)['file tree'] as BencodeDict;
    expect(Object.keys(tree)).toEqual(['one.bin']);
    const hybrid = await createTorrentV2(input, { pieceLength: PIECE, hybrid: true });
    const info = hybrid.metainfo.raw.info as BencodeDict;
    expect(info.length).toBe(50_000);
    expect(info.files).toBeUndefined();
    expect(hybrid.metainfo.files.map((f) => f.padding)).toEqual([false]);
  });

  it('refuses a file where a directory is, and content of the wrong length', async () => {
    const a = { path: ['x'], length: 1, content: new Uint8Array(1) };
    const b = { path: ['x', 'y'], length: 1, content: new Uint8Array(1) };
    await expect(createTorrentV2([a, b], { name: 'n' })).rejects.toMatchObject({
      code: 'INVALID_OPTIONS',
    });
    const short = { path: ['s'], length: 10, content: new Uint8Array(5) };
    await expect(createTorrentV2([short])).rejects.toMatchObject({ code: 'INVALID_OPTIONS' });
  });

  it('libtorrent v2 vectors become a session view: truncated info-hash, piece layers', () => {
    for (const name of ['v2.torrent', 'v2_multiple_files.torrent', 'v2_hybrid.torrent']) {
      const bytes = readFileSync(new URL(`vectors/torrents/libtorrent/${name}`, shared));
      const metainfo = parseTorrent(bytes);
      const info = torrentInfoFromMetainfo(metainfo);
      expect(info.v2?.version).toBe(metainfo.version);
      const expected = metainfo.infoHash ?? metainfo.infoHashV2!.subarray(0, 20);
      expect(Buffer.from(info.infoHash)).toEqual(Buffer.from(expected));
      expect(info.v2!.pieceLayers.size).toBe(metainfo.pieceLayers?.size ?? 0);
    }
  });

  it('after BEP 9 metadata, a v2-only torrent fetches its piece layers first; a hybrid opens at once', async () => {
    const input = files();
    for (const hybrid of [false, true]) {
      const { metainfo } = await createTorrentV2(input, {
        name: 'set',
        pieceLength: PIECE,
        hybrid,
      });
      const fromMagnet = torrentInfoFromMetainfo(parseInfoDictionary(metainfo.infoBytes));
      expect(fromMagnet.v2?.pieceLayers.size).toBe(0);
      // A hybrid's SHA-1 pieces check everything, so v1-only peers can serve it.
      expect(MagnetLayers.needed(fromMagnet)).toBe(!hybrid);
      expect(MagnetLayers.needed(torrentInfoFromMetainfo(metainfo))).toBe(false);
    }
  });
});
