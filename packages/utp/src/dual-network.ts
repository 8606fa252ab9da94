/**
 * `dualNetwork(utp, tcp)`: uTP first, TCP as the fallback, on the same port number, as
 * BitTorrent clients do. `listen` accepts both (uTP on UDP port P, TCP on TCP port P); `dial`
 * tries uTP and falls back to TCP when uTP gets no answer or is refused; `bindDatagram` is the
 * uTP network's (the DHT's side of the one UDP port). `transportOf(stream)` tells which one a
 * stream uses.
 *
 * The dial is a race that uTP starts with, as libtorrent's effectively is ("happy eyeballs",
 * RFC 8305): uTP goes first; TCP starts at once when uTP is refused (ST_RESET, or ICMP port
 * unreachable from a peer without UDP) or after `tcpHeadStartMs` without an answer; the first
 * stream that connects wins and the other attempt is called off.
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
  /** How long a uTP dial may take at most, ms (default 3,000; TCP runs beside it meanwhile). */
  utpDialTimeoutMs?: number;
  /** How long uTP dials alone before TCP starts beside it, ms (default 1,000). */
  tcpHeadStartMs?: number;
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
  const headStart = options.tcpHeadStartMs ?? 1000;
  const clock = utp.clock;

  /** uTP first, TCP after the head start or at once when uTP fails; the first stream wins. */
  function race(to: Address, dial: DialOptions): Promise<Stream> {
    const { signal } = dial;
    if (signal?.aborted) return utp.dial(to, dial); // rejects with ABORTED
    return new Promise<Stream>((resolve, reject) => {
      const stopUtp = new AbortController();
      const stopTcp = new AbortController();
      let won = false;
      let tcpStarted = false;
      let failures = 0;
      let lastError: unknown;
      let tcpError: unknown;
      const onAbort = (): void => {
        stopUtp.abort(signal?.reason);
        stopTcp.abort(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const settle = (): void => {
        timer.cancel();
        signal?.removeEventListener('abort', onAbort);
      };
      const connected = (stream: Stream, loser: AbortController): void => {
        if (won) {
          stream.destroy(); // the other one connected first
          return;
        }
        won = true;
        settle();
        loser.abort();
        resolve(stream);
      };
      const failed = (error: unknown, attempts: number): void => {
        lastError = error;
        if (won) return;
        if (++failures >= attempts) {
          settle();
          reject(tcpError ?? lastError);
        }
      };
      const startTcp = (): void => {
        if (tcpStarted || won) return;
        tcpStarted = true;
        tcp.dial(to, { ...dial, signal: stopTcp.signal }).then(
          (stream) => connected(stream, stopUtp),
          (error: unknown) => {
            tcpError = error;
            failed(error, 2);
          },
        );
      };
      const timer = clock.setTimeout(startTcp, headStart);
      const timeoutMs = Math.min(utpTimeout, dial.timeoutMs ?? utpTimeout);
      utp.dial(to, { ...dial, timeoutMs, signal: stopUtp.signal }).then(
        (stream) => connected(stream, stopTcp),
        (error: unknown) => {
          if (isTransportError(error, 'INVALID_ADDRESS') || signal?.aborted) {
            stopTcp.abort(signal?.reason);
            failed(error, 1);
            return;
          }
          // Refused or no answer: TCP now (if not already under way), and its result decides.
          if (!tcpStarted) startTcp();
          failed(error, 2);
        },
      );
    });
  }
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
      return race(to, dial);
    },
  };
}
