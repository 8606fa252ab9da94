/**
 * Teardown without data loss (issue #19): uTP keeps what is not yet acknowledged in this process
 * (TCP keeps it in the kernel), so closing right after a write must still deliver every byte.
 * `end()` resolves once the peer acknowledged our ST_FIN; the network's `close()` ends every open
 * stream and waits (bounded) for that before it releases the UDP socket. On real UDP and in
 * netsim with loss (printed seed; replay with `NETSIM_SEED=<seed>`).
 */
import { createHash } from 'node:crypto';
import { replayHint, Simulation, seedFromEnv } from '@peerkit/netsim';
import { type Network, nodeNetwork, type Stream } from '@peerkit/transport';
import { describe, expect, it } from 'vitest';
import { type UtpNetwork, utpNetwork } from '../src/index';

const seed = seedFromEnv();
console.log(`uTP teardown: seed ${seed} (replay: ${replayHint(seed)})`);

const SIZE = 3 * 1024 * 1024 + 4321;

function payload(): Uint8Array {
  const data = new Uint8Array(SIZE);
  for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24;
  return data;
}

const sha1 = (data: Uint8Array): string => createHash('sha1').update(data).digest('hex');

/** Reads a stream to its end: the byte count and digest, or the error that broke it. */
async function readAll(
  stream: Stream,
): Promise<{ bytes: number; digest: string; error?: unknown }> {
  const hash = createHash('sha1');
  let bytes = 0;
  try {
    for await (const chunk of stream) {
      hash.update(chunk);
      bytes += chunk.length;
    }
    return { bytes, digest: hash.digest('hex') };
  } catch (error) {
    return { bytes, digest: hash.digest('hex'), error };
  }
}

type Teardown = 'network close' | 'end, then network close at once';

/**
 * `sender` dials `receiver`, writes `data` (without waiting for the writes beyond backpressure)
 * and tears down as `how` says; resolves with what the receiver read.
 */
async function writeThenClose(
  sender: UtpNetwork,
  receiver: Network,
  host: string,
  data: Uint8Array,
  how: Teardown,
): Promise<{ bytes: number; digest: string; error?: unknown }> {
  let reading: Promise<{ bytes: number; digest: string; error?: unknown }> | undefined;
  let accepted!: () => void;
  const ready = new Promise<void>((resolve) => {
    accepted = resolve;
  });
  const listener = await receiver.listen({ host }, (stream) => {
    reading = readAll(stream);
    accepted();
  });
  const client = await sender.dial(listener.localAddress);
  await ready;
  // The last write leaves (nearly) a whole send buffer queued in this process.
  for (let off = 0; off < data.length; off += 64 * 1024) {
    void client.write(data.subarray(off, Math.min(data.length, off + 64 * 1024)));
  }
  if (how === 'end, then network close at once') void client.end();
  await sender.close();
  const result = await (reading as Promise<{ bytes: number; digest: string; error?: unknown }>);
  await listener.close();
  return result;
}

describe('write, then close: every byte arrives', () => {
  for (const how of ['network close', 'end, then network close at once'] as const) {
    it(`real UDP on loopback (${how})`, async () => {
      const base = nodeNetwork();
      const sender = utpNetwork(base);
      const receiver = utpNetwork(base);
      const data = payload();
      try {
        const got = await writeThenClose(sender, receiver, '127.0.0.1', data, how);
        expect(got.error).toBeUndefined();
        expect(got.bytes).toBe(data.length);
        expect(got.digest).toBe(sha1(data));
      } finally {
        await sender.close();
        await receiver.close();
      }
      expect(sender.openSockets).toBe(0);
    }, 60_000);

    it(`netsim, 5% loss, reordering, duplication (${how})`, async () => {
      const sim = new Simulation({
        seed,
        link: { latency: 25, jitter: 10, loss: 0.05, reorder: 0.05, duplicate: 0.05 },
      });
      const ha = sim.addHost();
      const hb = sim.addHost();
      // A drain bound long enough for a lossy path (virtual time).
      const sender = utpNetwork(ha.network, { closeDrainMs: 10 * 60_000 });
      const receiver = utpNetwork(hb.network);
      const data = payload().subarray(0, 1024 * 1024 + 777);
      const got = await sim.run(() => writeThenClose(sender, receiver, hb.address, data, how), {
        maxTimeMs: 30 * 60_000,
      });
      expect(got.error, `seed ${seed}`).toBeUndefined();
      expect(got.bytes, `seed ${seed}`).toBe(data.length);
      expect(got.digest, `seed ${seed}`).toBe(sha1(data));
      await sim.run(() => receiver.close());
      await sim.stop();
      expect(sim.openResources()).toEqual({
        datagramSockets: 0,
        listeners: 0,
        streams: 0,
        timers: 0,
      });
    }, 120_000);
  }
});
