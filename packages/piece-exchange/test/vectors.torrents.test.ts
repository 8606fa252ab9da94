/**
 * Every torrent under shared/vectors/torrents gives the verdict, info-hash(es) and error its
 * MANIFEST.md records (libtorrent's and anacrolix's own expectations).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type Metainfo, MetainfoError, type MetainfoErrorCode, parseTorrent } from '../src/index';

const shared = process.env.PEERKIT_SHARED
  ? new URL(`file://${process.env.PEERKIT_SHARED.replace(/\/?$/, '/')}`)
  : new URL('../../../../shared/', import.meta.url);

/** libtorrent error names (its `errors::` enum) → this package's codes. */
const LIBTORRENT_CODES: Record<string, MetainfoErrorCode> = {
  torrent_missing_name: 'MISSING_NAME',
  torrent_invalid_length: 'INVALID_LENGTH',
  torrent_missing_info: 'MISSING_INFO',
  torrent_invalid_name: 'INVALID_NAME',
  torrent_missing_piece_length: 'MISSING_PIECE_LENGTH',
  too_many_pieces_in_torrent: 'TOO_MANY_PIECES',
  no_files_in_torrent: 'NO_FILES',
  torrent_is_no_dict: 'NOT_A_DICTIONARY',
  torrent_inconsistent_files: 'INCONSISTENT_FILES',
  torrent_file_parse_failed: 'FILE_PARSE_FAILED',
  torrent_invalid_piece_layer: 'INVALID_PIECE_LAYER',
  torrent_missing_pieces_root: 'MISSING_PIECES_ROOT',
  invalid_bencoding: 'INVALID_BENCODING',
};

interface Row {
  set: 'libtorrent' | 'anacrolix';
  file: string;
  expected: string;
  check: string;
  kind: string;
  sha1: string;
  sha256: string;
}

/** Reads the `| file | expected | ... |` table of a MANIFEST.md. */
function readManifest(set: Row['set']): Row[] {
  const manifest = readFileSync(new URL(`vectors/torrents/${set}/MANIFEST.md`, shared), 'utf8');
  const rows: Row[] = [];
  let header: string[] | undefined;
  for (const line of manifest.split('\n')) {
    if (!line.startsWith('|')) {
      header = undefined;
      continue;
    }
    const cells = line
      .split('|')
      .slice(1, -1)
      .map((c) => c.trim());
    if (cells[0] === 'file') {
      header = cells;
      continue;
    }
    if (header === undefined || cells[0]!.startsWith('---')) continue;
    const cell = (name: string) => cells[header!.findIndex((h) => h.startsWith(name))] ?? '';
    rows.push({
      set,
      file: cell('file'),
      expected: cell('expected'),
      check: cell('error') || cell('what the test checks'),
      kind: cell('kind'),
      sha1: cell('SHA-1'),
      sha256: cell('SHA-256'),
    });
  }
  return rows;
}

const rows = [...readManifest('libtorrent'), ...readManifest('anacrolix')];
const hex = (bytes: Uint8Array | undefined) => (bytes ? Buffer.from(bytes).toString('hex') : '');
const load = (row: Row) => readFileSync(new URL(`vectors/torrents/${row.set}/${row.file}`, shared));
const filePaths = (m: Metainfo) => m.files.map((f) => f.path.join('/'));

/** Expected error code of an invalid row. */
function expectedCode(row: Row): MetainfoErrorCode {
  const name = /^(\w+):/.exec(row.check)?.[1] ?? /with (\w+):/.exec(row.check)?.[1];
  if (name !== undefined && LIBTORRENT_CODES[name]) return LIBTORRENT_CODES[name];
  // anacrolix's minimal-trailing-newline.torrent (`de\n`): anacrolix refuses the trailing byte;
  // we follow libtorrent, which ignores trailing bytes and then finds no `info`.
  if (row.file === 'minimal-trailing-newline.torrent') return 'MISSING_INFO';
  throw new Error(`no error code known for ${row.file}: ${row.check}`);
}

