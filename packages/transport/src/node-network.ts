/**
 * `nodeNetwork()`: the real `Network`, over node:dgram and node:net, with the system clock and
 * node:crypto randomness. Works on IPv4 and IPv6 (the family follows the literal host).
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { addressFamily, isValidPort } from './address';
import { systemClock } from './clock';
import { TransportError } from './errors';
import type {
  Address,
  BindOptions,
  Clock,
  DialOptions,
  Network,
  Random,
  Stream,
  StreamListener,
} from './interfaces';
import { NodeDatagramSocket, probeDatagramPort } from './node-datagram';
import { fromNodeError } from './node-errors';
import { NodeStream } from './node-stream';
import { cryptoRandom } from './random';

/** Default per-direction buffer of a stream (Node's own default is 16 KiB on Node 20). */
export const DEFAULT_HIGH_WATER_MARK = 64 * 1024;
/** Default `DialOptions.timeoutMs`. */
export const DEFAULT_DIAL_TIMEOUT_MS = 10_000;

export interface NodeNetworkOptions {
  /** Default `systemClock`. Dial timeouts run on it. */
  clock?: Clock;
  /** Default `cryptoRandom`. */
  random?: Random;
  /**
   * Bytes a stream buffers in each direction before pushing back: `write` waits above it, and
   * the socket stops reading when this many received bytes wait for the consumer.
   * Default 64 KiB.
   */
  highWaterMark?: number;
  /** Dial timeout when `DialOptions.timeoutMs` is absent. Default 10,000 ms. */
  dialTimeoutMs?: number;
}

/** A `Network` on the host's real sockets. */
export function nodeNetwork(options: NodeNetworkOptions = {}): Network {
  const highWaterMark = options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK;
  if (!Number.isSafeInteger(highWaterMark) || highWaterMark < 1) {
    throw new RangeError(`highWaterMark must be a positive integer, got ${highWaterMark}`);
  }
  const clock = options.clock ?? systemClock;
  const dialTimeoutMs = options.dialTimeoutMs ?? DEFAULT_DIAL_TIMEOUT_MS;
  return {
    clock,
    random: options.random ?? cryptoRandom,
    bindDatagram: (bind) => NodeDatagramSocket.bind(bind),
    probeDatagramPort: (to, waitMs) => probeDatagramPort(to, waitMs, clock),
    listen: (bind, onStream) => listen(bind, onStream, highWaterMark),
    dial: (to, dial) => dialStream(to, dial ?? {}, { clock, highWaterMark, dialTimeoutMs }),
  };
}

function listen(
  options: BindOptions,
  onStream: (stream: Stream) => void,
  highWaterMark: number,
): Promise<StreamListener> {
  const port = options.port ?? 0;
  if (!addressFamily(options.host) || !isValidPort(port)) {
    return Promise.reject(
      new TransportError('INVALID_ADDRESS', `cannot listen on ${options.host} port ${port}`),
    );
  }
  const server = createServer({ allowHalfOpen: true, noDelay: true, highWaterMark });
  server.on('connection', (socket: Socket) => {
    // A connection reset before we saw it has no peer address any more: drop it.
    if (socket.remoteAddress === undefined || socket.destroyed) {
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    onStream(new NodeStream(socket, highWaterMark));
  });
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => {
      server.off('listening', onListening);
      server.close();
      reject(fromNodeError(error, 'bind'));
    };
    const onListening = (): void => {
      server.off('error', onError);
      // Accept errors (EMFILE, ...) must not crash the process; the server keeps listening.
      server.on('error', () => {});
      resolve(new NodeStreamListener(server));
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ host: options.host, port, exclusive: true });
  });
}

class NodeStreamListener implements StreamListener {
  readonly localAddress: Address;
  readonly #server: Server;
  #closing: Promise<void> | undefined;

  constructor(server: Server) {
    this.#server = server;
    const bound = server.address();
    if (bound === null || typeof bound === 'string') throw new Error('unreachable: not TCP');
    this.localAddress = { host: bound.address, port: bound.port };
  }

  close(): Promise<void> {
    // server.close() releases the port at once; its callback would wait for every accepted
    // connection to end, but those belong to their streams now. One turn of the event loop lets
    // the listening handle finish closing.
    this.#closing ??= new Promise((resolve) => {
      this.#server.close();
      setImmediate(resolve);
    });
    return this.#closing;
  }
}

interface DialSettings {
  clock: Clock;
  highWaterMark: number;
  dialTimeoutMs: number;
}

function dialStream(to: Address, options: DialOptions, settings: DialSettings): Promise<Stream> {
  if (!addressFamily(to.host) || !isValidPort(to.port) || to.port === 0) {
    return Promise.reject(
      new TransportError('INVALID_ADDRESS', `cannot dial ${to.host} port ${to.port}`),
    );
  }
  const { signal } = options;
  if (signal?.aborted) {
    return Promise.reject(new TransportError('ABORTED', 'dial aborted', { cause: signal.reason }));
  }
  const timeoutMs = options.timeoutMs ?? settings.dialTimeoutMs;
  return new Promise((resolve, reject) => {
    // `highWaterMark` reaches the socket's Duplex constructor; @types/node does not list it.
    const connectOptions = {
      host: to.host,
      port: to.port,
      allowHalfOpen: true,
      noDelay: true,
      highWaterMark: settings.highWaterMark,
    };
    const socket = connect(connectOptions);
    const finish = (): void => {
      timer.cancel();
      signal?.removeEventListener('abort', onAbort);
      socket.off('connect', onConnect);
      socket.off('error', onError);
    };
    const fail = (error: TransportError): void => {
      finish();
      // Keep a listener: destroying a connecting socket may still report an error.
      socket.on('error', () => {});
      socket.destroy();
      reject(error);
    };
    const onConnect = (): void => {
      finish();
      socket.setNoDelay(true); // also asked for in the options; explicit for clarity
      resolve(new NodeStream(socket, settings.highWaterMark));
    };
    const onError = (error: Error): void => fail(fromNodeError(error, 'dial'));
    const onAbort = (): void => {
      fail(new TransportError('ABORTED', 'dial aborted', { cause: signal?.reason }));
    };
    const timer = settings.clock.setTimeout(() => {
      fail(
        new TransportError(
          'TIMEOUT',
          `dial ${to.host} port ${to.port}: no answer in ${timeoutMs} ms`,
        ),
      );
    }, timeoutMs);
    socket.once('connect', onConnect);
    socket.once('error', onError);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
