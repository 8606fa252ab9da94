/**
 * Attack: a crowd of connections that never finish the handshake (silent ones, and slowloris
 * ones that trickle a valid handshake one byte at a time) must not keep an honest peer out.
 * Real sockets on loopback: 500 attacker connections are held open against a seeder (each one
 * the seeder drops is opened again) while an honest leecher downloads 32 MiB from it.
 *
 * What answers it (docs/security.md): connections still in their handshake are limited apart
 * (`maxHalfOpen`), the oldest is evicted for a newcomer, and `handshakeTimeoutMs` ends the rest.
 */
import { connect, type Socket } from 'node:net';
import { nodeNetwork } from '@peerkit/transport';
import { describe, expect, it } from 'vitest';
import type { PeerError } from '../src/session/peer-error';
import { memoryFileSystem } from '../src/storage/file-system';
import { Torrent } from '../src/torrent';
import { PROTOCOL_HEADER } from '../src/wire/handshake';
import { makeTorrent, openSeeder } from './fixtures';

const ATTACKERS = 500;
/** Upper bound on attacker connections over the whole test (bounded loop). */
const MAX_ATTACK_CONNECTIONS = 20_000;

describe('attack: silent and slowloris handshakes', () => {
  it('500 half-open connections never keep an honest peer from a 32 MiB download', async () => {
    const fixture = makeTorrent('attack.bin', [32 * 1024 * 1024], 256 * 1024, 41);
    const seeder = await openSeeder(fixture, { resume: false, assumeComplete: true });
    const port = seeder.listenAddress!.port;
    const evicted: string[] = [];
    seeder.on('peer', (e) => {
      if (e.type === 'rejected' && (e.error as PeerError | undefined)?.code === 'PEER_EVICTED')
        evicted.push(e.reason);
    });
    const sockets = new Set<Socket>();
    let attacking = true;
    let opened = 0;
    const timers = new Set<NodeJS.Timeout>();
    const later = (fn: () => void, ms: number) => {
      const t = setTimeout(() => {
        timers.delete(t);
        fn();
      }, ms);
      timers.add(t);
    };
    /** One attacker connection: silent, or slowloris (one handshake byte every 200 ms). */
    const attack = (slowloris: boolean): Promise<void> =>
      new Promise((resolve) => {
        if (!attacking || opened >= MAX_ATTACK_CONNECTIONS) return resolve();
        opened++;
        const socket = connect({ host: '127.0.0.1', port });
        sockets.add(socket);
        let sent = 0;
        const trickle = () => {
          if (socket.destroyed || sent >= PROTOCOL_HEADER.length) return;
          socket.write(PROTOCOL_HEADER.subarray(sent, sent + 1));
          sent++;
          later(trickle, 200);
        };
        socket.once('connect', () => {
          if (slowloris) trickle();
          resolve();
        });
        socket.on('error', () => undefined);
        socket.once('close', () => {
          sockets.delete(socket);
          resolve();
          // Dropped by the seeder: come back, keeping the crowd at its size.
          if (attacking) later(() => void attack(slowloris), 50);
        });
      });
    const leecherFs = memoryFileSystem();
    let leecher: Torrent | undefined;
    try {
      await Promise.all(Array.from({ length: ATTACKERS }, (_, i) => attack(i % 2 === 1)));
      leecher = await Torrent.open({
        network: nodeNetwork(),
        directory: '/leech',
        info: fixture.info,
        fs: leecherFs,
        resume: false,
        peers: [seeder.listenAddress!],
      });
      await leecher.whenDone();
      const stats = leecher.stats();
      expect(stats.verifiedPieces).toBe(stats.pieceCount);
      expect(stats.downloaded).toBe(fixture.data.length);
      // The crowd was there and was turned away by eviction, not by luck.
      expect(opened).toBeGreaterThanOrEqual(ATTACKERS);
      expect(evicted.length).toBeGreaterThan(0);
      expect(seeder.stats().peers.length).toBeLessThanOrEqual(2);
    } finally {
      attacking = false;
      for (const t of timers) clearTimeout(t);
      for (const s of sockets) s.destroy();
      await leecher?.close();
      await seeder.close();
    }
  }, 120_000);
});
