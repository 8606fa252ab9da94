/**
 * Simulated TCP connection set-up: a listener on a port, and `dial` sending SYN (retransmitted
 * with exponential backoff while lost, RFC 6298) until the SYN-ACK, an RST (nothing listens:
 * `CONNECTION_REFUSED`), no route (`UNREACHABLE`) or the dial timeout. The byte streams
 * themselves are in ./stream.ts.
 */
import {
  type Address,
  type DialOptions,
  type Stream,
  type StreamListener,
  TransportError,
} from '@peerkit/transport';
import { isValidDestination } from './datagram';
import type { SimNetwork } from './host';
import { sampleDelay } from './link';
import { SimStream, SYN_ACK } from './stream';
import { Kind } from './trace';

const DEFAULT_DIAL_TIMEOUT_MS = 10_000;
/** RFC 6298 section 2.1: the initial retransmission timeout is 1 second (used for SYNs). */
const INITIAL_SYN_RTO_MS = 1_000;

export class SimListener implements StreamListener {
  readonly localAddress: Address;
  private isClosed = false;

  constructor(
    readonly net: SimNetwork,
    port: number,
    readonly onStream: (stream: Stream) => void,
  ) {
    this.localAddress = { host: net.host.address, port };
  }

  close(): Promise<void> {
    this.net.host.core.promised();
    if (!this.isClosed) {
      this.isClosed = true;
      const listeners = this.net.host.listeners;
      if (listeners?.get(this.localAddress.port) === this) listeners.delete(this.localAddress.port);
    }
    return Promise.resolve();
  }
}

/** `Network.dial` of a simulated host: SYN (retransmitted while lost), then SYN-ACK or RST. */
export function dial(net: SimNetwork, to: Address, options: DialOptions): Promise<Stream> {
  const host = net.host;
  const core = host.core;
  core.promised();
  if (net.dead)
    return Promise.reject(new TransportError('CLOSED', `host ${host.address} has crashed`));
  if (!isValidDestination(to)) {
    return Promise.reject(
      new TransportError('INVALID_ADDRESS', `invalid address ${JSON.stringify(to)}`),
    );
  }
  const { signal } = options;
  if (signal?.aborted) return Promise.reject(new TransportError('ABORTED', 'dial aborted'));
  let port: number;
  try {
    port = host.allocatePort(
      (p) => host.streamPorts?.has(p) === true || host.listeners?.has(p) === true,
    );
  } catch (e) {
    return Promise.reject(e);
  }
  host.streamPorts ??= new Set();
  host.streamPorts.add(port);
  const local: Address = { host: host.address, port };
  const remote: Address = { host: to.host, port: to.port };
  const timeoutMs = options.timeoutMs ?? DEFAULT_DIAL_TIMEOUT_MS;

  return new Promise<Stream>((resolve, reject) => {
    let settled = false;
    let client: SimStream | undefined;
    const settle = (error: TransportError | undefined, stream?: SimStream): void => {
      if (settled) return;
      settled = true;
      core.queue.cancel(timer);
      signal?.removeEventListener('abort', onAbort);
      core.promised();
      if (error !== undefined) {
        if (client === undefined) host.streamPorts?.delete(port);
        else client.destroy();
        reject(error);
      } else resolve(stream as SimStream);
    };
    const onAbort = () => settle(new TransportError('ABORTED', 'dial aborted'));
    signal?.addEventListener('abort', onAbort);
    const timer = core.schedule(timeoutMs, () =>
      settle(
        net.dead
          ? new TransportError('CLOSED', `host ${host.address} has crashed`)
          : new TransportError(
              'TIMEOUT',
              `dial ${to.host}:${to.port} timed out after ${timeoutMs} ms`,
            ),
      ),
    );

    const dst = core.destination(host, to.host);
    core.trace.flow(Kind.Connect, core.now, host.id, local, dst === undefined ? -1 : dst.id, to, 0);
    if (dst === undefined) {
      // No such host: like an ICMP "host unreachable" from the first router.
      core.schedule(sampleDelay(core.defaultLink, core.linkRandom), () => {
        core.trace.flow(Kind.Refuse, core.now, host.id, local, -1, to, 0, 'no-host');
        settle(new TransportError('UNREACHABLE', `no route to ${to.host}`));
      });
      return;
    }

    const sendSyn = (attempt: number): void => {
      if (settled) return;
      const link = core.link(host, dst);
      if (!core.reachable(host, dst, link)) {
        lost(attempt);
        return;
      }
      core.at(core.arrivalTime(host, dst, link, 0), () => synArrives(attempt));
    };
    // A lost SYN is retransmitted with exponential backoff until the dial times out.
    const lost = (attempt: number): void => {
      const reason = dst.alive ? 'partition' : 'host-down';
      core.trace.flow(Kind.Drop, core.now, host.id, local, dst.id, to, 0, reason);
      core.schedule(INITIAL_SYN_RTO_MS * 2 ** attempt, () => sendSyn(attempt + 1));
    };
    const synArrives = (attempt: number): void => {
      if (settled) return;
      if (net.dead) {
        settle(new TransportError('CLOSED', `host ${host.address} has crashed`));
        return;
      }
      if (!core.reachable(host, dst, core.link(host, dst))) {
        lost(attempt);
        return;
      }
      const listener = dst.listeners?.get(to.port);
      if (listener === undefined) {
        // RST back: connection refused.
        const back = core.link(dst, host);
        core.at(core.arrivalTime(dst, host, back, 0), () => {
          core.trace.flow(Kind.Refuse, core.now, host.id, local, dst.id, to, 0, 'no-socket');
          settle(
            new TransportError('CONNECTION_REFUSED', `nothing listens on ${to.host}:${to.port}`),
          );
        });
        return;
      }
      const c = new SimStream(host, local, remote, true);
      const server = new SimStream(dst, listener.localAddress, local, false);
      c.peer = server;
      server.peer = c;
      client = c;
      c.onEstablished = () => settle(undefined, c);
      c.onEarlyFailure = (error) => settle(error);
      core.trace.flow(Kind.Accept, core.now, host.id, local, dst.id, listener.localAddress, 0);
      server.transmit(SYN_ACK, undefined);
      core.callUser(() => listener.onStream(server));
    };
    sendSyn(0);
  });
}
