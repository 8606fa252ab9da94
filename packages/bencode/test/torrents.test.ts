/**
 * Real .torrent files (../shared/vectors/torrents: libtorrent's and anacrolix's test sets,
 * read in place). For every file its MANIFEST lists:
 * - lenient mode reads it (after `decodePrefix`, since libtorrent tolerates trailing bytes);
 * - the SHA-1 / SHA-256 over `rawSpan(bytes, ['info'])` is the info-hash the MANIFEST gives
 *   (BEP 3 v1 info-hash; BEP 52 v2 info-hash);
 * - strict mode accepts exactly the files without a strict-bencode note and re-encodes them to
 *   the same bytes; for the others it reports the first problem the collector's own strict
 *   reader noted, at the same offset.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decode, decodePrefix, encode, isBencodeError, rawSpan } from '../src/index';

const shared =
  process.env.PEERKIT_SHARED ?? fileURLToPath(new URL('../../../../shared', import.meta.url));
const root = join(shared, 'vectors', 'torrents');

interface Row {
  dir: string;
  file: string;
  sha1: string;
  sha256: string;
  /** The collector's strict-bencode notes (libtorrent set only; '' = strictly valid). */
  notes: string;
}

/** Reads the `## Files`-style markdown table of a MANIFEST by its column names. */
function manifestRows(dir: string): Row[] {
  const lines = readFileSync(join(root, dir, 'MANIFEST.md'), 'utf8').split('\n');
  const cells = (line: string) =>
    line
      .split('|')
      .slice(1, -1)
      .map((c) => c.trim());
  const headerAt = lines.findIndex((l) => l.startsWith('| file |'));
  const header = cells(lines[headerAt] as string);
  const col = (name: string) => header.findIndex((h) => h.startsWith(name));
  const rows: Row[] = [];
  for (const line of lines.slice(headerAt + 2)) {
    if (!line.startsWith('| ')) break;
    const c = cells(line);
    rows.push({
      dir,
      file: c[col('file')] as string,
      sha1: c[col('SHA-1')] ?? '',
      sha256: c[col('SHA-256')] ?? '',
      notes:
        col("collector's strict-bencode") >= 0 ? (c[col("collector's strict-bencode")] ?? '') : '',
    });
  }
  return rows;
}

const rows = [...manifestRows('libtorrent'), ...manifestRows('anacrolix')];

/** The first note as [code, offset]. Our LEADING_ZERO points at the zero, the collector at the `i`. */
function expectedStrictError(row: Row): [string, number] | undefined {
  // anacrolix: "content is `de\n`; ... (trailing data after the root dict)".
  if (row.file === 'minimal-trailing-newline.torrent') return ['TRAILING_DATA', 2];
  const first = row.notes.split(';')[0]?.trim() ?? '';
  if (first === '') return undefined;
  const at = Number(/ at (\d+)$/.exec(first)?.[1]);
  if (first.startsWith('duplicate key')) return ['DUPLICATE_KEY', at];
  if (first.startsWith('unsorted key')) return ['UNSORTED_KEYS', at];
  if (first.startsWith('non-canonical int')) return ['LEADING_ZERO', at + 1];
  const trailing = /^trailing (\d+) bytes/.exec(first);
  if (trailing) return ['TRAILING_DATA', -Number(trailing[1])]; // offset: file length - n
  throw new Error(`unknown note: ${first}`);
}

const hash = (algorithm: string, bytes: Uint8Array) =>
  createHash(algorithm).update(bytes).digest('hex');

describe('real torrents (../shared/vectors/torrents)', () => {
  it('lists the 75 libtorrent and 14 anacrolix files', () => {
    expect(rows.filter((r) => r.dir === 'libtorrent')).toHaveLength(75);
    expect(rows.filter((r) => r.dir === 'anacrolix')).toHaveLength(14);
  });

  it.each(rows.map((r): [string, Row] => [`${r.dir}/${r.file}`, r]))('%s', (_name, row) => {
    const bytes = new Uint8Array(readFileSync(join(root, row.dir, row.file)));

    // Lenient: the one root value, trailing bytes allowed (as libtorrent does).
    const { end } = decodePrefix(bytes, { strict: false });
    const body = bytes.subarray(0, end);
    const info = rawSpan(body, ['info'], { strict: false });
    const infoBytes = info && body.subarray(info.start, info.end);
    if (row.sha1) expect(infoBytes && hash('sha1', infoBytes)).toBe(row.sha1);
    if (row.sha256) expect(infoBytes && hash('sha256', infoBytes)).toBe(row.sha256);

    // Strict.
    const expected = expectedStrictError(row);
    if (expected === undefined) {
      expect(Buffer.from(encode(decode(bytes))).equals(bytes)).toBe(true);
    } else {
      let error: unknown;
      try {
        decode(bytes);
      } catch (e) {
        error = e;
      }
      expect(isBencodeError(error)).toBe(true);
      const [code, offset] = expected;
      const e = error as { code: string; offset: number };
      expect([e.code, e.offset]).toEqual([code, offset < 0 ? bytes.length + offset : offset]);
    }
  });
});
