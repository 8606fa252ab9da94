/**
 * The secure stream in situations the compliance suite does not cover: a forged identity
 * signature, prologue mismatch, truncation, nonce exhaustion, backpressure, batching of small
 * writes, the Stream contract (end, destroy, one reader, closed), and real loopback TCP.
 */
import { nodeNetwork, type Stream, TransportError } from '@peerkit/transport';
import { describe, expect, it } from 'vitest';
import { CipherState } from '../src/cipher-state';
import { FrameReader } from '../src/frame-reader';
import {
  encodeIdentityPayload,
  generateIdentity,
  generateKeyPair,
  HandshakeState,
  isNoiseError,
  MAX_NONCE,
  MAX_PLAINTEXT,
  NoiseError,
  type SecureStream,
  secureInbound,
  secureOutbound,
} from '../src/index';
import {
  frameInterceptor,
  ManualClock,
  type MemoryStreamPairOptions,
  memoryStreamPair,
  patternBytes,
} from '../src/testing';

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

async function readAll(s: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const c of s) parts.push(c);
  return new Uint8Array(Buffer.concat(parts));
}

async function securePair(options: MemoryStreamPairOptions = {}) {
  const clock = new ManualClock();
  const [ra, rb] = memoryStreamPair(options);
  const [a, b] = await Promise.all([
    secureOutbound(ra, { identity: generateIdentity(), clock }),
    secureInbound(rb, { identity: generateIdentity(), clock }),
  ]);
  return { a, b, ra, rb, clock };
}

async function frame(stream: Stream): Promise<Uint8Array> {
  const reader = new FrameReader(stream[Symbol.asyncIterator]());
  const f = await reader.readFrame();
  if (f === undefined) throw new Error('no frame');
  return f;
}

