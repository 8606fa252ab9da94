/**
 * What the compliance suite cannot reach through the `Network` interface alone: dial timeouts and
 * aborts in flight, Node error mapping, the write fast path, options, and misuse.
 */
import { Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  type Clock,
  isTransportError,
  nodeNetwork,
  type Stream,
  type StreamListener,
  systemClock,
  type Timer,
  TransportError,
  withTimeout,
} from '../src/index';
import { fromNodeError } from '../src/node-errors';
import { expectNoLeftovers, type HandleCounts, openHandles } from './handles';

const HOST = '127.0.0.1';

/** A clock whose timers fire on the next microtask, whatever their delay. */
const hastyClock: Clock = {
  now: () => performance.now(),
  setTimeout(callback: () => void): Timer {
    let cancelled = false;
    queueMicrotask(() => {
      if (!cancelled) callback();
    });
    return {
      cancel: () => {
        cancelled = true;
      },
    };
  },
  setInterval(): Timer {
    throw new Error('not needed here');
  },
};

function errnoError(code: string): Error {
  return Object.assign(new Error(`${code} from the OS`), { code });
}

let baseline: HandleCounts;
const listeners: StreamListener[] = [];
const streams: Stream[] = [];

beforeEach(() => {
  baseline = openHandles();
});

afterEach(async () => {
  await Promise.all(listeners.splice(0).map((l) => l.close()));
  const open = streams.splice(0);
  for (const s of open) s.destroy();
  await Promise.all(open.map((s) => s.closed));
  await expectNoLeftovers(baseline);
});

async function connectedPair(network = nodeNetwork()): Promise<{ client: Stream; server: Stream }> {
  let server: ((s: Stream) => void) | undefined;
  const accepted = new Promise<Stream>((resolve) => {
    server = resolve;
  });
  const listener = await network.listen({ host: HOST }, (s) => {
    streams.push(s);
    server?.(s);
  });
  listeners.push(listener);
  const client = await network.dial(listener.localAddress);
  streams.push(client);
  return { client, server: await accepted };
}

describe('nodeNetwork: dial', () => {
  it('gives TIMEOUT when the clock runs out before the connection is up', async () => {
    const listener = await nodeNetwork().listen({ host: HOST }, (s) => streams.push(s));
    listeners.push(listener);
    const network = nodeNetwork({ clock: hastyClock });
    await expect(network.dial(listener.localAddress, { timeoutMs: 5_000 })).rejects.toSatisfy(
      (e: unknown) => isTransportError(e, 'TIMEOUT'),
    );
  });

  it('gives ABORTED when the signal aborts while connecting', async () => {
    const listener = await nodeNetwork().listen({ host: HOST }, (s) => streams.push(s));
    listeners.push(listener);
    const controller = new AbortController();
    const dialing = nodeNetwork().dial(listener.localAddress, { signal: controller.signal });
    controller.abort(new Error('user gave up'));
    await expect(dialing).rejects.toSatisfy(
      (e: unknown) => isTransportError(e, 'ABORTED') && (e as Error).cause instanceof Error,
    );
  });

  it('rejects port 0 as a destination', async () => {
    await expect(nodeNetwork().dial({ host: HOST, port: 0 })).rejects.toSatisfy((e: unknown) =>
      isTransportError(e, 'INVALID_ADDRESS'),
    );
  });

  it('rejects a non-positive highWaterMark', () => {
    expect(() => nodeNetwork({ highWaterMark: 0 })).toThrow(RangeError);
  });
});

