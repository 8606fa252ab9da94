/**
 * Streams under random links and writes: every byte arrives once, in order, both ways, and the
 * stream closes in order; a writer facing a reader that does not read is held back.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Simulation } from '../src/index';
import { linkOptionsArbitrary } from '../src/testing';

function pattern(length: number, salt: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (i * 31 + salt) & 0xff;
  return out;
}

describe('stream properties', () => {
  it('bytes arrive complete and in order both ways, whatever the link and chunking', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 2 ** 31 }),
        linkOptionsArbitrary(),
        fc.array(fc.integer({ min: 1, max: 40_000 }), { minLength: 1, maxLength: 20 }),
        fc.integer({ min: 1_024, max: 512 * 1024 }),
        async (seed, link, chunks, windowBytes) => {
          // Loss and duplication apply to datagrams only; streams must stay exact regardless.
          const sim = new Simulation({ seed, link, stream: { windowBytes } });
          const a = sim.addHost();
          const b = sim.addHost();
          const total = chunks.reduce((s, n) => s + n, 0);
          const result = await sim.run(async () => {
            const served = new Promise<Uint8Array[]>((resolve) => {
              void a.network.listen({ host: a.address, port: 1 }, async (stream) => {
                const got: Uint8Array[] = [];
                for await (const chunk of stream) {
                  got.push(chunk);
                  await stream.write(chunk); // echo
                }
                await stream.end();
                resolve(got);
              });
            });
            const client = await b.network.dial({ host: a.address, port: 1 });
            const echoed: Uint8Array[] = [];
            const reading = (async () => {
              for await (const chunk of client) echoed.push(chunk);
            })();
            const data = pattern(total, seed & 0xff);
            let offset = 0;
            for (const n of chunks) {
              await client.write(data.subarray(offset, offset + n));
              offset += n;
            }
            await client.end();
            await reading;
            return { data, got: await served, echoed, closed: await client.closed };
          });
          const join = (parts: Uint8Array[]) => {
            const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
            let o = 0;
            for (const p of parts) {
              out.set(p, o);
              o += p.length;
            }
            return out;
          };
          // (Buffer.compare: vitest's deep equality is slow on large byte arrays.)
          expect(Buffer.compare(join(result.got), result.data)).toBe(0);
          expect(Buffer.compare(join(result.echoed), result.data)).toBe(0);
          expect(result.closed).toBeUndefined();
          expect(sim.openResources().streams).toBe(0);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('a writer whose reader does not read stays within window + high-water mark', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1_024, max: 1024 * 1024 }),
        fc.integer({ min: 1_024, max: 256 * 1024 }),
        fc.integer({ min: 1_000, max: 70_000 }),
        async (windowBytes, highWaterMark, chunk) => {
          const sim = new Simulation({ seed: 1, stream: { windowBytes, highWaterMark } });
          const a = sim.addHost();
          const b = sim.addHost();
          const written = await sim.run(async () => {
            await a.network.listen({ host: a.address, port: 1 }, () => {
              // Accept and never read.
            });
            const client = await b.network.dial({ host: a.address, port: 1 });
            let written = 0;
            for (;;) {
              const write = client.write(new Uint8Array(chunk));
              written += chunk;
              const done = await Promise.race([
                write.then(() => true),
                new Promise<boolean>((r) => sim.clock.setTimeout(() => r(false), 1_000)),
              ]);
              if (!done) break;
            }
            client.destroy();
            return written;
          });
          expect(written).toBeLessThanOrEqual(windowBytes + highWaterMark + chunk);
          expect(written).toBeGreaterThan(Math.min(windowBytes, highWaterMark));
        },
      ),
      { numRuns: 100 },
    );
  });
});
