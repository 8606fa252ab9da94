/**
 * Argument parsing: examples plus "never another exception". (The tracker response tests moved
 * to piece-exchange with the tracker client: test/tracker-http-server.test.ts.)
 */
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { base32Encode, encodeResume } from '@peerkit/piece-exchange';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { CliError } from '../src/errors';
import {
  parseInfoHash,
  parsePeerAddress,
  parsePort,
  parseSize,
  readMagnet,
  readTarget,
} from '../src/input';
import { Harness } from './helpers';

const harness = new Harness();
afterEach(() => harness.cleanup());

describe('parseInfoHash', () => {
  it('reads 40 hex and 32 base32 characters, round-tripping any 20 bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 20, maxLength: 20 }), (bytes) => {
        expect(parseInfoHash(Buffer.from(bytes).toString('hex'))).toEqual(bytes);
        expect(parseInfoHash(Buffer.from(bytes).toString('hex').toUpperCase())).toEqual(bytes);
        expect(parseInfoHash(base32Encode(bytes))).toEqual(bytes);
      }),
      { numRuns: 1000 },
    );
  });

  it('refuses anything else', () => {
    for (const text of [
      '',
      'abc',
      'g'.repeat(40),
      'a'.repeat(39),
      'a'.repeat(41),
      '1'.repeat(32),
    ]) {
      expect(parseInfoHash(text), text).toBeUndefined();
    }
  });
});

describe('readMagnet', () => {
  it('any string gives a magnet with a v1 info-hash or a CliError INVALID_MAGNET', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.string().map((s) => `magnet:?${s}`),
        ),
        (text) => {
          try {
            expect(readMagnet(text).infoHash).toHaveLength(20);
          } catch (error) {
            expect(error).toBeInstanceOf(CliError);
            expect((error as CliError).code).toBe('INVALID_MAGNET');
          }
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('takes a v2-only magnet: peers know it by its SHA-256 info-hash, truncated (BEP 52)', () => {
    const v2 = `magnet:?xt=urn:btmh:1220${'ab'.repeat(32)}`;
    const { magnet, infoHash } = readMagnet(v2);
    expect(Buffer.from(infoHash).toString('hex')).toBe('ab'.repeat(20));
    expect(Buffer.from(magnet.infoHashV2!).toString('hex')).toBe('ab'.repeat(32));
  });
});

describe('readTarget', () => {
  it('tells magnets, .torrent files and info-hashes apart', async () => {
    const dir = await harness.tempDir();
    const hex = randomBytes(20).toString('hex');
    expect((await readTarget(`magnet:?xt=urn:btih:${hex}`)).kind).toBe('magnet');
    expect((await readTarget(hex)).kind).toBe('info-hash');
    const notTorrent = join(dir, 'x.torrent');
    await writeFile(
      notTorrent,
      encodeResume(randomBytes(20), new (await import('@peerkit/piece-exchange')).Bitfield(3)),
    );
    await expect(readTarget(notTorrent)).rejects.toMatchObject({ code: 'INVALID_TORRENT' });
    await expect(readTarget(join(dir, 'missing.torrent'))).rejects.toMatchObject({
      code: 'MISSING_PATH',
    });
    await expect(readTarget('what')).rejects.toMatchObject({ code: 'INVALID_TARGET' });
  });
});

describe('addresses, ports and sizes', () => {
  it('parses host:port forms', async () => {
    expect(await parsePeerAddress('127.0.0.1:6881')).toEqual({ host: '127.0.0.1', port: 6881 });
    expect(await parsePeerAddress('[::1]:51413')).toEqual({ host: '::1', port: 51413 });
    expect((await parsePeerAddress('localhost:80')).port).toBe(80);
    for (const bad of ['127.0.0.1', '127.0.0.1:0', '127.0.0.1:70000', '::1:5', ':5', 'a b:5']) {
      await expect(parsePeerAddress(bad), bad).rejects.toMatchObject({ code: 'INVALID_ADDRESS' });
    }
  });

  it('parses ports and sizes', () => {
    expect(parsePort('0', '--port')).toBe(0);
    expect(parsePort('65535', '--port')).toBe(65535);
    expect(() => parsePort('65536', '--port')).toThrow(CliError);
    expect(() => parsePort('-1', '--port')).toThrow(CliError);
    expect(parseSize('262144', 'x')).toBe(262144);
    expect(parseSize('16k', 'x')).toBe(16384);
    expect(parseSize('1.5MiB', 'x')).toBe(1.5 * 1024 * 1024);
    expect(parseSize('2G', 'x')).toBe(2 * 1024 ** 3);
    expect(() => parseSize('fast', 'x')).toThrow(CliError);
  });
});