describe('secure stream', () => {
  it('a responder whose signature covers another static key is refused with BAD_SIGNATURE', async () => {
    const clock = new ManualClock();
    const [ra, rb] = memoryStreamPair();
    const dialing = secureOutbound(ra, { identity: generateIdentity(), clock });
    // The attacker: a Noise responder with static key s, but an identity payload signed for s'.
    const hs = new HandshakeState({ pattern: 'XX', initiator: false, s: generateKeyPair() });
    const reader = new FrameReader(rb[Symbol.asyncIterator]());
    hs.readMessage((await reader.readFrame()) as Uint8Array);
    const forged = encodeIdentityPayload(generateIdentity(), generateKeyPair().publicKey);
    const msg2 = hs.writeMessage(forged);
    const framed = new Uint8Array(2 + msg2.length);
    framed[0] = msg2.length >> 8;
    framed[1] = msg2.length & 0xff;
    framed.set(msg2, 2);
    await rb.write(framed);
    await expect(dialing).rejects.toMatchObject({ code: 'BAD_SIGNATURE' });
    expect(await rb.closed).toBeInstanceOf(TransportError); // the dialer hung up
    expect(clock.pending).toBe(0);
  });

  it('different prologues fail the handshake with DECRYPT_FAILED', async () => {
    const clock = new ManualClock();
    const [ra, rb] = memoryStreamPair();
    const results = await Promise.allSettled([
      secureOutbound(ra, { identity: generateIdentity(), clock, prologue: Uint8Array.of(1) }),
      secureInbound(rb, { identity: generateIdentity(), clock, prologue: Uint8Array.of(2) }),
    ]);
    expect(results[0]).toMatchObject({ status: 'rejected', reason: { code: 'DECRYPT_FAILED' } });
    expect(results[1]).toMatchObject({ status: 'rejected', reason: { code: 'CLOSED' } });
  });

  it('identities, handshake hash and addresses are exposed; the handshake timer is cancelled', async () => {
    const clock = new ManualClock();
    const [ra, rb] = memoryStreamPair();
    const ia = generateIdentity();
    const ib = generateIdentity();
    const [a, b] = await Promise.all([
      secureOutbound(ra, { identity: ia, clock, expectedRemoteIdentity: ib.publicKey }),
      secureInbound(rb, { identity: ib, clock, expectedRemoteIdentity: ia.publicKey }),
    ]);
    expect(a.remoteIdentity).toEqual(ib.publicKey);
    expect(b.remoteIdentity).toEqual(ia.publicKey);
    expect(a.handshakeHash).toEqual(b.handshakeHash);
    expect(a.localAddress).toEqual(ra.localAddress);
    expect(a.remoteAddress).toEqual(ra.remoteAddress);
    expect(clock.pending).toBe(0);
    await Promise.all([a.end(), b.end()]);
    expect(await readAll(a)).toEqual(new Uint8Array(0));
    expect(await readAll(b)).toEqual(new Uint8Array(0));
    expect(await a.closed).toBeUndefined();
  });

  it('an end without the authenticated end marker is TRUNCATED, reported through closed', async () => {
    const { a, b, ra } = await securePair();
    await a.write(Uint8Array.of(1, 2, 3));
    await ra.end(); // an attacker closing the TCP connection
    const chunks: Uint8Array[] = [];
    let error: unknown;
    try {
      for await (const c of b) chunks.push(c);
    } catch (e) {
      error = e;
    }
    expect(Buffer.concat(chunks)).toEqual(Buffer.from([1, 2, 3]));
    expect(isNoiseError(error, 'TRUNCATED')).toBe(true);
    const closed = await b.closed;
    expect(closed).toBeInstanceOf(TransportError);
    expect(closed?.code).toBe('IO');
    expect(closed?.cause).toBe(error);
    expect(b.failure).toBe(error);
    await expect(b.write(Uint8Array.of(1))).rejects.toBe(error);
  });

  it('refuses to send past nonce 2^64-2: NONCE_EXHAUSTED destroys the stream', async () => {
    const [ra, rb] = memoryStreamPair();
    const key = new Uint8Array(32).fill(3);
    const send = new CipherState();
    send.initializeKey(key);
    send.setNonce(MAX_NONCE - 1n);
    const { SecureStream } = await import('../src/secure-stream');
    const s: SecureStream = new SecureStream({
      stream: ra,
      reader: new FrameReader(ra[Symbol.asyncIterator]()),
      send,
      receive: new CipherState(),
      remoteIdentity: new Uint8Array(32),
      handshakeHash: new Uint8Array(32),
    });
    await s.write(new Uint8Array(5000)); // uses nonce 2^64-2
    const receive = new CipherState();
    receive.initializeKey(key);
    receive.setNonce(MAX_NONCE - 1n);
    expect(receive.decryptWithAd(new Uint8Array(0), await frame(rb)).length).toBe(5000);
    await expect(s.write(new Uint8Array(5000))).rejects.toMatchObject({ code: 'NONCE_EXHAUSTED' });
    await expect(s.end()).rejects.toMatchObject({ code: 'NONCE_EXHAUSTED' });
    expect(await ra.closed).toBeInstanceOf(TransportError);
  });

  it('handshake messages have the documented sizes: 32, 193 and 161 bytes', async () => {
    const sizes: number[] = [];
    const record = () =>
      frameInterceptor((f) => {
        sizes.push(f.length - 2);
        return [f];
      });
    const clock = new ManualClock();
    const [ra, rb] = memoryStreamPair({ aToB: record(), bToA: record() });
    await Promise.all([
      secureOutbound(ra, { identity: generateIdentity(), clock }),
      secureInbound(rb, { identity: generateIdentity(), clock }),
    ]);
    expect(sizes).toEqual([32, 193, 161]);
  });

  it('keeps backpressure: a write waits while the reader does not read', async () => {
    const { a, b } = await securePair({ highWaterMark: 1024 });
    let done = false;
    // 3 MB: more than the reader's read-ahead (256 KiB, or one transport chunk) plus buffers.
    const big = patternBytes(3_000_000, 1);
    const writing = a.write(big).then(() => {
      done = true;
    });
    for (let i = 0; i < 5; i++) await turn();
    expect(done).toBe(false);
    const reading = readAll(b);
    await writing;
    expect(done).toBe(true);
    await a.end();
    expect(Buffer.compare(await reading, big)).toBe(0);
  });

  it('a write waits for the previous batch only: the writer runs ahead by one batch, no more', async () => {
    const [ra] = memoryStreamPair();
    // A transport whose writes complete only when the test says so.
    const taken: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
    const gated: Stream = {
      localAddress: ra.localAddress,
      remoteAddress: ra.remoteAddress,
      closed: ra.closed,
      write: () => new Promise<void>((resolve, reject) => taken.push({ resolve, reject })),
      end: () => ra.end(),
      destroy: (error) => ra.destroy(error),
      [Symbol.asyncIterator]: () => ra[Symbol.asyncIterator](),
    };
    const cipher = () => {
      const c = new CipherState();
      c.initializeKey(new Uint8Array(32).fill(5));
      return c;
    };
    const { SecureStream } = await import('../src/secure-stream');
    const s = new SecureStream({
      stream: gated,
      reader: new FrameReader(ra[Symbol.asyncIterator]()),
      send: cipher(),
      receive: cipher(),
      remoteIdentity: new Uint8Array(32),
      handshakeHash: new Uint8Array(32),
    });
    const batch = patternBytes(MAX_PLAINTEXT, 3); // one message, one transport write
    const settled: number[] = [];
    const first = s.write(batch).then(() => settled.push(1));
    const second = s.write(batch).then(() => settled.push(2));
    const third = s.write(batch);
    third.catch(() => {});
    for (let i = 0; i < 3; i++) await turn();
    expect(taken).toHaveLength(3);
    // Nothing was pending before the first batch; the second waits for the first, untaken.
    expect(settled).toEqual([1]);
    taken[0]?.resolve();
    await second;
    expect(settled).toEqual([1, 2]);
    // The newest transport write fails: the write waiting on its predecessor fails with it.
    const error = new Error('broken pipe');
    taken[2]?.reject(error);
    taken[1]?.resolve();
    await expect(third).rejects.toBe(error);
    await first;
    s.destroy();
  });

  it('merges small writes of one microtask into one Noise message and cuts big ones at 65,519', async () => {
    const sizes: number[] = [];
    const { a, b } = await securePair({
      aToB: frameInterceptor((f) => {
        sizes.push(f.length - 2);
        return [f];
      }),
    });
    sizes.length = 0; // forget the handshake messages
    const reading = readAll(b);
    const writes = Array.from({ length: 100 }, (_, i) => Uint8Array.of(i, i, i));
    await Promise.all(writes.map((w) => a.write(w)));
    expect(sizes).toEqual([300 + 16]);
    await a.write(patternBytes(MAX_PLAINTEXT * 2 + 1, 2));
    expect(sizes.slice(1)).toEqual([65535, 65535, 17]);
    await a.end();
    const received = await reading;
    expect(received.length).toBe(300 + MAX_PLAINTEXT * 2 + 1);
    expect(received.subarray(0, 300)).toEqual(new Uint8Array(Buffer.concat(writes)));
  });

  it('follows the Stream contract: one reader, no write after end, destroy ends reads', async () => {
    const { a, b } = await securePair();
    const it1 = b[Symbol.asyncIterator]();
    expect(() => b[Symbol.asyncIterator]()).toThrow(NoiseError);
    await a.end();
    await expect(a.write(Uint8Array.of(1))).rejects.toMatchObject({ code: 'CLOSED' });
    expect(await it1.next()).toMatchObject({ done: true });

    const p2 = await securePair();
    const reading = readAll(p2.b);
    p2.b.destroy();
    expect(await reading).toEqual(new Uint8Array(0));
    await expect(p2.b.write(Uint8Array.of(1))).rejects.toBeInstanceOf(TransportError);

    const p3 = await securePair();
    const boom = new Error('boom');
    const reading3 = readAll(p3.b);
    p3.b.destroy(boom);
    await expect(reading3).rejects.toBe(boom);
  });

  it('works over real loopback TCP (nodeNetwork) and leaves nothing open', async () => {
    const network = nodeNetwork();
    const server = generateIdentity();
    const client = generateIdentity();
    const accepted: Promise<SecureStream>[] = [];
    const listener = await network.listen({ host: '127.0.0.1' }, (stream) => {
      accepted.push(
        secureInbound(stream, { identity: server, clock: network.clock, timeoutMs: 5000 }),
      );
    });
    const raw = await network.dial(listener.localAddress, { timeoutMs: 5000 });
    const dialer = await secureOutbound(raw, {
      identity: client,
      clock: network.clock,
      timeoutMs: 5000,
      expectedRemoteIdentity: server.publicKey,
    });
    const inbound = await (accepted[0] as Promise<SecureStream>);
    expect(inbound.remoteIdentity).toEqual(client.publicKey);
    const data = patternBytes(1_000_000, 9);
    const echo = (async () => {
      for await (const chunk of inbound) await inbound.write(chunk);
      await inbound.end();
    })();
    const reading = readAll(dialer);
    await dialer.write(data);
    await dialer.end();
    expect(Buffer.compare(await reading, data)).toBe(0);
    await echo;
    expect(await dialer.closed).toBeUndefined();
    expect(await inbound.closed).toBeUndefined();
    await listener.close();
  });
});
