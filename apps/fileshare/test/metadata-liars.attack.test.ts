/**
 * Attack: peers that lie about the metadata of a magnet link (BEP 9), against a real
 * `peerkit-share get` process on loopback.
 *
 * - A peer advertising a wrong `metadata_size` (and serving pieces of that size) used to block the
 *   download for ever, even after it left: the size of the first peer was kept. Now the size is
 *   the one most peers advertise and the liar's state leaves with it (docs/security.md).
 * - A peer advertising metadata and never answering used to stall the download while it stayed
 *   connected. Now an unanswered request is asked elsewhere after 10 s.
 *
 * The honest seeder sits behind a `Gate` that holds its connections until the liar was asked, so
 * the liar is always met first.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  decodeExtensionHandshake,
  decodeMetadataMessage,
  EXTENSION_HANDSHAKE_ID,
  encodeExtended,
  encodeExtensionHandshake,
  encodeMetadataMessage,
  METADATA_PIECE_LENGTH,
  metadataPieceLength,
  type WireFrame,
} from '@peerkit/piece-exchange';
import { afterEach, describe, expect, it } from 'vitest';
import {
  diagnose,
  Gate,
  getter,
  honestSeeder,
  type RawConnection,
  RawPeer,
  until,
} from './attack-kit';
import { Harness, sha256 } from './helpers';

const harness = new Harness();
afterEach(() => harness.cleanup());

/** The id under which the raw peer wants ut_metadata messages. */
const LIAR_UT_METADATA = 3;

/** The remote's ut_metadata id from its extension handshake (0: not yet known). */
function remoteMetadataId(connection: RawConnection): number {
  for (const f of connection.frames) {
    if (f.type === 'extended' && f.id === EXTENSION_HANDSHAKE_ID)
      return decodeExtensionHandshake(f.payload).m.ut_metadata ?? 0;
  }
  return 0;
}

/** The ut_metadata request in `frame`, if it is one addressed to us. */
function metadataRequest(frame: WireFrame): number | undefined {
  if (frame.type !== 'extended' || frame.id !== LIAR_UT_METADATA) return undefined;
  const message = decodeMetadataMessage(frame.payload);
  return message.type === 'request' ? message.piece : undefined;
}

/** A raw peer that advertises ut_metadata with `metadataSize`; `onRequest` sees each request. */
function metadataPeer(
  infoHash: Uint8Array,
  metadataSize: number,
  onRequest: (connection: RawConnection, piece: number) => void,
): Promise<RawPeer> {
  return RawPeer.listen({
    infoHash,
    peerId: Buffer.from('-XX0001-metadata-liar'.slice(0, 20)),
    extensions: { extended: true },
    onHandshake(c) {
      c.send(
        encodeExtended(
          EXTENSION_HANDSHAKE_ID,
          encodeExtensionHandshake({ m: { ut_metadata: LIAR_UT_METADATA }, metadataSize }),
        ),
      );
    },
    onMessage(c, frame) {
      const piece = metadataRequest(frame);
      if (piece !== undefined) onRequest(c, piece);
    },
  });
}

describe('attack: metadata liars (BEP 9) against peerkit-share get', () => {
  it('a peer advertising a wrong metadata_size, then leaving, does not block the download', async () => {
    const dir = await harness.tempDir();
    const seeder = await honestSeeder(harness, dir, {
      name: 'truth.bin',
      size: 2_000_000,
      pieceLength: 65_536,
    });
    const gate = await Gate.listen(seeder.port);
    // Five pieces of metadata where the truth is one: a size no honest peer advertises.
    const wrongSize = 4 * METADATA_PIECE_LENGTH + 1_000;
    expect(wrongSize).not.toBe(seeder.metadataSize);
    let asked = 0;
    const liar = await metadataPeer(seeder.info.infoHash, wrongSize, (c, piece) => {
      asked++;
      // Serve garbage of the advertised (wrong) size.
      const data = new Uint8Array(metadataPieceLength(wrongSize, piece)).fill(0x42);
      c.send(
        encodeExtended(
          remoteMetadataId(c),
          encodeMetadataMessage({ type: 'data', piece, totalSize: wrongSize, data }),
        ),
      );
    });
    try {
      const get = getter(harness, dir, seeder.magnet, [liar.address, gate.address], 60);
      await until(
        () => asked > 0,
        45_000,
        'the liar to be asked for metadata',
        () => diagnose(get),
      );
      // The liar leaves; only now can the honest seeder be reached.
      await liar.close();
      gate.open();
      const exit = await get.exited;
      expect(exit.code, diagnose(get)).toBe(0);
      expect(get.events.find((e) => e.event === 'metadata')).toMatchObject({
        name: 'truth.bin',
        fetched: true,
      });
      expect(sha256(await readFile(join(dir, 'out', 'truth.bin')))).toBe(seeder.sha256);
    } finally {
      await liar.close();
      await gate.close();
    }
  }, 90_000);

  it('a peer advertising metadata and never answering does not stall the download while connected', async () => {
    const dir = await harness.tempDir();
    const seeder = await honestSeeder(harness, dir, {
      name: 'silent.bin',
      size: 2_000_000,
      pieceLength: 65_536,
    });
    const gate = await Gate.listen(seeder.port);
    const askedOn: RawConnection[] = [];
    // The true size, so that only its silence is wrong.
    const silent = await metadataPeer(seeder.info.infoHash, seeder.metadataSize, (c) => {
      askedOn.push(c);
    });
    try {
      const get = getter(harness, dir, seeder.magnet, [silent.address, gate.address], 60);
      await until(
        () => askedOn.length > 0,
        45_000,
        'the silent peer to be asked for metadata',
        () => diagnose(get),
      );
      gate.open();
      await get.waitForEvent('metadata', 60_000);
      // The metadata came from elsewhere while the silent peer was still connected.
      expect(askedOn[0]!.closed, diagnose(get)).toBe(false);
      const exit = await get.exited;
      expect(exit.code, diagnose(get)).toBe(0);
      const names = get.events.map((e) => e.event);
      const droppedSilent = get.events.findIndex(
        (e) => e.event === 'peer' && e.action === 'disconnect' && e.address === silent.address,
      );
      // Never dropped before the download was done.
      expect(droppedSilent === -1 || droppedSilent > names.indexOf('done'), diagnose(get)).toBe(
        true,
      );
      expect(get.events.find((e) => e.event === 'metadata')).toMatchObject({
        name: 'silent.bin',
        fetched: true,
      });
      expect(sha256(await readFile(join(dir, 'out', 'silent.bin')))).toBe(seeder.sha256);
    } finally {
      await silent.close();
      await gate.close();
    }
  }, 90_000);
});
