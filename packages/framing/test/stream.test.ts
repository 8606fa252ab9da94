import { isTransportError, type Stream } from '@peerkit/transport';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  defineCodec,
  encodeFrame,
  FrameWriter,
  FramingError,
  readFrames,
  writeFrame,
} from '../src/index';
import { cutBytes, memoryStreamPair } from '../src/testing';
import { Gossip } from './schemas';

/** Lets every pending promise callback run (no timers, no wall clock). */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
  await new Promise((resolve) => setImmediate(resolve));
}

async function collect(
  stream: Stream,
  options?: Parameters<typeof readFrames>[1],
): Promise<number[][]> {
  const frames: number[][] = [];
  for await (const frame of readFrames(stream, options)) frames.push([...frame]);
  return frames;
}

describe('readFrames and FrameWriter over a transport Stream', () => {
  it('carries frames of every prefix kind through arbitrary chunking', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('uint32be' as const, 'uint16be' as const, 'varint' as const),
        fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 30 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        async (prefix, payloads, cuts) => {
          const { a, b } = memoryStreamPair({
            highWaterMark: 256,
            split: (data) => cutBytes(data, cuts),
          });
          const writer = new FrameWriter(a, { prefix });
          const received = collect(b, { prefix });
          for (const p of payloads) await writer.write(p);
          await writer.end();
          expect(await received).toEqual(payloads.map((p) => [...p]));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('writes prefix and payload as one write', async () => {
    const writes: Uint8Array[] = [];
    const { a } = memoryStreamPair();
    const spy: Stream = Object.create(a, {
      write: {
        value: (data: Uint8Array) => {
          writes.push(data);
          return a.write(data);
        },
      },
    });
    await writeFrame(spy, Uint8Array.of(1, 2, 3), { prefix: 'uint16be' });
    await new FrameWriter(spy, { prefix: 'varint' }).write(Uint8Array.of(4));
    expect(writes.map((w) => [...w])).toEqual([
      [0, 3, 1, 2, 3],
      [1, 4],
    ]);
  });

  it('honours backpressure: a writer that awaits write() stalls while the reader does not read', async () => {
    const { a, b } = memoryStreamPair({ highWaterMark: 4096 });
    const writer = new FrameWriter(a);
    const payload = new Uint8Array(1000);
    let written = 0;
    const writing = (async () => {
      for (let i = 0; i < 100; i++) {
        await writer.write(payload);
        written++;
      }
      await writer.end();
    })();
    await settle();
    // 4 frames of 1004 bytes fit under 4096; the 5th write waits for the reader.
    expect(written).toBe(4);
    expect(b.unreadBytes).toBe(5 * 1004);
    await settle();
    expect(written).toBe(4);

    let read = 0;
    for await (const frame of readFrames(b)) {
      expect(frame.length).toBe(1000);
      // The writer never gets more than the high-water mark (plus one frame) ahead.
      expect(b.unreadBytes).toBeLessThanOrEqual(4096 + 1004);
      read++;
    }
    await writing;
    expect(read).toBe(100);
    expect(written).toBe(100);
  });

  it('throws TRUNCATED when the stream ends inside a frame, and destroys the stream', async () => {
    const { a, b } = memoryStreamPair();
    await a.write(encodeFrame(Uint8Array.of(1)));
    await a.write(encodeFrame(Uint8Array.of(2, 3)).subarray(0, 5));
    await a.end();
    const frames: number[][] = [];
    const error = await (async () => {
      try {
        for await (const f of readFrames(b)) frames.push([...f]);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(frames).toEqual([[1]]);
    expect(error).toBeInstanceOf(FramingError);
    expect((error as FramingError).code).toBe('TRUNCATED');
    // The peer sees the connection reset; both sides are closed.
    expect(await a.closed).toSatisfy((e: unknown) => isTransportError(e, 'CONNECTION_RESET'));
    expect(await b.closed).toBeUndefined();
  });

  it('rejects an oversized frame from its prefix alone, without waiting for the body', async () => {
    const { a, b } = memoryStreamPair();
    await a.write(Uint8Array.of(0, 0x10, 0, 1)); // announces 1 MiB + 1, sends nothing more
    await expect(collect(b)).rejects.toMatchObject({
      name: 'FramingError',
      code: 'FRAME_TOO_LARGE',
    });
    await a.closed;
  });

  it('leaves the stream open on error when destroyOnError is false', async () => {
    const { a, b } = memoryStreamPair();
    await a.write(Uint8Array.of(0x80, 0x00));
    await expect(collect(b, { prefix: 'varint', destroyOnError: false })).rejects.toMatchObject({
      code: 'BAD_VARINT',
    });
    await b.write(Uint8Array.of(1));
    b.destroy();
  });

  it('surfaces the transport error when the peer resets, and write errors from the stream', async () => {
    const { a, b } = memoryStreamPair();
    const reading = collect(b);
    a.destroy();
    await expect(reading).rejects.toSatisfy((e: unknown) =>
      isTransportError(e, 'CONNECTION_RESET'),
    );
    await expect(new FrameWriter(a).write(Uint8Array.of(1))).rejects.toSatisfy((e: unknown) =>
      isTransportError(e, 'CLOSED'),
    );
    await expect(
      new FrameWriter(b, { maxFrameSize: 1 }).write(new Uint8Array(2)),
    ).rejects.toMatchObject({
      code: 'FRAME_TOO_LARGE',
    });
  });

  it('carries codec messages end to end (framing + msgpack + validation)', async () => {
    const gossip = defineCodec(Gossip);
    const { a, b } = memoryStreamPair({ highWaterMark: 64, split: (d) => cutBytes(d, [3, 7, 50]) });
    const writer = new FrameWriter(a, { prefix: 'varint' });
    const sent = [
      { type: 'subscribe' as const, topics: ['news', 'chat'] },
      {
        type: 'publish' as const,
        topic: 'news',
        seqno: 1,
        from: new Uint8Array(32),
        data: Uint8Array.of(1, 2),
      },
      { type: 'prune' as const, topic: 'chat' },
    ];
    const received = (async () => {
      const out: unknown[] = [];
      for await (const frame of readFrames(b, { prefix: 'varint' })) out.push(gossip.decode(frame));
      return out;
    })();
    for (const m of sent) await writer.write(gossip.encode(m));
    await writer.end();
    const got = await received;
    expect(got).toHaveLength(3);
    expect(got[0]).toEqual(sent[0]);
    expect(got[2]).toEqual(sent[2]);
    expect([...(got[1] as { data: Uint8Array }).data]).toEqual([1, 2]);
  });
});
