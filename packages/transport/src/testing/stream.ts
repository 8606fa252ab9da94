/** Compliance tests of `Network.listen`, `Network.dial` and `Stream`. */
import { expect, it as vitestIt } from 'vitest';
import type { Stream } from '../interfaces';
import { describeError, failureOf, hasCode, type ResolvedOptions, type TestEnv } from './env';
import {
  bytesOf,
  ExactReader,
  PatternReader,
  patternSlice,
  readAll,
  readPattern,
  readUntilFailure,
  settlesWithin,
  within,
  writePattern,
} from './helpers';

const KiB = 1024;
const CHUNK = 64 * KiB;

/**
 * Writes pattern chunks from stream position `from` (nobody reading on the other side) until one
 * write stays pending for 1.5 s of clock time; a write that waits only for the link to carry the
 * bytes settles before that and the loop goes on. Gives up after `maxBufferedBytes` plus one
 * chunk. `written` is the stream position reached.
 */
async function writeUntilStalled(
  env: TestEnv,
  stream: Stream,
  from = 0,
): Promise<{ written: number; stalled: Promise<void> | undefined }> {
  const { clock } = env.b;
  let written = from;
  while (written - from <= env.options.maxBufferedBytes + CHUNK) {
    const write = stream.write(patternSlice(written, CHUNK));
    written += CHUNK;
    if (await settlesWithin(clock, write, 500)) continue;
    // Pending for a while: still pending after a longer wait means the writer is held back.
    if (!(await settlesWithin(clock, write, 1_000))) return { written, stalled: write };
  }
  return { written, stalled: undefined };
}

/** Echoes everything back, then ends its own writing half; never rejects. */
async function echo(stream: Stream): Promise<unknown> {
  try {
    for await (const chunk of stream) await stream.write(chunk);
    await stream.end();
    return undefined;
  } catch (error) {
    return error;
  }
}

