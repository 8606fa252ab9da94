/**
 * `peerkit-share tracker`: the UDP and HTTP trackers answer announces from one swarm on one port
 * number; a port in use is one clear error.
 */
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { httpAnnounce, httpScrape, UdpTrackerClient } from '@peerkit/piece-exchange';
import { nodeNetwork } from '@peerkit/transport';
import { describe, expect, it } from 'vitest';
import { runTracker } from '../src/commands/tracker';

describe('peerkit-share tracker', () => {
  it('answers BEP 15 announces with the peers of the torrent', async () => {
    const server = await runTracker({ host: '127.0.0.1', port: 0, interval: 60 });
    const client = await UdpTrackerClient.open(nodeNetwork(), { host: '127.0.0.1' });
    try {
      const tracker = server.udp.address;
      const base = {
        infoHash: new Uint8Array(20).fill(3),
        uploaded: 0,
        downloaded: 0,
        left: 0,
        event: 'started' as const,
      };
      await client.announce(tracker, { ...base, peerId: new Uint8Array(20).fill(1), port: 5001 });
      const second = await client.announce(tracker, {
        ...base,
        peerId: new Uint8Array(20).fill(2),
        port: 5002,
      });
      expect(second.interval).toBe(60);
      expect(second.peers).toEqual([{ host: '127.0.0.1', port: 5001 }]);
    } finally {
      await client.close();
      await server.close();
    }
  });

  it('serves HTTP on the same port number, one swarm for both protocols (scrape too)', async () => {
    const server = await runTracker({ host: '127.0.0.1', port: 0, interval: 60 });
    const client = await UdpTrackerClient.open(nodeNetwork(), { host: '127.0.0.1' });
    try {
      const infoHash = new Uint8Array(20).fill(4);
      const base = { infoHash, uploaded: 0, downloaded: 0, event: 'started' as const };
      await client.announce(server.udp.address, {
        ...base,
        left: 0,
        peerId: new Uint8Array(20).fill(1),
        port: 5001,
      });
      expect(server.udp.address.port).toBe(server.http.address.port);
      const url = `http://127.0.0.1:${server.address.port}/announce`;
      const answer = await httpAnnounce(nodeNetwork(), url, {
        ...base,
        left: 10,
        peerId: new Uint8Array(20).fill(2),
        port: 5002,
      });
      expect(answer.interval).toBe(60);
      expect(answer.peers).toEqual([{ host: '127.0.0.1', port: 5001 }]);
      expect(await httpScrape(nodeNetwork(), url, [infoHash])).toEqual([
        { seeders: 1, leechers: 1, completed: 0 },
      ]);
    } finally {
      await client.close();
      await server.close();
    }
  });

  it('a TCP port in use fails with PORT_IN_USE', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    try {
      const port = (taken.address() as { port: number }).port;
      await expect(runTracker({ host: '127.0.0.1', port })).rejects.toMatchObject({
        code: 'PORT_IN_USE',
        message: `TCP port ${port} is already in use (choose another with --port)`,
      });
    } finally {
      taken.close();
    }
  });

  it('a UDP port in use fails with PORT_IN_USE', async () => {
    const taken = createSocket('udp4');
    await new Promise<void>((resolve) => taken.bind(0, '127.0.0.1', resolve));
    try {
      await expect(
        runTracker({ host: '127.0.0.1', port: taken.address().port }),
      ).rejects.toMatchObject({ code: 'PORT_IN_USE' });
    } finally {
      taken.close();
    }
  });
});
