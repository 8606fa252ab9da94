/**
 * What a running node reports. The CLI prints these as one JSON object per line (`--json`) or
 * as a progress bar and a few log lines; tests and the demo read the JSON lines.
 */

/**
 * Per-peer totals of one node, by the peer's listen address (`host:port`; the connection's
 * address when the peer never told it): bytes both ways, the verified pieces it sent whole
 * (`pieces`), and those it sent part of while other peers sent the rest (`sharedPieces`).
 */
export interface PeerTotals {
  readonly [address: string]: {
    readonly downloaded: number;
    readonly uploaded: number;
    readonly pieces: number;
    readonly sharedPieces: number;
  };
}

export interface StatusFields {
  readonly verified: number;
  readonly pieces: number;
  readonly length: number;
  readonly downloaded: number;
  readonly uploaded: number;
  /** Bytes per second, over the last few seconds. */
  readonly downloadRate: number;
  readonly uploadRate: number;
  readonly peers: number;
  /** Bytes still to download (exact: BEP 3 `left`); undefined before the metadata is known. */
  readonly left: number | undefined;
  /** Seconds left at the current rate, when downloading. */
  readonly eta: number | undefined;
}

export type NodeEvent =
  /** Hashing content into a torrent (`create`, `share`): bytes read so far of `length`. */
  | { type: 'hashing'; name: string; hashed: number; length: number }
  /**
   * The peer listener (uTP on UDP and/or TCP, per `transport`, on `port`) and, unless
   * `--no-dht`, the DHT (on the uTP socket unless `--dht-port` named another) are bound.
   */
  | {
      type: 'listening';
      port: number;
      dhtPort: number | undefined;
      host: string;
      transport: 'utp' | 'tcp' | 'both';
    }
  /** The torrent this node serves or fetches. */
  | {
      type: 'torrent';
      infoHash: string;
      magnet: string;
      name: string | undefined;
      torrentFile: string | undefined;
    }
  /** The info dictionary is known (at once for a .torrent, fetched from peers for a magnet). */
  | {
      type: 'metadata';
      name: string;
      length: number;
      pieces: number;
      pieceLength: number;
      files: number;
      fetched: boolean;
    }
  /** Pieces found verified on disk at start (resume data or re-check). */
  | { type: 'resumed'; verified: number; pieces: number }
  /** Joined the DHT: the routing table's size. */
  | { type: 'dht-ready'; nodes: number }
  /** announce_peer sent (BEP 5): how many nodes took it, how many peers the lookup found. */
  | { type: 'announced'; nodes: number; peers: number }
  /**
   * A tracker answered an announce (`announce`: started, completed, stopped, or undefined for a
   * regular one) with `peers` peers, its swarm's `seeders`/`leechers` when it said, and its
   * `warning message`. A tracker that failed (`failure reason`, garbage, timeout) is a `warning`
   * whose code is TRACKER_FAILURE, INVALID_RESPONSE or TIMEOUT; the next tracker is tried (BEP 12).
   */
  | {
      type: 'tracker';
      url: string;
      announce: string | undefined;
      peers: number;
      seeders?: number;
      leechers?: number;
      warning?: string;
    }
  /** A get_peers lookup finished. */
  | { type: 'lookup'; peers: number }
  /**
   * A peer connection opened (handshakes done), closed, or was refused or failed before opening
   * (`rejected`: a dial refused, timed out or unreachable; ourselves, a duplicate, a banned IP, a
   * failed handshake such as an encrypted one), with the `reason`.
   */
  | {
      type: 'peer';
      action: 'connect' | 'disconnect' | 'rejected';
      address: string;
      /** `connect`, `disconnect`: what carries the connection. */
      transport?: 'utp' | 'tcp';
      reason?: string;
    }
  /**
   * A piece passed its SHA-1 check and is stored; `from`: the peers that sent its blocks (listen
   * address when known, else connection address).
   */
  | { type: 'piece'; index: number; verified: number; pieces: number; from: readonly string[] }
  | { type: 'hash-failure'; index: number; peers: readonly string[] }
  /** Once a second. */
  | ({ type: 'status' } & StatusFields)
  /** Every piece is verified. */
  | {
      type: 'done';
      elapsedMs: number;
      downloaded: number;
      resumed: number;
      peerTotals: PeerTotals;
      path: string;
    }
  | { type: 'warning'; code: string; message: string }
  /**
   * A disk error while seeding (or sharing): the session paused and is resumed after
   * `retryInMs`; reported once until the condition clears (a piece is stored again).
   */
  | { type: 'storage-error'; code: string; message: string; retryInMs: number }
  /** The `--on-complete` command ran: its exit code (or the signal that ended it). */
  | { type: 'hook'; command: string; exitCode: number | null; signal: string | null }
  | { type: 'stopping'; signal: string | undefined }
  | ({ type: 'stopped'; peerTotals: PeerTotals } & StatusFields);

export type NodeEventHandler = (event: NodeEvent) => void;
