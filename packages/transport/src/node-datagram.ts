/** `DatagramSocket` over node:dgram (`udp4` or `udp6`, chosen by the family of the bound host). */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { addressFamily, isValidPort } from './address';
import { TransportError } from './errors';
import type { Address, BindOptions, Clock, DatagramSocket } from './interfaces';
import { fromNodeError } from './node-errors';

/** The largest UDP payload over IPv4 (65,535 - 20 IP - 8 UDP); the interface's limit. */
export const MAX_DATAGRAM_SIZE = 65_507;

/**
 * Kernel buffer sizes asked for (the system caps them, Linux at net.core.rmem_max/wmem_max): a
 * stream protocol on UDP (uTP) receives bursts of a whole window while the event loop is busy,
 * and the default (~208 KiB) drops them; libtorrent grows its UDP socket's buffers likewise.
 */
const RECEIVE_BUFFER_BYTES = 4 * 1024 * 1024;
const SEND_BUFFER_BYTES = 1024 * 1024;

type Handler = (data: Uint8Array, from: Address) => void;

/**
 * Errors of an unconnected UDP send (no route, a full socket buffer, ...) mean the datagram is
 * lost, which UDP allows at any time; reporting them through a callback keeps them from becoming
 * 'error' events.
 */
const ignoreSendError = (): void => {};

/**
 * `send` takes IP literals only (checked before every send), so the name lookup node:dgram
 * does per datagram is the identity; done synchronously it spares a `process.nextTick` (and
 * `dns.lookup`'s checks) per datagram, which is a stream protocol's hottest path (uTP sends one
 * datagram per ~1,400 bytes).
 */
const literalLookup = (
  address: string,
  family: unknown,
  callback: (error: Error | null, address: string, family: number) => void,
): void => {
  callback(null, address, family === 6 || family === 'IPv6' ? 6 : 4);
};

export class NodeDatagramSocket implements DatagramSocket {
  readonly localAddress: Address;
  readonly #socket: Socket;
  readonly #family: 'IPv4' | 'IPv6';
  /** Copy-on-write, so that a handler may unregister itself while being called. */
  #handlers: readonly Handler[] = [];
  #closing: Promise<void> | undefined;

  private constructor(socket: Socket, family: 'IPv4' | 'IPv6') {
    this.#socket = socket;
    this.#family = family;
    const bound = socket.address();
    this.localAddress = { host: bound.address, port: bound.port };
    socket.on('message', this.#onMessage);
    // Receive errors after binding are not actionable (the kernel already dropped the datagram);
    // a listener must exist so that they never become uncaught exceptions.
    socket.on('error', ignoreSendError);
  }

  /** Binds a socket; `ADDRESS_IN_USE` when the port is taken, `INVALID_ADDRESS` for a bad host. */
  static bind(options: BindOptions): Promise<NodeDatagramSocket> {
    const family = addressFamily(options.host);
    const port = options.port ?? 0;
    if (!family || !isValidPort(port)) {
      return Promise.reject(
        new TransportError('INVALID_ADDRESS', `cannot bind ${options.host} port ${port}`),
      );
    }
    const socket = createSocket({
      type: family === 'IPv4' ? 'udp4' : 'udp6',
      reuseAddr: false,
      recvBufferSize: RECEIVE_BUFFER_BYTES,
      sendBufferSize: SEND_BUFFER_BYTES,
      lookup: literalLookup as never,
    });
    return new Promise((resolve, reject) => {
      const onError = (error: Error): void => {
        socket.off('listening', onListening);
        socket.close();
        reject(fromNodeError(error, 'bind'));
      };
      const onListening = (): void => {
        socket.off('error', onError);
        resolve(new NodeDatagramSocket(socket, family));
      };
      socket.once('error', onError);
      socket.once('listening', onListening);
      socket.bind({ address: options.host, port, exclusive: true });
    });
  }

  send(data: Uint8Array, to: Address): void {
    if (this.#closing) throw new TransportError('CLOSED', 'send: the socket is closed');
    if (data.byteLength > MAX_DATAGRAM_SIZE) {
      throw new TransportError(
        'MESSAGE_TOO_LARGE',
        `datagram of ${data.byteLength} bytes exceeds ${MAX_DATAGRAM_SIZE}`,
      );
    }
    const family = addressFamily(to.host);
    if (!family || !isValidPort(to.port) || to.port === 0) {
      throw new TransportError('INVALID_ADDRESS', `send: not a destination: ${to.host} ${to.port}`);
    }
    if (family !== this.#family) {
      throw new TransportError(
        'INVALID_ADDRESS',
        `send: an ${this.#family} socket cannot reach ${family} address ${to.host}`,
      );
    }
    // No callback: node:dgram then reports a failed send nowhere (a lost datagram, which UDP
    // allows) instead of scheduling a callback per datagram.
    this.#socket.send(data, to.port, to.host);
  }

  onMessage(handler: Handler): () => void {
    this.#handlers = [...this.#handlers, handler];
    return () => {
      this.#handlers = this.#handlers.filter((h) => h !== handler);
    };
  }

  close(): Promise<void> {
    this.#closing ??= new Promise((resolve) => {
      this.#handlers = [];
      this.#socket.close(() => resolve());
    });
    return this.#closing;
  }

  #onMessage = (message: Buffer, rinfo: RemoteInfo): void => {
    const handlers = this.#handlers;
    if (handlers.length === 0) return;
    const from: Address = { host: rinfo.address, port: rinfo.port };
    for (const handler of handlers) handler(message, from);
  };
}

/**
 * `Network.probeDatagramPort` over node:dgram: an empty datagram from a fresh socket connected
 * to `to` (Linux reports ICMP errors only to connected UDP sockets, as ECONNREFUSED on the next
 * receive). `'closed'` on that error within `waitMs`, `'unknown'` otherwise (an answer, silence,
 * a bad address, any other error).
 */
export function probeDatagramPort(
  to: Address,
  waitMs: number,
  clock: Clock,
): Promise<'closed' | 'unknown'> {
  const family = addressFamily(to.host);
  if (!family || !isValidPort(to.port) || to.port === 0) return Promise.resolve('unknown');
  return new Promise((resolve) => {
    const socket = createSocket(family === 'IPv4' ? 'udp4' : 'udp6');
    let done = false;
    const finish = (result: 'closed' | 'unknown'): void => {
      if (done) return;
      done = true;
      timer.cancel();
      socket.close();
      resolve(result);
    };
    const timer = clock.setTimeout(() => finish('unknown'), waitMs);
    socket.on('error', (error: NodeJS.ErrnoException) => {
      finish(error.code === 'ECONNREFUSED' ? 'closed' : 'unknown');
    });
    socket.on('message', () => finish('unknown'));
    socket.connect(to.port, to.host, () => {
      if (!done) socket.send(new Uint8Array(0), (error) => error && finish('unknown'));
    });
  });
}
