/**
 * `utpNetwork(base)`: a transport `Network` whose streams are uTP connections over datagram
 * sockets bound through `base` (nodeNetwork for real UDP, a netsim host for simulations).
 *
 * - `listen({ host, port })` binds a UDP port (or joins the socket already bound there by
 *   `bindDatagram`) and accepts uTP connections on it.
 * - `bindDatagram({ host, port })` hands out the datagram side of the same port: KRPC for the
 *   DHT. Give the DHT the listen port and BitTorrent and the DHT share one UDP port.
 * - `dial(to)` connects from the listening port of the same address family when there is one
 *   (one port for everything, as libtorrent does), else from a fresh ephemeral port.
 */
import {
  type Address,
  addressFamily,
  type BindOptions,
  type DatagramSocket,
  type DialOptions,
  isValidPort,
  type Network,
  type Stream,
  type StreamListener,
  TransportError,
} from '@peerkit/transport';
import { UtpSocket, type UtpSocketOptions } from './socket';
import { UtpStream } from './utp-stream';

export interface UtpNetworkOptions extends UtpSocketOptions {
  /** Dial timeout when `DialOptions.timeoutMs` is absent. Default 10,000 ms. */
  dialTimeoutMs?: number;
  /**
   * Local address for the ephemeral sockets of dials made without a listening port. Default:
   * the loopback of the destination's family for a loopback destination, else the wildcard.
   */
  dialHost?: string;
  /** Dial from the listening port when there is one (default true). */
  dialFromListenPort?: boolean;
}

/** A `Network` speaking uTP; `close()` releases every socket it opened. */
export interface UtpNetwork extends Network {
  /**
   * Ends every connection gracefully (queued data, then ST_FIN; bounded by `closeDrainMs`),
   * resets what is left and releases every port.
   */
  close(): Promise<void>;
  /** Sockets currently open (for leak checks). */
  readonly openSockets: number;
}

function isLoopback(host: string): boolean {
  return host === '::1' || host.startsWith('127.');
}

/** Whether `stream` is a uTP stream (the `both` network reports which transport each uses). */
export function isUtpStream(stream: Stream): boolean {
  return stream instanceof UtpStream;
}

export function utpNetwork(base: Network, options: UtpNetworkOptions = {}): UtpNetwork {
  const sockets = new Map<string, UtpSocket>();
  const all = new Set<UtpSocket>();
  const clock = base.clock;
  const dialTimeoutMs = options.dialTimeoutMs ?? 10_000;
  let closed = false;
  const probe = base.probeDatagramPort?.bind(base);

  const keyOf = (host: string, port: number): string => `${host}|${port}`;
  const onEmpty = (socket: UtpSocket, released: boolean): void => {
    if (released) all.delete(socket);
    const k = keyOf(socket.localAddress.host, socket.localAddress.port);
    if (sockets.get(k) === socket) sockets.delete(k);
  };

  async function socketAt(bind: BindOptions, wants: 'listener' | 'view'): Promise<UtpSocket> {
    if (closed) throw new TransportError('CLOSED', 'the uTP network is closed');
    const port = bind.port ?? 0;
    if (!addressFamily(bind.host) || !isValidPort(port)) {
      throw new TransportError('INVALID_ADDRESS', `cannot bind ${bind.host} port ${port}`);
    }
    if (port !== 0) {
      const existing = sockets.get(keyOf(bind.host, port));
      if (existing !== undefined && !existing.closed) {
        const taken = wants === 'listener' ? existing.listening : false;
        if (taken) throw new TransportError('ADDRESS_IN_USE', `port ${port} is taken`);
        return existing;
      }
    }
    const datagram = await base.bindDatagram(bind);
    const socket = new UtpSocket(datagram, clock, base.random, options, onEmpty, probe);
    all.add(socket);
    sockets.set(keyOf(socket.localAddress.host, socket.localAddress.port), socket);
    return socket;
  }

  return {
    clock,
    random: base.random,

    get openSockets() {
      return all.size;
    },

    async bindDatagram(bind: BindOptions): Promise<DatagramSocket> {
      const socket = await socketAt(bind, 'view');
      const view = socket.openView();
      if (view === undefined) {
        throw new TransportError('ADDRESS_IN_USE', `port ${bind.port} is taken`);
      }
      return view;
    },

    async listen(bind: BindOptions, onStream: (stream: Stream) => void): Promise<StreamListener> {
      const socket = await socketAt(bind, 'listener');
      socket.setListener(onStream);
      let open = true;
      return {
        localAddress: socket.localAddress,
        close: async () => {
          if (!open) return;
          open = false;
          socket.setListener(undefined);
          // When nothing else used the port, it is free once close() resolves.
          await socket.releasing;
        },
      };
    },

    async dial(to: Address, dial: DialOptions = {}): Promise<Stream> {
      const family = addressFamily(to.host);
      if (!family || !isValidPort(to.port) || to.port === 0) {
        throw new TransportError('INVALID_ADDRESS', `cannot dial ${to.host} port ${to.port}`);
      }
      const { signal } = dial;
      if (signal?.aborted) {
        throw new TransportError('ABORTED', 'dial aborted', { cause: signal.reason });
      }
      if (closed) throw new TransportError('CLOSED', 'the uTP network is closed');
      let socket: UtpSocket | undefined;
      if (options.dialFromListenPort !== false) {
        for (const s of all) {
          const bound = s.localAddress.host;
          // A socket bound to loopback cannot reach other hosts, and the other way round.
          const routable =
            bound === '0.0.0.0' || bound === '::' || isLoopback(bound) === isLoopback(to.host);
          if (s.listening && !s.closed && addressFamily(bound) === family && routable) {
            socket = s;
            break;
          }
        }
      }
      if (socket === undefined) {
        const host =
          options.dialHost ??
          (isLoopback(to.host)
            ? family === 'IPv4'
              ? '127.0.0.1'
              : '::1'
            : family === 'IPv4'
              ? '0.0.0.0'
              : '::');
        const datagram = await base.bindDatagram({ host, port: 0 });
        socket = new UtpSocket(datagram, clock, base.random, options, onEmpty, probe);
        all.add(socket);
        sockets.set(keyOf(socket.localAddress.host, socket.localAddress.port), socket);
      }
      const stream = socket.connect(to);
      const timeoutMs = dial.timeoutMs ?? dialTimeoutMs;
      await new Promise<void>((resolve, reject) => {
        let settled = false;
        const finish = (error?: Error): void => {
          if (settled) return;
          settled = true;
          timer.cancel();
          signal?.removeEventListener('abort', onAbort);
          if (error === undefined) resolve();
          else {
            stream.destroy();
            reject(error);
          }
        };
        const onAbort = (): void => {
          finish(new TransportError('ABORTED', 'dial aborted', { cause: signal?.reason }));
        };
        const timer = clock.setTimeout(() => {
          finish(
            new TransportError(
              'TIMEOUT',
              `uTP dial ${to.host} port ${to.port}: no answer in ${timeoutMs} ms`,
            ),
          );
        }, timeoutMs);
        signal?.addEventListener('abort', onAbort, { once: true });
        stream.connected().then(
          () => finish(),
          (error: Error) => finish(error),
        );
      });
      return stream;
    },

    async close(): Promise<void> {
      closed = true;
      await Promise.all([...all].map((s) => s.close()));
      all.clear();
      sockets.clear();
    },
  };
}
