import { nodeNetwork, type Stream } from '@peerkit/transport';
import { describe, expect, it } from 'vitest';
import { defineCodec, FrameWriter, readFrames } from '../src/index';
import { Gossip } from './schemas';

describe('framing over real TCP on loopback (@peerkit/transport nodeNetwork)', () => {
  it('carries 2,000 codec messages through a small socket buffer, with backpressure, and closes cleanly', async () => {
    const network = nodeNetwork({ highWaterMark: 4096 });
    const gossip = defineCodec(Gossip);
    let accepted: (stream: Stream) => void = () => {};
    const incoming = new Promise<Stream>((resolve) => {
      accepted = resolve;
    });
    const listener = await network.listen({ host: '127.0.0.1', port: 0 }, (s) => accepted(s));
    const client = await network.dial(listener.localAddress, { timeoutMs: 5000 });
    const server = await incoming;
    try {
      const count = 2000;
      const receiving = (async () => {
        let n = 0;
        let bytes = 0;
        for await (const frame of readFrames(server, { prefix: 'varint' })) {
          const m = gossip.decode(frame);
          if (m.type !== 'publish' || m.seqno !== n) throw new Error(`message ${n} out of order`);
          bytes += m.data.length;
          n++;
        }
        return { n, bytes };
      })();
      const writer = new FrameWriter(client, { prefix: 'varint' });
      let sentBytes = 0;
      for (let i = 0; i < count; i++) {
        const data = new Uint8Array(i % 997).fill(i & 0xff);
        sentBytes += data.length;
        await writer.write(
          gossip.encode({ type: 'publish', topic: 't', seqno: i, from: new Uint8Array(32), data }),
        );
      }
      await writer.end();
      expect(await receiving).toEqual({ n: count, bytes: sentBytes });
    } finally {
      client.destroy();
      server.destroy();
      await listener.close();
    }
    await client.closed;
    await server.closed;
  });
});
