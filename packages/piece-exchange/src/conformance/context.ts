/**
 * What the peer rules know about their target (a peer that seeds one torrent): its address and
 * the torrent (from its .torrent file), connections to it, and the torrent's data as the target
 * serves it, each piece checked against its SHA-1 from the metainfo before a rule compares blocks
 * with it.
 */
import { createHash } from 'node:crypto';
import { ensure, RuleViolation, type TargetContext } from '@peerkit/conformance';
import type { Address, Network } from '@peerkit/transport';
import type { V1Metainfo } from '../metainfo/types';
import type { HandshakeExtensions } from '../wire/handshake';
import { BLOCK_LENGTH, encodeRequest, INTERESTED } from '../wire/messages';
import { WireProbe } from './wire-probe';

export interface PeerContext extends TargetContext {
  readonly network: Network;
  readonly address: Address;
  readonly torrent: V1Metainfo;
  /**
   * A fresh peer id (20 bytes, `-PKCONF-` and random): one per connection, since peers refuse
   * a second connection from a peer id they are already connected to.
   */
  peerId(): Uint8Array;
  /** Longest wait for the target to unchoke us (choking rounds are often 10 s). */
  readonly unchokeTimeoutMs: number;
  /** Opens a raw connection (closing the shared one: at most one connection at a time). */
  dial(): Promise<WireProbe>;
  /** Dials the target and exchanges handshakes; fails the rule when no handshake comes back. */
  connect(extensions?: Partial<HandshakeExtensions>): Promise<WireProbe>;
  /**
   * A connection on which the target has unchoked us, kept across cases (a new one after the
   * target closed it). Throws a `RuleViolation` when the target never unchokes.
   */
  unchoked(): Promise<WireProbe>;
  /** Piece `index` as the target serves it in 16 KiB blocks, checked against its SHA-1. */
  piece(index: number): Promise<Uint8Array>;
  /** Size of piece `index`. */
  pieceSize(index: number): number;
  close(): Promise<void>;
}

export interface PeerContextOptions {
  /** Longest wait for one expected answer, in milliseconds. */
  timeoutMs: number;
  /** Longest wait to be unchoked after "interested" (default the larger of `timeoutMs` and 30 s). */
  unchokeTimeoutMs?: number;
}

/**
 * Opens the context of the peer rules for the peer at `address`, which seeds `torrent`. Nothing
 * is dialed yet: each rule opens the connections it needs through the context.
 */
export function openPeerContext(
  network: Network,
  address: Address,
  torrent: V1Metainfo,
  options: PeerContextOptions,
): PeerContext {
  const { timeoutMs } = options;
  const unchokeTimeoutMs = options.unchokeTimeoutMs ?? Math.max(timeoutMs, 30_000);
  const peerId = () => {
    const id = new Uint8Array(20);
    id.set(new TextEncoder().encode('-PKCONF-'));
    id.set(network.random.bytes(12), 8);
    return id;
  };
  const open = new Set<WireProbe>();
  const verified = new Map<number, Uint8Array>();
  let shared: WireProbe | undefined;

  const pieceSize = (index: number) =>
    index === torrent.pieceCount - 1 ? torrent.lastPieceLength : torrent.pieceLength;

  /**
   * Opens a raw connection. Some clients (Transmission) keep one connection per IP and drop a
   * second one, so the shared unchoked connection is closed first: at most one is open at a time.
   */
  async function dial(): Promise<WireProbe> {
    if (shared !== undefined) {
      shared.close();
      shared = undefined;
    }
    const connection = await WireProbe.open(network, address, timeoutMs).catch((error: unknown) => {
      throw new RuleViolation(
        `cannot connect: ${error instanceof Error ? error.message : String(error)}`,
      );
    });
    open.add(connection);
    void connection.stream.closed.then(() => open.delete(connection));
    return connection;
  }

  /** Dials and exchanges handshakes (by default with the extension protocol and fast bits). */
  async function connect(
    extensions: Partial<HandshakeExtensions> = { extended: true, fast: true },
  ) {
    // A client may not have noticed yet that our previous connection closed and drop this one
    // at once as a duplicate: try again a little later (three times at most).
    for (let attempt = 1; ; attempt++) {
      const connection = await dial();
      const hs = await connection.handshake(torrent.infoHash, peerId(), extensions, timeoutMs);
      if (hs !== undefined) return connection;
      connection.close();
      if (!connection.ended || attempt === 3) {
        throw new RuleViolation(
          `no handshake back${connection.error ? ` (${connection.error.message})` : ''}`,
        );
      }
      await new Promise<void>((resolve) => network.clock.setTimeout(resolve, 300 * attempt));
    }
  }

  /** Sends "interested" on a fresh connection and waits for "unchoke" (BEP 3). */
  async function unchoked(): Promise<WireProbe> {
    if (shared !== undefined && !shared.ended) return shared;
    const connection = await connect();
    shared = connection;
    await connection.send(INTERESTED);
    const unchoke = await connection.next((f) => f.type === 'unchoke', unchokeTimeoutMs);
    if (unchoke === undefined) {
      connection.close();
      shared = undefined;
      throw new RuleViolation(`not unchoked within ${unchokeTimeoutMs} ms after "interested"`);
    }
    return connection;
  }

  /** Fetches piece `index` in standard 16 KiB requests and checks it against its SHA-1 (BEP 3). */
  async function piece(index: number): Promise<Uint8Array> {
    const cached = verified.get(index);
    if (cached !== undefined) return cached;
    const connection = await unchoked();
    const size = pieceSize(index);
    const data = new Uint8Array(size);
    const blocks = Math.ceil(size / BLOCK_LENGTH);
    for (let b = 0; b < blocks; b++) {
      const begin = b * BLOCK_LENGTH;
      await connection.send(encodeRequest(index, begin, Math.min(BLOCK_LENGTH, size - begin)));
    }
    for (let b = 0; b < blocks; b++) {
      const begin = b * BLOCK_LENGTH;
      const frame = await connection.next(
        (f) => f.type === 'piece' && f.index === index && f.begin === begin,
        timeoutMs,
      );
      ensure(
        frame?.type === 'piece',
        `no block ${index}:${begin} in answer to a standard 16 KiB request`,
      );
      ensure(
        frame.block.length === Math.min(BLOCK_LENGTH, size - begin),
        `block ${index}:${begin} has ${frame.block.length} bytes`,
      );
      data.set(frame.block, begin);
    }
    const digest = createHash('sha1').update(data).digest();
    const expected = torrent.pieces.subarray(index * 20, index * 20 + 20);
    ensure(
      Buffer.from(digest).equals(Buffer.from(expected)),
      `piece ${index} served in 16 KiB blocks does not hash to its SHA-1 in the metainfo`,
    );
    verified.set(index, data);
    return data;
  }

  return {
    network,
    address,
    torrent,
    peerId,
    timeoutMs,
    unchokeTimeoutMs,
    dial,
    connect,
    unchoked,
    piece,
    pieceSize,
    async alive() {
      // An open connection the target keeps up is proof enough (and the only one we can have
      // with clients that allow one connection per IP).
      if (shared !== undefined && !shared.ended) return true;
      try {
        const connection = await connect();
        connection.close();
        return true;
      } catch {
        return false;
      }
    },
    async close() {
      for (const connection of open) connection.close();
      open.clear();
    },
  };
}
