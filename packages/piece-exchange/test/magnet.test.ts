import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  base32Decode,
  base32Encode,
  formatMagnet,
  isFileSelected,
  MagnetError,
  type MagnetErrorCode,
  magnetFromMetainfo,
  parseMagnet,
  parseTorrent,
} from '../src/index';
import { arbMagnetLink } from '../src/testing';

const RUNS = { numRuns: 1000 };
const hex = (bytes: Uint8Array | undefined) =>
  bytes ? Buffer.from(bytes).toString('hex') : undefined;
const shared = process.env.PEERKIT_SHARED
  ? new URL(`file://${process.env.PEERKIT_SHARED.replace(/\/?$/, '/')}`)
  : new URL('../../../../shared/', import.meta.url);
const anacrolix = (file: string) =>
  parseTorrent(readFileSync(new URL(`vectors/torrents/anacrolix/${file}`, shared)));

function expectCode(fn: () => unknown, code: MagnetErrorCode): void {
  let thrown: unknown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(MagnetError);
  expect((thrown as MagnetError).code).toBe(code);
}

describe('magnet links', () => {
  it('parses hex and base32 btih, dn, tr, x.pe, ws and so', () => {
    const magnet = parseMagnet(
      'magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a&dn=Hello+World%21&tr=udp%3A%2F%2Ft.example%3A80&tr.1=http://b/announce' +
        '&x.pe=10.0.0.1:6881&x.pe=[2001:db8::1]:51413&x.pe=peer.example:1&ws=http%3A%2F%2Fw%2F&so=0,2,4-6&foo=bar',
    );
    expect(hex(magnet.infoHash)).toBe('c12fe1c06bba254a9dc9f519b335aa7c1367a88a');
    expect(magnet.name).toBe('Hello World!');
    expect(magnet.trackers).toEqual(['udp://t.example:80', 'http://b/announce']);
    expect(magnet.peers).toEqual([
      { host: '10.0.0.1', port: 6881 },
      { host: '2001:db8::1', port: 51413 },
      { host: 'peer.example', port: 1 },
    ]);
    expect(magnet.webSeeds).toEqual(['http://w/']);
    expect(magnet.selectOnly).toEqual([
      [0, 0],
      [2, 2],
      [4, 6],
    ]);
    expect([0, 1, 2, 3, 4, 5, 6, 7].map((i) => isFileSelected(magnet.selectOnly, i))).toEqual([
      true,
      false,
      true,
      false,
      true,
      true,
      true,
      false,
    ]);
    const base32 = base32Encode(magnet.infoHash!);
    expect(base32).toHaveLength(32);
    expect(hex(parseMagnet(`magnet:?xt=urn:btih:${base32.toLowerCase()}`).infoHash)).toBe(
      hex(magnet.infoHash),
    );
  });

  it('matches the magnets of the anacrolix vectors (v1, v2 btmh, hybrid)', () => {
    const skoda = anacrolix('SKODAOCTAVIA336x280_archive.torrent');
    const expected =
      'magnet:?xt=urn:btih:d4b197dff199aad447a9a352e31528adbbd97922&tr=http%3A%2F%2Fbt1.archive.org%3A6969%2Fannounce&tr=http%3A%2F%2Fbt2.archive.org%3A6969%2Fannounce&ws=https%3A%2F%2Farchive.org%2Fdownload%2F&ws=http%3A%2F%2Fia601600.us.archive.org%2F26%2Fitems%2F&ws=http%3A%2F%2Fia801600.us.archive.org%2F26%2Fitems%2F';
    const { name: _name, ...withoutName } = magnetFromMetainfo(skoda);
    expect(formatMagnet(withoutName)).toBe(expected);
    expect(formatMagnet(parseMagnet(expected))).toBe(expected);

    const v2 =
      'magnet:?xt=urn:btmh:1220caf1e1c30e81cb361b9ee167c4aa64228a7fa4fa9f6105232b28ad099f3a302e&dn=bittorrent-v2-test';
    expect(formatMagnet(magnetFromMetainfo(anacrolix('bittorrent-v2-test.torrent')))).toBe(v2);
    const hybrid =
      'magnet:?xt=urn:btih:631a31dd0a46257d5078c0dee4e66e26f73e42ac&xt=urn:btmh:1220d8dd32ac93357c368556af3ac1d95c9d76bd0dff6fa9833ecdac3d53134efabb&dn=bittorrent-v1-v2-hybrid-test';
    const parsed = parseMagnet(hybrid);
    expect(hex(parsed.infoHash)).toBe('631a31dd0a46257d5078c0dee4e66e26f73e42ac');
    expect(hex(parsed.infoHashV2)).toBe(
      'd8dd32ac93357c368556af3ac1d95c9d76bd0dff6fa9833ecdac3d53134efabb',
    );
    expect(formatMagnet(magnetFromMetainfo(anacrolix('bittorrent-v2-hybrid-test.torrent')))).toBe(
      hybrid,
    );

    const bootstrap = magnetFromMetainfo(anacrolix('bootstrap.dat.torrent'));
    expect(bootstrap.name).toBe('bootstrap.dat');
    expect(hex(bootstrap.infoHash)).toBe('36719ba2cecf9f3bd7c5abfb7a88e939611b536c');
    expect(bootstrap.trackers).toContain('udp://tracker.openbittorrent.com:80');
    expect(bootstrap.trackers).toContain('http://bttracker.crunchbanglinux.org:6969/announce');
    const sintel = formatMagnet(magnetFromMetainfo(anacrolix('sintel.torrent')));
    expect(hex(parseMagnet(sintel).infoHash)).toBe('08ada5a7a6183aae1e09d831df6748d566095a10');
  });

  it('typed errors on malformed input', () => {
    expectCode(() => parseMagnet('http://example.com'), 'INVALID_URI');
    expectCode(() => parseMagnet('magnet:?dn=x'), 'MISSING_INFO_HASH');
    expectCode(() => parseMagnet('magnet:?xt=urn:ed2k:abc'), 'MISSING_INFO_HASH');
    expectCode(() => parseMagnet('magnet:?xt=urn:btih:abc'), 'INVALID_INFO_HASH');
    expectCode(() => parseMagnet(`magnet:?xt=urn:btih:${'z'.repeat(40)}`), 'INVALID_INFO_HASH');
    expectCode(() => parseMagnet(`magnet:?xt=urn:btih:${'1'.repeat(32)}`), 'INVALID_INFO_HASH');
    expectCode(() => parseMagnet(`magnet:?xt=urn:btmh:1114${'a'.repeat(40)}`), 'INVALID_INFO_HASH');
    expectCode(() => parseMagnet('magnet:?xt=urn:btih:%zz'), 'INVALID_URI');
    const ok = `magnet:?xt=urn:btih:${'a'.repeat(40)}`;
    expectCode(() => parseMagnet(`${ok}&x.pe=host`), 'INVALID_PEER');
    expectCode(() => parseMagnet(`${ok}&x.pe=1.2.3.4:70000`), 'INVALID_PEER');
    expectCode(() => parseMagnet(`${ok}&x.pe=[zz::1]:1`), 'INVALID_PEER');
    expectCode(() => parseMagnet(`${ok}&so=3-1`), 'INVALID_SELECT_ONLY');
    expectCode(() => parseMagnet(`${ok}&so=a`), 'INVALID_SELECT_ONLY');
    expectCode(() => parseMagnet(`${ok}&novalue`), 'INVALID_URI');
    expectCode(() => parseMagnet(`${ok}&tr=${'a'.repeat(70000)}`), 'INVALID_URI');
  });

  it('base32 round-trips', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 20, maxLength: 20 }), (bytes) => {
        expect(base32Decode(base32Encode(bytes))).toEqual(bytes);
      }),
      RUNS,
    );
  });
});

describe('magnet properties', () => {
  it('formatMagnet → parseMagnet round-trips', () => {
    fc.assert(
      fc.property(arbMagnetLink(), (magnet) => {
        expect(parseMagnet(formatMagnet(magnet))).toEqual(magnet);
      }),
      RUNS,
    );
  });

  it('arbitrary strings give a magnet link or a MagnetError', () => {
    const fragments = fc.constantFrom(
      'magnet:?',
      'xt=urn:btih:',
      'xt=urn:btmh:1220',
      '&',
      '=',
      'dn=',
      'tr=',
      'x.pe=',
      'so=',
      '%',
      '%2',
      '[',
      ']:',
      ':',
      '-',
      ',',
      'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
      'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
      '1',
      '65536',
    );
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 80 }),
          fc.array(fragments, { maxLength: 12 }).map((p) => p.join('')),
        ),
        (text) => {
          try {
            parseMagnet(text);
          } catch (error) {
            expect(error).toBeInstanceOf(MagnetError);
          }
        },
      ),
      RUNS,
    );
  });
});
