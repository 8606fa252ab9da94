/**
 * Reporting outgoing connections that fail before a peer wire handshake can start: refused,
 * timed out, unreachable. The torrent session retries such addresses quietly (with backoff);
 * this `Network` wrapper lets the user see each failure, as a `peer` event with action
 * `rejected` and the reason, so that `get --peer` to a dead address is never silent.
 */
import type { Address, Network } from '@peerkit/transport';
import { errorCode } from './errors';

/** A short reason for a failed dial, from the transport's or Node's error code. */
export function dialFailureReason(error: unknown): string {
  switch (errorCode(error)) {
    case 'ECONNREFUSED':
    case 'CONNECTION_REFUSED':
      return 'connection refused';
    case 'ETIMEDOUT':
    case 'TIMEOUT':
      return 'timed out';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'UNREACHABLE':
      return 'unreachable';
    case 'ECONNRESET':
    case 'CONNECTION_RESET':
      return 'connection reset';
    default: {
      const message = error instanceof Error ? error.message : String(error);
      return message.split('\n')[0] ?? message;
    }
  }
}

/** `network` whose failed dials are reported to `onFailure` (and still rejected as before). */
export function reportingDials(
  network: Network,
  onFailure: (address: Address, reason: string) => void,
): Network {
  return {
    clock: network.clock,
    random: network.random,
    bindDatagram: (options) => network.bindDatagram(options),
    listen: (options, onStream) => network.listen(options, onStream),
    dial: async (to, options) => {
      try {
        return await network.dial(to, options);
      } catch (error) {
        onFailure(to, dialFailureReason(error));
        throw error;
      }
    },
  };
}
