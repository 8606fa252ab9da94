import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode } from '@peerkit/bencode';
import { describe, expect, it } from 'vitest';
import {
  createTorrent,
  defaultPieceLength,
  MetainfoError,
  type MetainfoErrorCode,
  parseInfoDictionary,
  parseTorrent,
  parseTorrentV1,
  requireV1,
  torrentFilesFromPath,
} from '../src/index';
import { torrentInfoFromMetainfo } from '../src/torrent-info';

const sha1 = (bytes: Uint8Array) => createHash('sha1').update(bytes).digest();
const hex = (bytes: Uint8Array | undefined) => (bytes ? Buffer.from(bytes).toString('hex') : '');
const shared = process.env.PEERKIT_SHARED
  ? new URL(`file://${process.env.PEERKIT_SHARED.replace(/\/?$/, '/')}`)
  : new URL('../../../../shared/', import.meta.url);

async function expectCode(promise: Promise<unknown> | (() => unknown), code: MetainfoErrorCode) {
  let thrown: unknown;
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(MetainfoError);
  expect((thrown as MetainfoError).code).toBe(code);
}

function bytes(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

describe('createTorrent', () => {
  it('single file: SHA-1 of each piece, info-hash over the info bytes', async () => {
    const data = bytes(40000);
    const { torrent, metainfo } = await createTorrent(
      [{ path: ['a.bin'], length: data.length, content: data }],
      {
        pieceLength: 16384,
        trackers: ['http://127.0.0.1:1/announce'],
        createdBy: 'peerkit',
      },
    );
    expect(metainfo.version).toBe('v1');
    expect(metainfo.name).toBe('a.bin');
    expect(metainfo.pieceCount).toBe(3);
    expect(metainfo.lastPieceLength).toBe(40000 - 32768);
    for (let i = 0; i < 3; i++) {
      expect(hex(metainfo.pieces.subarray(i * 20, i * 20 + 20))).toBe(
        hex(sha1(data.subarray(i * 16384, (i + 1) * 16384))),
      );
    }
    expect(hex(metainfo.infoHash)).toBe(hex(sha1(metainfo.infoBytes)));
    expect(metainfo.announce).toEqual([['http://127.0.0.1:1/announce']]);
    expect(metainfo.files).toEqual([
      {
        path: ['a.bin'],
        length: 40000,
        offset: 0,
        attr: '',
        padding: false,
        executable: false,
        hidden: false,
      },
    ]);
    expect(Buffer.from(torrent).toString('latin1')).toContain(
      '8:announce27:http://127.0.0.1:1/announce',
    );
  });

  it('multi-file with BEP 47 pad files and streamed content', async () => {
    const a = bytes(20000, 2);
    const b = bytes(5000, 3);
    async function* chunks(data: Uint8Array) {
      for (let i = 0; i < data.length; i += 777) yield data.subarray(i, i + 777);
    }
    const { metainfo } = await createTorrent(
      [
        { path: ['dir', 'a'], length: a.length, content: () => chunks(a), executable: true },
        { path: ['b'], length: b.length, content: () => chunks(b) },
      ],
      {
        name: 'top',
        pieceLength: 16384,
        padFiles: true,
        private: true,
        trackers: [['http://x/a', 'http://y/a'], ['http://z/a']],
      },
    );
    expect(metainfo.files.map((f) => [f.path.join('/'), f.length, f.offset, f.padding])).toEqual([
      ['top/dir/a', 20000, 0, false],
      ['top/.pad/12768', 12768, 20000, true],
      ['top/b', 5000, 32768, false],
    ]);
    expect(metainfo.files[0]!.executable).toBe(true);
    expect(metainfo.private).toBe(true);
    // The session sees it too (BEP 27: no PEX), and a public torrent carries no flag.
    expect(torrentInfoFromMetainfo(metainfo).private).toBe(true);
    expect(torrentInfoFromMetainfo({ ...metainfo, private: false }).private).toBeUndefined();
    expect(metainfo.announce).toEqual([['http://x/a', 'http://y/a'], ['http://z/a']]);
    const space = Buffer.concat([a, new Uint8Array(12768), b]);
    expect(metainfo.pieceCount).toBe(3);
    expect(hex(metainfo.pieces.subarray(40, 60))).toBe(hex(sha1(space.subarray(32768))));
  });

  it('refuses bad input with INVALID_OPTIONS', async () => {
    const one = (path: string[], length = 1, content: Uint8Array = new Uint8Array(length)) => ({
      path,
      length,
      content,
    });
    await expectCode(createTorrent([]), 'INVALID_OPTIONS');
    await expectCode(createTorrent([one(['a'])], { pieceLength: 8192 }), 'INVALID_OPTIONS');
    await expectCode(createTorrent([one(['a'])], { pieceLength: 20000 }), 'INVALID_OPTIONS');
    await expectCode(createTorrent([one(['a']), one(['a'])], { name: 'x' }), 'INVALID_OPTIONS');
    await expectCode(createTorrent([one(['..'])]), 'INVALID_OPTIONS');
    await expectCode(createTorrent([one(['a/b'])]), 'INVALID_OPTIONS');
    await expectCode(createTorrent([one(['a']), one(['b'])]), 'INVALID_OPTIONS');
    await expectCode(createTorrent([one(['a'], 0)]), 'INVALID_OPTIONS');
    await expectCode(createTorrent([one(['a'], 10, new Uint8Array(9))]), 'INVALID_OPTIONS');
    await expectCode(createTorrent([one(['a'], 10, new Uint8Array(11))]), 'INVALID_OPTIONS');
  });

  it('chooses a power-of-two piece length between 16 KiB and 16 MiB', () => {
    expect(defaultPieceLength(1)).toBe(16384);
    expect(defaultPieceLength(2 ** 30)).toBe(2 ** 20);
    expect(defaultPieceLength(2 ** 50)).toBe(16 * 2 ** 20);
  });

  it('torrentFilesFromPath streams a directory from disk', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'peerkit-metainfo-'));
    try {
      await mkdir(join(dir, 'share', 'sub'), { recursive: true });
      await writeFile(join(dir, 'share', 'b.txt'), 'bbbb');
      await writeFile(join(dir, 'share', 'sub', 'a.txt'), bytes(50000));
      const { name, files } = await torrentFilesFromPath(join(dir, 'share'));
      expect(name).toBe('share');
      expect(files.map((f) => [f.path.join('/'), f.length])).toEqual([
        ['b.txt', 4],
        ['sub/a.txt', 50000],
      ]);
      const { metainfo } = await createTorrent(files, { name, pieceLength: 16384 });
      expect(metainfo.length).toBe(50004);
      const single = await torrentFilesFromPath(join(dir, 'share', 'b.txt'));
      const created = await createTorrent(single.files);
      expect(created.metainfo.name).toBe('b.txt');
      expect(hex(created.metainfo.pieces)).toBe(hex(sha1(Buffer.from('bbbb'))));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('parseTorrent', () => {
  it('hashes the original info bytes even when keys are unsorted', () => {
    const info = Buffer.from(
      'd6:lengthi5e4:name1:a6:pieces20:aaaaaaaaaaaaaaaaaaaa12:piece lengthi16384ee',
    );
    const torrent = Buffer.concat([Buffer.from('d4:info'), info, Buffer.from('e')]);
    const metainfo = parseTorrentV1(torrent);
    expect(hex(metainfo.infoHash)).toBe(hex(sha1(info)));
    expect(Buffer.from(metainfo.infoBytes).equals(info)).toBe(true);
    // Re-encoding would sort the keys and change the hash:
    expect(
      hex(sha1(encode({ length: 5, name: 'a', 'piece length': 16384, pieces: 'a'.repeat(20) }))),
    ).not.toBe(hex(metainfo.infoHash));
  });

  it('reports v2-only torrents as V2_ONLY_UNSUPPORTED where v1 transfer is needed', async () => {
    const file = readFileSync(new URL('vectors/torrents/libtorrent/v2_only.torrent', shared));
    const metainfo = parseTorrent(file);
    expect(metainfo.version).toBe('v2');
    await expectCode(() => requireV1(metainfo), 'V2_ONLY_UNSUPPORTED');
    await expectCode(() => parseTorrentV1(file), 'V2_ONLY_UNSUPPORTED');
    const hybrid = parseTorrentV1(
      readFileSync(new URL('vectors/torrents/libtorrent/v2_hybrid.torrent', shared)),
    );
    expect(hybrid.version).toBe('hybrid');
    expect(hybrid.pieceCount).toBeGreaterThan(0);
  });

  it('parseInfoDictionary rebuilds a torrent from BEP 9 metadata', async () => {
    const data = bytes(70000);
    const { metainfo } = await createTorrent([{ path: ['f'], length: data.length, content: data }]);
    const fromInfo = requireV1(
      parseInfoDictionary(metainfo.infoBytes, { trackers: ['http://t/a'] }),
    );
    expect(hex(fromInfo.infoHash)).toBe(hex(metainfo.infoHash));
    expect(fromInfo.pieceCount).toBe(metainfo.pieceCount);
    expect(fromInfo.announce).toEqual([['http://t/a']]);
    await expectCode(() => parseInfoDictionary(Buffer.from('i1e')), 'MISSING_INFO');
    await expectCode(() => parseInfoDictionary(Buffer.from('d')), 'INVALID_BENCODING');
  });

  it('checks pieces, piece length and size limits', async () => {
    const torrent = (info: string) => Buffer.from(`d4:info${info}e`);
    await expectCode(
      () =>
        parseTorrent(
          torrent('d6:lengthi5e4:name1:a12:piece lengthi16384e6:pieces19:aaaaaaaaaaaaaaaaaaae'),
        ),
      'INVALID_PIECES',
    );
    await expectCode(
      () =>
        parseTorrent(
          torrent('d6:lengthi5e4:name1:a12:piece lengthi0e6:pieces20:aaaaaaaaaaaaaaaaaaaae'),
        ),
      'MISSING_PIECE_LENGTH',
    );
    await expectCode(
      () =>
        parseTorrent(
          torrent(
            'd6:lengthi5e4:name1:a12:piece lengthi16384e6:pieces20:aaaaaaaaaaaaaaaaaaaa12:meta versioni3ee',
          ),
        ),
      'UNSUPPORTED_META_VERSION',
    );
    await expectCode(() => parseTorrent(new Uint8Array(100), { maxSize: 99 }), 'TOO_LARGE');
    await expectCode(() => parseTorrent(Buffer.from('d4:info')), 'INVALID_BENCODING');
  });
});