describe('nodeNetwork: Stream', () => {
  it('returns one shared resolved promise while below the high-water mark', async () => {
    const { client } = await connectedPair();
    const first = client.write(new Uint8Array(100));
    const second = client.write(new Uint8Array(100));
    expect(first).toBe(second);
    await first;
  });

  it('above the high-water mark, writes share one pending promise until drain', async () => {
    const { client, server } = await connectedPair(nodeNetwork({ highWaterMark: 1024 }));
    const first = client.write(new Uint8Array(4096));
    const second = client.write(new Uint8Array(4096));
    expect(first).toBe(second);
    const reading = (async () => {
      let n = 0;
      for await (const chunk of server) n += chunk.length;
      return n;
    })();
    await first;
    await client.end();
    expect(await reading).toBe(8192);
  });

  it('turns Nagle off (noDelay) on dialled and accepted sockets', async () => {
    const spy = vi.spyOn(Socket.prototype, 'setNoDelay');
    try {
      const { client, server } = await connectedPair();
      const sockets = spy.mock.contexts;
      expect(spy.mock.calls.every(([on]) => on === true)).toBe(true);
      // One call per end: the dialled socket and the accepted one.
      expect(sockets.length).toBeGreaterThanOrEqual(2);
      const ports = new Set(sockets.map((s) => (s as Socket).localPort));
      expect(ports).toContain(client.localAddress.port);
      expect(ports).toContain(server.localAddress.port);
    } finally {
      spy.mockRestore();
    }
  });

  it("says what carries it: Stream.transport is 'tcp' on both ends", async () => {
    const { client, server } = await connectedPair();
    expect(client.transport).toBe('tcp');
    expect(server.transport).toBe('tcp');
  });

  it('can be iterated only once', async () => {
    const { client } = await connectedPair();
    client[Symbol.asyncIterator]();
    expect(() => client[Symbol.asyncIterator]()).toThrow(TypeError);
  });

  it('end() is idempotent; end() after destroy() rejects with CLOSED', async () => {
    const { client, server } = await connectedPair();
    const ending = client.end();
    expect(client.end()).toBe(ending);
    await ending;
    server.destroy();
    await expect(server.end()).rejects.toSatisfy((e: unknown) => isTransportError(e, 'CLOSED'));
  });

  it('a writer that does not await survives a peer reset (no unhandled rejection)', async () => {
    const { client, server } = await connectedPair(nodeNetwork({ highWaterMark: 1024 }));
    const chunk = new Uint8Array(256 * 1024);
    for (let i = 0; i < 16; i++) void client.write(chunk);
    server.destroy();
    const closedWith = await client.closed;
    expect(isTransportError(closedWith, 'CONNECTION_RESET')).toBe(true);
    await expect(client.write(chunk)).rejects.toSatisfy((e: unknown) =>
      isTransportError(e, 'CONNECTION_RESET'),
    );
  });

  it('destroy(TransportError) closes with that very error', async () => {
    const { client } = await connectedPair();
    const reason = new TransportError('TIMEOUT', 'peer too slow');
    client.destroy(reason);
    expect(await client.closed).toBe(reason);
  });
});

describe('nodeNetwork: datagrams', () => {
  it('refuses a destination of the other IP family', async () => {
    const socket = await nodeNetwork().bindDatagram({ host: HOST });
    try {
      expect(() => socket.send(new Uint8Array(1), { host: '::1', port: 9 })).toThrow(
        /cannot reach IPv6/,
      );
    } finally {
      await socket.close();
    }
  });

  it("probeDatagramPort: 'closed' for a port nobody binds (ICMP port unreachable), else 'unknown'", async () => {
    const net = nodeNetwork();
    const open = await net.bindDatagram({ host: HOST });
    const gone = await net.bindDatagram({ host: HOST });
    const closedAddress = gone.localAddress;
    await gone.close();
    const seen: number[] = [];
    open.onMessage((data) => seen.push(data.length));
    try {
      expect(await net.probeDatagramPort?.(closedAddress, 5_000)).toBe('closed');
      expect(await net.probeDatagramPort?.(open.localAddress, 200)).toBe('unknown');
      // The probe is one empty datagram.
      expect(seen).toEqual([0]);
      expect(await net.probeDatagramPort?.({ host: 'nowhere', port: 9 }, 200)).toBe('unknown');
    } finally {
      await open.close();
    }
  });
});

describe('fromNodeError', () => {
  it.each([
    ['ECONNREFUSED', 'dial', 'CONNECTION_REFUSED'],
    ['ECONNRESET', 'stream', 'CONNECTION_RESET'],
    ['EPIPE', 'stream', 'CONNECTION_RESET'],
    ['ETIMEDOUT', 'dial', 'TIMEOUT'],
    ['EADDRINUSE', 'bind', 'ADDRESS_IN_USE'],
    ['EADDRNOTAVAIL', 'bind', 'INVALID_ADDRESS'],
    ['EADDRNOTAVAIL', 'dial', 'UNREACHABLE'],
    ['ENETUNREACH', 'dial', 'UNREACHABLE'],
    ['ERR_STREAM_DESTROYED', 'stream', 'CLOSED'],
    ['EACCES', 'bind', 'IO'],
  ] as const)('%s during %s is %s, with the cause kept', (errno, operation, code) => {
    const cause = errnoError(errno);
    const error = fromNodeError(cause, operation);
    expect(error.code).toBe(code);
    expect(error.cause).toBe(cause);
  });

  it('passes a TransportError through and handles non-errors', () => {
    const original = new TransportError('CLOSED', 'x');
    expect(fromNodeError(original, 'stream')).toBe(original);
    expect(fromNodeError('weird', 'stream').code).toBe('IO');
  });
});

describe('nodeNetwork: Stream writes and end', () => {
  it('a write waiting for drain completes when end() flushes (Node emits no drain then)', async () => {
    const { client, server } = await connectedPair(nodeNetwork({ highWaterMark: 1024 }));
    const waiting = client.write(new Uint8Array(8 * 1024 * 1024));
    const ending = client.end();
    const reading = (async () => {
      let n = 0;
      for await (const chunk of server) n += chunk.length;
      return n;
    })();
    await withTimeout(systemClock, ending, 20_000, 'end');
    await withTimeout(systemClock, waiting, 20_000, 'the waiting write');
    expect(await reading).toBe(8 * 1024 * 1024);
  });
});
