/**
 * `peerkit-share tracker`: piece-exchange's in-memory tracker as a program, to see the protocol
 * from the tracker's side: one swarm per torrent served over HTTP (BEP 3, compact BEP 23, IPv6
 * BEP 7, scrape BEP 48) on TCP port P and over UDP (BEP 15) on UDP port P, bounded in memory.
 */
import {
  type HttpTrackerRequestLog,
  HttpTrackerServer,
  TrackerSwarms,
  UdpTrackerServer,
} from '@peerkit/piece-exchange';
import { type Address, isTransportError, type Network, nodeNetwork } from '@peerkit/transport';
import { CliError } from '../errors';

export interface TrackerCommandOptions {
  host?: string;
  /** TCP (HTTP) and UDP port (default 6969; 0: a free port number free for both). */
  port?: number;
  /** Announce interval told to clients, seconds (default 1800). */
  interval?: number;
  network?: Network;
  /** Sees every HTTP request (for `-v`). */
  onRequest?: (entry: HttpTrackerRequestLog) => void;
}

export interface TrackerServers {
  readonly http: HttpTrackerServer;
  readonly udp: UdpTrackerServer;
  /** The one port number, TCP and UDP. */
  readonly address: Address;
  close(): Promise<void>;
}

/** Tries for a port 0 that is free on TCP and UDP at once. */
const FREE_PORT_TRIES = 8;

export async function runTracker(options: TrackerCommandOptions): Promise<TrackerServers> {
  const network = options.network ?? nodeNetwork();
  const host = options.host ?? '0.0.0.0';
  const wanted = options.port ?? 6969;
  const swarms = new TrackerSwarms(network.random, {
    ...(options.interval !== undefined ? { interval: options.interval } : {}),
  });
  for (let attempt = 1; ; attempt++) {
    let http: HttpTrackerServer;
    try {
      http = await HttpTrackerServer.open(
        network,
        { host, port: wanted, swarms },
        options.onRequest,
      );
    } catch (error) {
      throw inUse(error, 'TCP', wanted);
    }
    const port = http.address.port;
    try {
      const udp = await UdpTrackerServer.open(network, { host, port, swarms });
      return {
        http,
        udp,
        address: http.address,
        close: async () => {
          await http.close();
          await udp.close();
        },
      };
    } catch (error) {
      await http.close();
      // Port 0: the TCP port the system chose may be taken on UDP; choose again.
      if (wanted === 0 && attempt < FREE_PORT_TRIES && isTransportError(error, 'ADDRESS_IN_USE'))
        continue;
      throw inUse(error, 'UDP', port);
    }
  }
}

function inUse(error: unknown, kind: 'TCP' | 'UDP', port: number): unknown {
  if (isTransportError(error, 'ADDRESS_IN_USE'))
    return new CliError(
      'PORT_IN_USE',
      `${kind} port ${port} is already in use (choose another with --port)`,
      { cause: error },
    );
  return error;
}