describe('torrent vectors (MANIFEST.md)', () => {
  it('reads both manifests', () => {
    expect(rows.filter((r) => r.set === 'libtorrent')).toHaveLength(75);
    expect(rows.filter((r) => r.set === 'anacrolix')).toHaveLength(14);
  });

  for (const row of rows) {
    const valid = row.expected === 'valid';
    it(`${row.set}/${row.file}: ${valid ? 'valid' : expectedCode(row)}`, () => {
      const bytes = load(row);
      if (!valid) {
        let error: unknown;
        try {
          parseTorrent(bytes);
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(MetainfoError);
        expect((error as MetainfoError).code).toBe(expectedCode(row));
        return;
      }
      const metainfo = parseTorrent(bytes);
      expect(metainfo.version).toBe(row.kind);
      expect(hex(metainfo.infoHash)).toBe(row.sha1);
      expect(hex(metainfo.infoHashV2)).toBe(row.sha256);
      // The info bytes are the original span: hashing them again gives the same info-hash.
      expect(Buffer.from(bytes).indexOf(Buffer.from(metainfo.infoBytes))).toBeGreaterThan(0);
    });
  }
});

const torrent = (set: Row['set'], file: string) =>
  parseTorrent(readFileSync(new URL(`vectors/torrents/${set}/${file}`, shared)));

describe('what the vectors’ own tests check', () => {
  it('absolute and slash paths are sanitised like libtorrent', () => {
    expect(filePaths(torrent('libtorrent', 'absolute_filename.torrent'))).toEqual([
      'temp/abcde',
      'temp/foobar',
    ]);
    expect(filePaths(torrent('libtorrent', 'slash_path.torrent'))).toEqual(['temp/_/_/bar']);
    expect(filePaths(torrent('libtorrent', 'slash_path2.torrent'))).toEqual([
      'temp/abc....def/_/bar',
    ]);
    expect(torrent('libtorrent', 'invalid_filename.torrent').files).toHaveLength(2);
    expect(torrent('libtorrent', 'invalid_filename2.torrent').files).toHaveLength(3);
    expect(torrent('libtorrent', 'invalid_name3.torrent').name).toBe('foobar ');
  });

  it('duplicate files are renamed', () => {
    expect(filePaths(torrent('libtorrent', 'duplicate_files.torrent'))).toEqual([
      'temp/foo/bar.txt',
      'temp/foo/bar.1.txt',
    ]);
    expect(filePaths(torrent('libtorrent', 'v2_invalid_filename2.torrent'))).toEqual([
      'test/_',
      'test/_.1',
      'test/stress_test2',
    ]);
    expect(filePaths(torrent('libtorrent', 'v2_invalid_filename.torrent'))).toEqual(['_estMB']);
  });

  it('BEP 47 pad files and symlinks', () => {
    const pad = torrent('libtorrent', 'pad_file.torrent');
    expect(pad.files.map((f) => f.padding)).toEqual([false, true]);
    expect(filePaths(torrent('libtorrent', 'pad_file_no_path.torrent'))[1]).toBe('temp/.pad/2124');
    expect(filePaths(torrent('libtorrent', 'sample.torrent'))).toEqual([
      'sample/text_file2.txt',
      'sample/.____padding_file/0',
      'sample/text_file.txt',
    ]);
    expect(torrent('libtorrent', 'symlink1.torrent').files[1]!.symlink?.join('/')).toBe(
      'temp/a/b/bar',
    );
    const symlink2 = torrent('libtorrent', 'symlink2.torrent');
    expect(symlink2.files).toHaveLength(5);
    expect(symlink2.files[0]!.symlink?.join('/')).toBe('Some.framework/Versions/A/SDL2');
    expect(symlink2.files[4]!.symlink?.join('/')).toBe('Some.framework/Versions/A');
  });

  it('trackers, web seeds and DHT nodes', () => {
    expect(torrent('libtorrent', 'whitespace_url.torrent').announce[0]![0]).toBe(
      'udp://test.com/announce',
    );
    expect(torrent('libtorrent', 'url_seed_multi.torrent').urlList).toEqual([
      'http://test.com/file/',
    ]);
    expect(torrent('libtorrent', 'url_seed_multi_space_nolist.torrent').urlList).toEqual([
      'http://test.com/test%20file/foo%20bar/',
    ]);
    expect(torrent('libtorrent', 'dht_nodes.torrent').nodes).toEqual([
      { host: '127.0.0.1', port: 6881 },
      { host: '192.168.1.1', port: 6881 },
    ]);
    expect(torrent('anacrolix', 'SKODAOCTAVIA336x280_archive.torrent').urlList).toHaveLength(3);
    expect(torrent('anacrolix', 'flat-url-list.torrent').urlList).toEqual([
      'https://archive.org/download/',
    ]);
    expect(torrent('anacrolix', 'issue_65a.torrent').nodes[0]).toEqual({
      host: '185.34.3.132',
      port: 5680,
    });
    expect(torrent('libtorrent', 'no_creation_date.torrent').creationDate).toBeUndefined();
  });

  it('v2 and hybrid details', () => {
    const v2 = torrent('libtorrent', 'v2.torrent');
    expect(v2.version).toBe('hybrid');
    expect(filePaths(v2)).toEqual(['test64K']);
    expect(v2.files[0]!.length).toBe(65536);
    expect(hex(v2.files[0]!.piecesRoot)).toBe(
      '60aae9c7b428f87e0713e88229e18f0adf12cd7b22a0dd8a92bb2485eb7af242',
    );
    const only = torrent('libtorrent', 'v2_only.torrent');
    expect(only.version).toBe('v2');
    expect(hex(only.files[0]!.piecesRoot)).toBe(
      '515ea9181744b817744ded9d2e8e9dc6a8450c0b0c52e24b5077f302ffbd9008',
    );
    expect(only.pieceLayers?.size).toBe(1);
    expect(torrent('libtorrent', 'v2_no_piece_layers.torrent').pieceLayers).toBeUndefined();
    expect(torrent('libtorrent', 'v2_multiple_files.torrent').files).toHaveLength(5);
    const issue949 = torrent('anacrolix', 'issue-949.torrent');
    expect(issue949.version).toBe('hybrid');
    for (const file of issue949.files)
      if (!file.padding) expect(file.offset % issue949.pieceLength).toBe(0);
    if (issue949.version === 'hybrid') expect(issue949.lastPieceLength).toBe(issue949.pieceLength);
  });
});
