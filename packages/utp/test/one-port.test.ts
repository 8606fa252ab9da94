/**
 * One UDP port for the DHT and uTP, as libtorrent does: kademlia's DHT binds through the uTP
 * network's `bindDatagram` at the listen port, and both protocols work on that one socket.
 * Also: the `both` network (uTP first, TCP fallback) and which transport each stream used.
 */
import { DHT } from '@peerkit/kademlia';
import { nodeNetwork, type Stream } from '@peerkit/transport';
import { describe, expect, it } from 'vitest';
import { dualNetwork, transportOf, utpNetwork } from '../src/index';

async function echoOnce(stream: Stream): Promise<void> {
  try {
    for await (const chunk of stream) await stream.write(chunk);
    await stream.end();
  } catch {
    // The dialling side resets some streams on purpose.
  }
}

async function readAll(stream: Stream): Promise<string> {
  const parts: Uint8Array[] = [];
  for await (const chunk of stream) parts.push(chunk);
  return Buffer.concat(parts).toString();
}

describe('one UDP port for the DHT and uTP', () => {
  it('a DHT node and a uTP listener share the port; both answer on it', async () => {
    const a = utpNetwork(nodeNetwork());
    const b = utpNetwork(nodeNetwork());
    const listener = await a.listen({ host: '127.0.0.1' }, (s) => void echoOnce(s));
    const port = listener.localAddress.port;
    const dhtA = new DHT({ network: a });
    const dhtB = new DHT({ network: b });
    try {
      // The DHT binds at the listen port: the uTP network hands it the KRPC side of the socket.
      expect(await dhtA.listen({ host: '127.0.0.1', port })).toEqual(listener.localAddress);
      await dhtB.listen({ host: '127.0.0.1' });
      expect(a.openSockets).toBe(1);
      // KRPC to that port reaches the DHT...
      const reply = await dhtB.queryNode({ host: '127.0.0.1', port }, 'ping', {});
      expect(reply).toBeDefined();
      // ...and uTP to the same port reaches the listener.
      const client = await b.dial({ host: '127.0.0.1', port });
      const reading = readAll(client);
      await client.write(new TextEncoder().encode('over uTP, next to the DHT'));
      await client.end();
      expect(await reading).toBe('over uTP, next to the DHT');
      expect(transportOf(client)).toBe('utp');
      expect(client.transport).toBe('utp');
      expect(a.openSockets).toBe(1);
    } finally {
      await dhtA.close();
      await dhtB.close();
      await listener.close();
      await a.close();
      await b.close();
    }
  });

  it('the dual network dials uTP first and falls back to TCP', async () => {
    const tcp = nodeNetwork();
    const utp = utpNetwork(nodeNetwork());
    const both = dualNetwork(utp, tcp, { utpDialTimeoutMs: 1000 });
    const accepted: string[] = [];
    const listener = await both.listen({ host: '127.0.0.1' }, (s) => {
      accepted.push(transportOf(s));
      void echoOnce(s);
    });
    const tcpOnlyListener = await tcp.listen({ host: '127.0.0.1' }, (s) => void echoOnce(s));
    try {
      const overUtp = await both.dial(listener.localAddress);
      expect(transportOf(overUtp)).toBe('utp');
      overUtp.destroy();
      const plainTcp = await tcp.dial(listener.localAddress);
      expect(transportOf(plainTcp)).toBe('tcp');
      plainTcp.destroy();
      // A TCP-only peer: uTP gets no answer, TCP does.
      const fallback = await both.dial(tcpOnlyListener.localAddress);
      expect(transportOf(fallback)).toBe('tcp');
      fallback.destroy();
      await new Promise((r) => setTimeout(r, 50));
      expect(accepted.sort()).toEqual(['tcp', 'utp']);
    } finally {
      await listener.close();
      await tcpOnlyListener.close();
      await utp.close();
    }
  });

  it('the dual network dials TCP at once when the uTP port is closed (ICMP port unreachable)', async () => {
    const tcp = nodeNetwork();
    const utp = utpNetwork(nodeNetwork());
    // Neither the uTP timeout nor TCP's head start can end this dial within the test's time.
    const both = dualNetwork(utp, tcp, { utpDialTimeoutMs: 120_000, tcpHeadStartMs: 120_000 });
    const tcpOnly = await tcp.listen({ host: '127.0.0.1' }, (s) => void echoOnce(s));
    try {
      const stream = await both.dial(tcpOnly.localAddress);
      expect(transportOf(stream)).toBe('tcp');
      stream.destroy();
    } finally {
      await tcpOnly.close();
      await utp.close();
    }
  }, 20_000);

  it('the dual network races TCP beside a uTP dial that gets no answer', async () => {
    const tcp = nodeNetwork();
    const utp = utpNetwork(nodeNetwork());
    const both = dualNetwork(utp, tcp, { utpDialTimeoutMs: 120_000, tcpHeadStartMs: 100 });
    const tcpListener = await tcp.listen({ host: '127.0.0.1' }, (s) => void echoOnce(s));
    // A UDP socket on the same port number that never answers: no ST_STATE, no ICMP.
    const silent = await tcp.bindDatagram({
      host: '127.0.0.1',
      port: tcpListener.localAddress.port,
    });
    try {
      const stream = await both.dial(tcpListener.localAddress);
      expect(transportOf(stream)).toBe('tcp');
      stream.destroy();
    } finally {
      await silent.close();
      await tcpListener.close();
      await utp.close();
    }
  }, 20_000);
});
