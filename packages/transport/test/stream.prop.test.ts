/**
 * Property over real loopback streams: whatever the write sizes (empty writes included) and
 * the high-water mark, the reader sees exactly the concatenation of the writes, then EOF.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeNetwork, type Stream, type StreamListener } from '../src/index';
import { concat, readAll } from '../src/testing/helpers';
import { expectNoLeftovers, type HandleCounts, openHandles } from './handles';

let baseline: HandleCounts;
let listener: StreamListener;
let reads: ((stream: Stream) => void) | undefined;

beforeAll(async () => {
  baseline = openHandles();
  listener = await nodeNetwork().listen({ host: '127.0.0.1' }, (stream) => reads?.(stream));
});

afterAll(async () => {
  await listener.close();
  await expectNoLeftovers(baseline);
});

describe('Stream over node:net', () => {
  it('delivers the concatenation of any writes, in order, then EOF', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uint8Array({ maxLength: 70_000 }), { maxLength: 12 }),
        fc.integer({ min: 1, max: 128 * 1024 }),
        async (writes, highWaterMark) => {
          const received = new Promise<Uint8Array>((resolve, reject) => {
            reads = (stream) => {
              readAll(stream)
                .then(async (bytes) => {
                  await stream.end();
                  resolve(bytes);
                })
                .catch(reject);
            };
          });
          const client = await nodeNetwork({ highWaterMark }).dial(listener.localAddress);
          for (const w of writes) await client.write(w);
          await client.end();
          expect(await received).toEqual(concat(writes));
          expect(await client.closed).toBeUndefined();
        },
      ),
      { numRuns: 150 },
    );
  });
});
