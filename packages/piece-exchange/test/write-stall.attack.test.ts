/**
 * Attack: a peer that asks for blocks and never reads them. Real sockets on loopback: the
 * attacker completes the handshake, says it is interested, keeps sending requests and never reads
 * its socket, so the seeder's writes stop finishing once the socket buffers are full. The write
 * stall timeout (`limits.writeStallTimeoutMs`, 60 s by default, shortened here) disconnects it
 * (docs/security.md); the idle timeout never would, since the attacker keeps talking.
 */
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { PeerError } from '../src/session/peer-error';
import { encodeHandshake } from '../src/wire/handshake';
import { BLOCK_LENGTH, encodeRequest, INTERESTED } from '../src/wire/messages';
import { makeTorrent, openSeeder } from './fixtures';

describe('attack: a peer that never reads', () => {
  it('is disconnected by the write stall timeout while it keeps requesting', async () => {
    const pieceLength = 256 * 1024;
    const fixture = makeTorrent('stall.bin', [16 * 1024 * 1024], pieceLength, 43);
    const seeder = await openSeeder(fixture, {
      resume: false,
      assumeComplete: true,
      tickMs: 100,
      limits: { writeStallTimeoutMs: 1000 },
    });
    const closed = new Promise<Error | undefined>((resolve) => {
      seeder.on('peer', (e) => {
        if (e.type === 'disconnect') resolve(e.error);
      });
    });
    const socket = connect({ host: '127.0.0.1', port: seeder.listenAddress!.port });
    socket.on('error', () => undefined);
    let timer: NodeJS.Timeout | undefined;
    try {
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
      socket.pause(); // never read
      socket.write(
        encodeHandshake({ infoHash: fixture.info.infoHash, peerId: new Uint8Array(20).fill(9) }),
      );
      socket.write(INTERESTED);
      // Keep asking for blocks (every block of the torrent, round and round), bounded in time.
      const blocks = fixture.data.length / BLOCK_LENGTH;
      const perPiece = pieceLength / BLOCK_LENGTH;
      let next = 0;
      let rounds = 0;
      timer = setInterval(() => {
        if (socket.destroyed || ++rounds > 600) return;
        const batch = Buffer.alloc(17 * 100);
        for (let i = 0; i < 100; i++, next = (next + 1) % blocks) {
          const piece = Math.floor(next / perPiece);
          const begin = (next % perPiece) * BLOCK_LENGTH;
          batch.set(encodeRequest(piece, begin, BLOCK_LENGTH), i * 17);
        }
        socket.write(batch);
      }, 50);
      const error = (await closed) as PeerError | undefined;
      expect(error?.code).toBe('PEER_TIMEOUT');
      expect(error?.message).toBe('peer stopped reading');
      expect(seeder.stats().uploaded).toBeLessThan(fixture.data.length);
    } finally {
      clearInterval(timer);
      socket.destroy();
      await seeder.close();
    }
  }, 60_000);
});
