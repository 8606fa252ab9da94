/** `peerkit-share tracker`: the UDP tracker answers announces; a port in use is one clear error. */
import { createSocket } from 'node:dgram';
import { UdpTrackerClient } from '@peerkit/piece-exchange';
import { nodeNetwork } from '@peerkit/transport';
import { describe, expect, it } from 'vitest';
import { runTracker } from '../src/commands/tracker';

describe('peerkit-share tracker', () => {
  it('answers BEP 15 announces with the peers of the torrent', async () => {
    const server = await runTracker({ host: '127.0.0.1', port: 0, interval: 60 });
    const client = await UdpTrackerClient.open(nodeNetwork(), { host: '127.0.0.1' });
    try {
      const tracker = server.address;
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
