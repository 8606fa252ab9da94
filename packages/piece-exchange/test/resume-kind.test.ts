/**
 * Resume data records the torrent's BEP 52 hash kind and full info-hash: a v2-only torrent's
 * 20-byte info-hash is its SHA-256 one truncated, which a v1 or hybrid torrent's may equal, so
 * the 20 bytes alone would let one torrent's resume data vouch for another's files.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Bitfield } from '../src/bitfield';
import { memoryFileSystem } from '../src/storage/file-system';
import { FileLayout } from '../src/storage/layout';
import { PieceStore } from '../src/storage/piece-store';
import { decodeResumeData, encodeResume, type ResumeKey, saveResume } from '../src/storage/resume';
import { verifiedAtStart } from '../src/storage/start';
import { StorageError } from '../src/storage/storage-error';
import { content } from './fixtures';

const PIECE = 16_384;
const truncated = new Uint8Array(20).fill(0xab);
const full = Buffer.concat([truncated, new Uint8Array(12).fill(0xcd)]);
const v2: ResumeKey = { infoHash: truncated, kind: 'v2', v2InfoHash: full };
const hybrid: ResumeKey = { infoHash: truncated, kind: 'hybrid', v2InfoHash: full };
const v1: ResumeKey = { infoHash: truncated, kind: 'v1' };

function codeOf(error: unknown): string | undefined {
  return error instanceof StorageError ? error.code : undefined;
}

/** The version 2 format (before hash kinds), as v1 torrents' resume data was written. */
function versionTwo(infoHash: Uint8Array, pieces: Bitfield): Uint8Array {
  const head = Buffer.concat([
    Buffer.from('peerkit-resume'),
    Buffer.from([2]),
    infoHash,
    Buffer.from(new Uint32Array([0]).buffer),
  ]);
  head.writeUInt32BE(pieces.length, head.length - 4);
  // Directory '' and no file records.
  const body = Buffer.concat([head, pieces.bytes, Buffer.from([0, 0, 0, 0, 0, 0])]);
  return Buffer.concat([body, createHash('sha1').update(body).digest()]);
}

describe('resume data names the torrent by hash kind and full info-hash (BEP 52)', () => {
  it('is read back only for the same kind and full info-hash', () => {
    const keys = fc.record({
      kind: fc.constantFrom('v1' as const, 'v2' as const, 'hybrid' as const),
      infoHash: fc.uint8Array({ minLength: 20, maxLength: 20 }),
      v2InfoHash: fc.uint8Array({ minLength: 32, maxLength: 32 }),
    });
    const asKey = (k: { kind: ResumeKey['kind']; infoHash: Uint8Array; v2InfoHash: Uint8Array }) =>
      k.kind === 'v1' ? { infoHash: k.infoHash, kind: k.kind } : k;
    fc.assert(
      fc.property(keys, keys, fc.integer({ min: 1, max: 50 }), (a, b, n) => {
        const bytes = encodeResume(asKey(a), Bitfield.full(n));
        expect(decodeResumeData(bytes, asKey(a), n).pieces.count).toBe(n);
        // The same truncated hash with another kind or full v2 hash is another torrent.
        const other = { ...asKey(b), infoHash: a.infoHash };
        const sameTorrent =
          a.kind === b.kind &&
          (a.kind === 'v1' || Buffer.compare(a.v2InfoHash, b.v2InfoHash) === 0);
        try {
          decodeResumeData(bytes, other, n);
          expect(sameTorrent).toBe(true);
        } catch (error) {
          expect(sameTorrent).toBe(false);
          expect(codeOf(error)).toBe('INVALID_RESUME');
        }
      }),
      { numRuns: 300 },
    );
  });

  it('old (version 2) resume files stay readable for a v1 torrent, never for a v2 or hybrid one', () => {
    const pieces = Bitfield.full(9);
    const bytes = versionTwo(truncated, pieces);
    expect(decodeResumeData(bytes, truncated, 9).pieces.count).toBe(9);
    expect(decodeResumeData(bytes, v1, 9).pieces.count).toBe(9);
    for (const key of [v2, hybrid]) {
      expect(() => decodeResumeData(bytes, key, 9)).toThrow(/v1 torrent, this one is/);
    }
  });

  it('a v2 resume file offered to a hybrid or v1 torrent with the same truncated hash is not trusted: the files are re-checked', async () => {
    const layout = new FileLayout([{ path: ['t', 'a'], length: 5 * PIECE + 100 }], PIECE);
    const data = content(layout.totalLength, 9);
    const hashes = new Uint8Array(layout.pieceCount * 20);
    for (let p = 0; p < layout.pieceCount; p++)
      hashes.set(
        createHash('sha1')
          .update(data.subarray(p * PIECE, (p + 1) * PIECE))
          .digest(),
        p * 20,
      );
    const fs = memoryFileSystem();
    const open = () => new PieceStore({ fs, directory: '/d', layout, pieceHashes: hashes });
    const first = open();
    await verifiedAtStart(fs, '/state/r', v2, first);
    // Every piece but piece 2 is written right; piece 2 holds other bytes.
    for (let p = 0; p < layout.pieceCount; p++) {
      const bytes = data.slice(p * PIECE, p * PIECE + layout.pieceSize(p));
      if (p === 2) bytes.fill(0x55);
      await first.writeBlock(p, 0, bytes);
    }
    // The v2 torrent's resume data claims every piece (its files' stamps are recorded as they are).
    await saveResume(fs, '/state/r', v2, Bitfield.full(layout.pieceCount), first);
    await first.close();
    // The torrent it was written for trusts it (stamps unchanged: nothing is hashed)...
    const same = open();
    expect((await verifiedAtStart(fs, '/state/r', v2, same)).count).toBe(layout.pieceCount);
    await same.close();
    // ...a hybrid or v1 torrent with the same 20-byte info-hash does not: it hashes the files.
    for (const key of [hybrid, v1]) {
      const writer = open();
      await saveResume(fs, '/state/r', v2, Bitfield.full(layout.pieceCount), writer);
      await writer.close();
      const other = open();
      const have = await verifiedAtStart(fs, '/state/r', key, other);
      expect(have.has(2)).toBe(false);
      expect(have.count).toBe(layout.pieceCount - 1);
      await other.close();
    }
  });
});
