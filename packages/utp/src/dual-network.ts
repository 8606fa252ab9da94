/**
 * `dualNetwork(utp, tcp)`: uTP first, TCP as the fallback, on the same port number, as
 * BitTorrent clients do. `listen` accepts both (uTP on UDP port P, TCP on TCP port P); `dial`
 * tries uTP and falls back to TCP when uTP gets no answer or is refused; `bindDatagram` is the
 * uTP network's (the DHT's side of the one UDP port). `transportOf(stream)` tells which one a
 * stream uses.
 */
import {
  type Address,
  type BindOptions,
  type DialOptions,
  isTransportError,
  type Network,
  type Stream,
  type StreamListener,
} from '@peerkit/transport';
import { isUtpStream, type UtpNetwork } from './utp-network';

export interface DualNetworkOptions {
  /** How long a uTP dial may take before TCP is tried, ms (default 3,000). */
  utpDialTimeoutMs?: number;
  /** `'both'` (default): uTP then TCP; `'utp'` or `'tcp'`: only that one. */
  transport?: 'both' | 'utp' | 'tcp';
}

export type TransportKind = 'utp' | 'tcp';

/**
 * Which transport a stream from a dual (or any) network runs on: the stream's own
 * `Stream.transport` (also passed on by wrappers), else whether it is a uTP stream.
 */
export function transportOf(stream: Stream): TransportKind {
  return stream.transport === 'utp' || isUtpStream(stream) ? 'utp' : 'tcp';
}

export function dualNetwork(
  utp: UtpNetwork,
  tcp: Network,
  options: DualNetworkOptions = {},
): Network {
  const mode = options.transport ?? 'both';
  const utpTimeout = options.utpDialTimeoutMs ?? 3000;
  return {
    clock: utp.clock,
    random: utp.random,
    bindDatagram: (bind) => utp.bindDatagram(bind),

    async listen(bind: BindOptions, onStream: (stream: Stream) => void): Promise<StreamListener> {
      if (mode === 'tcp') return tcp.listen(bind, onStream);
      const u = await utp.listen(bind, onStream);
      if (mode === 'utp') return u;
      try {
        // The same port number on TCP, as peers expect one port for both.
        const t = await tcp.listen({ host: bind.host, port: u.localAddress.port }, onStream);
        return {
          localAddress: u.localAddress,
          close: async () => {
            await Promise.all([u.close(), t.close()]);
          },
        };
      } catch (error) {
        await u.close();
        throw error;
      }
    },

    async dial(to: Address, dial: DialOptions = {}): Promise<Stream> {
      if (mode === 'tcp') return tcp.dial(to, dial);
      if (mode === 'utp') return utp.dial(to, dial);
      try {
        const timeoutMs = Math.min(utpTimeout, dial.timeoutMs ?? utpTimeout);
        return await utp.dial(to, { ...dial, timeoutMs });
      } catch (error) {
        if (isTransportError(error, 'ABORTED') || isTransportError(error, 'INVALID_ADDRESS')) {
          throw error;
        }
        return tcp.dial(to, dial);
      }
    },
  };
}