export function streamTests(env: () => TestEnv, options: ResolvedOptions): void {
  const it = (name: string, fn: () => Promise<void>) => vitestIt(name, fn, options.testTimeoutMs);

  it('dial and accept agree on both addresses; bytes flow both ways', async () => {
    const { a, b, hostA, hostB, res } = env();
    const { listener, accepted } = await res.acceptOne(a, hostA);
    expect(listener.localAddress.host).toBe(hostA);
    expect(listener.localAddress.port).toBeGreaterThan(0);
    const client = await res.dial(b, listener.localAddress);
    const server = await accepted;
    expect(client.remoteAddress).toEqual(listener.localAddress);
    expect(client.localAddress.host).toBe(hostB);
    expect(server.localAddress).toEqual(listener.localAddress);
    expect(server.remoteAddress).toEqual(client.localAddress);

    const clientReader = new ExactReader(client);
    const serverReader = new ExactReader(server);
    await client.write(bytesOf('hello from b'));
    expect(await within(a.clock, serverReader.read(12), 'read')).toEqual(bytesOf('hello from b'));
    await server.write(bytesOf('hello from a'));
    expect(await within(b.clock, clientReader.read(12), 'read')).toEqual(bytesOf('hello from a'));
  });

  it(`echoes ${options.streamEchoBytes} bytes through one stream, in order`, async () => {
    const { a, b, hostA, res } = env();
    const total = options.streamEchoBytes;
    const { listener, accepted } = await res.acceptOne(a, hostA);
    const client = await res.dial(b, listener.localAddress);
    const server = await accepted;
    const echoing = echo(server);

    const reading = readPattern(client);
    await within(b.clock, writePattern(client, total, CHUNK), 'writing', 10 * 60_000);
    await within(b.clock, client.end(), 'end');
    expect(await within(b.clock, reading, 'reading the echo', 10 * 60_000)).toBe(total);
    expect(await within(a.clock, echoing, 'echo server')).toBeUndefined();
    expect(await within(b.clock, client.closed, 'client closed')).toBeUndefined();
    expect(await within(a.clock, server.closed, 'server closed')).toBeUndefined();
  });

  it('write waits while the reader pauses (the writer runs ahead a bounded amount)', async () => {
    const { a, b, hostA, res } = env();
    const total = Math.max(options.streamEchoBytes, 2 * options.maxBufferedBytes);
    const { listener, accepted } = await res.acceptOne(a, hostA);
    const client = await res.dial(b, listener.localAddress);
    const server = await accepted;

    // The reader takes the first MiB, then pauses: the writer must come to a stop.
    const reader = new PatternReader(server);
    const head = 1024 * KiB;
    await within(
      b.clock,
      Promise.all([writePattern(client, head, CHUNK), reader.readAtLeast(head)]),
      'the first MiB',
    );
    const { written, stalled } = await writeUntilStalled(env(), client, head);
    const ahead = written - reader.position;
    expect(stalled, `${ahead} bytes written past the reader and no write waited`).toBeDefined();
    expect(ahead).toBeLessThanOrEqual(options.maxBufferedBytes);

    // The reader resumes: the pending write completes and everything arrives in order.
    const reading = reader.readToEnd();
    await within(b.clock, stalled as Promise<void>, 'the stalled write');
    await within(b.clock, writePattern(client, total - written, CHUNK, written), 'writing');
    await within(b.clock, client.end(), 'end');
    expect(await within(a.clock, reading, 'reading', 10 * 60_000)).toBe(total);
  });

  it('end() while a write waits: both complete once the reader reads', async () => {
    const { a, b, hostA, res } = env();
    const { listener, accepted } = await res.acceptOne(a, hostA);
    const client = await res.dial(b, listener.localAddress);
    const server = await accepted;
    const { written, stalled } = await writeUntilStalled(env(), client);
    expect(stalled, `${written} bytes written and no write waited`).toBeDefined();
    const ending = client.end();
    const reading = readPattern(server);
    await within(b.clock, stalled as Promise<void>, 'the stalled write');
    await within(b.clock, ending, 'end');
    expect(await within(a.clock, reading, 'reading')).toBe(written);
  });

  it('many small writes arrive as one byte sequence', async () => {
    const { a, b, hostA, res } = env();
    const { listener, accepted } = await res.acceptOne(a, hostA);
    const client = await res.dial(b, listener.localAddress);
    const server = await accepted;
    const reading = readPattern(server);
    let position = 0;
    for (let i = 0; i < 3_000; i++) {
      const size = 1 + ((i * 37) % 97);
      await client.write(patternSlice(position, size));
      position += size;
    }
    await within(b.clock, client.end(), 'end');
    expect(await within(a.clock, reading, 'reading')).toBe(position);
  });

  it(`${options.concurrentStreams} concurrent streams stay separate`, async () => {
    const { a, b, hostA, res } = env();
    const n = options.concurrentStreams;
    const size = 32 * KiB;
    const servers: Promise<unknown>[] = [];
    const listener = await res.listen(a, hostA, (stream) => servers.push(echo(stream)));
    const clients = await Promise.all(
      Array.from({ length: n }, () => res.dial(b, listener.localAddress)),
    );
    const ports = new Set(clients.map((c) => c.localAddress.port));
    expect(ports.size).toBe(n);
    const echoed = await within(
      b.clock,
      Promise.all(
        clients.map(async (client, i) => {
          // Each stream carries its own slice of the pattern: a mix-up fails the check.
          const from = i * 1_009;
          const reading = readPattern(client, from);
          await writePattern(client, size, 4 * KiB, from);
          await client.end();
          return reading;
        }),
      ),
      'all echoes',
    );
    expect(echoed).toEqual(clients.map(() => size));
    expect(servers.length).toBe(n);
    expect(await within(a.clock, Promise.all(servers), 'servers')).toEqual(
      servers.map(() => undefined),
    );
  });

  it('half-close: end delivers everything, then EOF, while the other direction stays open', async () => {
    const { a, b, hostA, res } = env();
    const { listener, accepted } = await res.acceptOne(a, hostA);
    const client = await res.dial(b, listener.localAddress);
    const server = await accepted;
    const request = 200 * KiB;
    const response = 100 * KiB;

    const serving = (async () => {
      // The whole request, then EOF: only then does the server answer.
      const got = await readPattern(server);
      await writePattern(server, response, 16 * KiB, 7);
      await server.end();
      return got;
    })();
    await writePattern(client, request, 16 * KiB);
    await within(b.clock, client.end(), 'end');
    // The client's writing half is closed; its reading half still works.
    expect(await within(b.clock, readPattern(client, 7), 'response')).toBe(response);
    expect(await within(a.clock, serving, 'server')).toBe(request);
    expect(await within(b.clock, client.closed, 'client closed')).toBeUndefined();
    expect(await within(a.clock, server.closed, 'server closed')).toBeUndefined();
  });

  it('dialling a port where nobody listens gives CONNECTION_REFUSED', async () => {
    const { a, b, hostA, res } = env();
    const listener = await res.listen(a, hostA);
    const address = listener.localAddress;
    await listener.close();
    const error = await failureOf(() => b.dial(address));
    expect(hasCode(error, 'CONNECTION_REFUSED'), describeError(error)).toBe(true);
  });

  it('remote destroy: local reads fail and closed resolves with CONNECTION_RESET', async () => {
    const { a, b, hostA, res } = env();
    const { listener, accepted } = await res.acceptOne(a, hostA);
    const client = await res.dial(b, listener.localAddress);
    const server = await accepted;
    const reading = readUntilFailure(client);
    server.destroy();
    const readError = await within(b.clock, reading, 'the failing read');
    expect(hasCode(readError, 'CONNECTION_RESET'), describeError(readError)).toBe(true);
    const closedWith = await within(b.clock, client.closed, 'client closed');
    expect(hasCode(closedWith, 'CONNECTION_RESET'), describeError(closedWith)).toBe(true);
    expect(await within(a.clock, server.closed, 'server closed')).toBeUndefined();
    // Writing to the broken stream rejects with the error that broke it.
    const writeError = await failureOf(() => client.write(bytesOf('anyone?')));
    expect(hasCode(writeError, 'CONNECTION_RESET'), describeError(writeError)).toBe(true);
  });

  it('destroy(error) ends pending local reads with that error', async () => {
    const { a, b, hostA, res } = env();
    const { listener, accepted } = await res.acceptOne(a, hostA);
    const client = await res.dial(b, listener.localAddress);
    const server = await accepted;
    const reading = readUntilFailure(client);
    const remoteReading = readUntilFailure(server);
    const cause = new Error('protocol violation');
    client.destroy(cause);
    expect(await within(b.clock, reading, 'the failing read')).toBe(cause);
    const closedWith = await within(b.clock, client.closed, 'client closed');
    expect(closedWith).toBeInstanceOf(Error);
    expect((closedWith as Error).name).toBe('TransportError');
    const remoteError = await within(a.clock, remoteReading, 'the remote read');
    expect(hasCode(remoteError, 'CONNECTION_RESET'), describeError(remoteError)).toBe(true);
  });

  it('write after end() or destroy() rejects with CLOSED', async () => {
    const { a, b, hostA, res } = env();
    const listener = await res.listen(a, hostA, (stream) => void echo(stream));
    const ended = await res.dial(b, listener.localAddress);
    const echoed = readAll(ended);
    await ended.write(bytesOf('last words'));
    await within(b.clock, ended.end(), 'end');
    const afterEnd = await failureOf(() => ended.write(bytesOf('too late')));
    expect(hasCode(afterEnd, 'CLOSED'), describeError(afterEnd)).toBe(true);
    expect(await within(b.clock, echoed, 'echo')).toEqual(bytesOf('last words'));

    const destroyed = await res.dial(b, listener.localAddress);
    destroyed.destroy();
    const afterDestroy = await failureOf(() => destroyed.write(bytesOf('too late')));
    expect(hasCode(afterDestroy, 'CLOSED'), describeError(afterDestroy)).toBe(true);
    expect(await within(b.clock, destroyed.closed, 'closed')).toBeUndefined();
  });

  it('leaving a for-await loop early destroys the stream', async () => {
    const { a, b, hostA, res } = env();
    const { listener, accepted } = await res.acceptOne(a, hostA);
    const client = await res.dial(b, listener.localAddress);
    const server = await accepted;
    const remoteReading = readUntilFailure(client);
    await client.write(bytesOf('one message, then I leave'));
    for await (const _ of server) break;
    expect(await within(a.clock, server.closed, 'server closed')).toBeUndefined();
    const remoteError = await within(b.clock, remoteReading, 'the remote read');
    expect(hasCode(remoteError, 'CONNECTION_RESET'), describeError(remoteError)).toBe(true);
  });

  it('a closed listener stops accepting; streams it accepted live on', async () => {
    const { a, b, hostA, res } = env();
    const { listener, accepted } = await res.acceptOne(a, hostA);
    const client = await res.dial(b, listener.localAddress);
    const server = await accepted;
    await listener.close();
    await listener.close();
    const error = await failureOf(() => b.dial(listener.localAddress));
    expect(hasCode(error, 'CONNECTION_REFUSED'), describeError(error)).toBe(true);

    const serverReader = new ExactReader(server);
    const clientReader = new ExactReader(client);
    await client.write(bytesOf('still there?'));
    expect(await within(a.clock, serverReader.read(12), 'read')).toEqual(bytesOf('still there?'));
    await server.write(bytesOf('yes'));
    expect(await within(b.clock, clientReader.read(3), 'read')).toEqual(bytesOf('yes'));
  });

  it('listening on a taken port gives ADDRESS_IN_USE; closing frees it', async () => {
    const { a, hostA, res } = env();
    const first = await res.listen(a, hostA);
    const port = first.localAddress.port;
    const error = await failureOf(() => res.listen(a, hostA, undefined, port));
    expect(hasCode(error, 'ADDRESS_IN_USE'), describeError(error)).toBe(true);
    await first.close();
    const again = await res.listen(a, hostA, undefined, port);
    expect(again.localAddress).toEqual({ host: hostA, port });
  });

  it('dial: a malformed address gives INVALID_ADDRESS, an aborted signal ABORTED', async () => {
    const { a, b, hostA, res } = env();
    const invalid = await failureOf(() => b.dial({ host: 'not-an-ip', port: 1 }));
    expect(hasCode(invalid, 'INVALID_ADDRESS'), describeError(invalid)).toBe(true);
    const listenError = await failureOf(() => res.listen(a, 'not-an-ip'));
    expect(hasCode(listenError, 'INVALID_ADDRESS'), describeError(listenError)).toBe(true);

    const listener = await res.listen(a, hostA);
    const controller = new AbortController();
    controller.abort();
    const aborted = await failureOf(() =>
      b.dial(listener.localAddress, { signal: controller.signal }),
    );
    expect(hasCode(aborted, 'ABORTED'), describeError(aborted)).toBe(true);
  });
}
