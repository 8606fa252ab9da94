/**
 * The piece-exchange interop tests' own fixture: a tiny HTTP tracker (BEP 3 tracker response)
 * that hands a client the peerkit peer's address. Processes, ports and client options come from
 * the shared @peerkit/dev-kit/interop.
 */
import { createServer, type Server } from 'node:http';
import { encode } from '@peerkit/bencode';
import type { Address } from '@peerkit/transport';

export interface Tracker {
  readonly url: string;
  /** Ports clients announced (aria2's listen port, for instance). */
  readonly announcedPorts: number[];
  close(): Promise<void>;
}

/** An HTTP tracker answering every announce with `peers()` in compact form (BEP 3, BEP 23). */
export async function startTracker(peers: () => Address[]): Promise<Tracker> {
  const announcedPorts: number[] = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const port = Number(url.searchParams.get('port'));
    if (port > 0) announcedPorts.push(port);
    const list = peers();
    const compact = new Uint8Array(list.length * 6);
    list.forEach((p, i) => {
      p.host.split('.').forEach((octet, j) => {
        compact[i * 6 + j] = Number(octet);
      });
      compact[i * 6 + 4] = p.port >> 8;
      compact[i * 6 + 5] = p.port & 0xff;
    });
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(
      Buffer.from(
        encode({ interval: 5, 'min interval': 5, complete: 1, incomplete: 1, peers: compact }),
      ),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/announce`,
    announcedPorts,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
