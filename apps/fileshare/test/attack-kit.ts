/**
 * What the attack tests (`*.attack.test.ts`) stage around real `peerkit-share` processes, on real
 * sockets on loopback: hostile peers speaking the peer wire by hand (`RawPeer`), a gate that holds
 * connections to an honest peer until it is opened (`Gate`), and ports reserved for a process
 * started later. Everything here has `close()`; the tests close it in `finally`.
 */

import { mkdir, readFile } from 'node:fs/promises';
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import { join } from 'node:path';
import {
  encodeHandshake,
  parseTorrent,
  requireV1,
  type TorrentInfo,
  torrentInfoFromMetainfo,
  WireDecoder,
  type WireFrame,
} from '@peerkit/piece-exchange';
import type { CliProcess } from '../src/cli-process';
import { type Harness, randomFile } from './helpers';

/** One connection of a `RawPeer`: the frames received so far and a way to answer. */
export class RawConnection {
  readonly frames: WireFrame[] = [];
  /** The remote's handshake arrived and ours was sent. */
  handshaken = false;
  closed = false;
  readonly #decoder = new WireDecoder({ handshake: true });

  constructor(
    readonly socket: Socket,
    onFrame: (connection: RawConnection, frame: WireFrame) => void,
    onClose: (connection: RawConnection) => void,
  ) {
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
      onClose(this);
    });
    socket.on('data', (chunk: Buffer) => {
      try {
        this.#decoder.push(chunk);
        for (let frame = this.#decoder.next(); frame; frame = this.#decoder.next()) {
          // A piece block is a view into the chunk: keep a copy.
          const kept = frame.type === 'piece' ? { ...frame, block: frame.block.slice() } : frame;
          this.frames.push(kept);
          onFrame(this, kept);
        }
      } catch {
        // Not the plain peer wire (e.g. an MSE handshake): hang up, as a plain-only client does;
        // the dialler then retries in plain.
        socket.destroy();
      }
    });
  }

  send(bytes: Uint8Array): void {
    if (!this.closed) this.socket.write(bytes);
  }
}

export interface RawPeerOptions {
  infoHash: Uint8Array;
  peerId: Uint8Array;
  extensions: { extended?: boolean; fast?: boolean };
  /** Called with the remote's handshake once ours is sent: send the opening messages. */
  onHandshake(connection: RawConnection): void;
  /** Every later message. */
  onMessage?(connection: RawConnection, frame: WireFrame): void;
}

/**
 * A peer on 127.0.0.1 written by hand: it listens, answers a plain handshake for `infoHash` with
 * its own and then behaves as the test says (a liar, a silent peer, a corrupt seeder).
 */
export class RawPeer {
  readonly connections = new Set<RawConnection>();
  /** Every connection ever accepted. */
  accepted = 0;
  readonly #server: Server;

  private constructor(server: Server) {
    this.#server = server;
  }

  static listen(options: RawPeerOptions): Promise<RawPeer> {
    const server = createServer();
    const peer = new RawPeer(server);
    server.on('connection', (socket) => {
      peer.accepted++;
      const connection = new RawConnection(
        socket,
        (c, frame) => {
          if (frame.type === 'handshake') {
            c.send(
              encodeHandshake({
                infoHash: options.infoHash,
                peerId: options.peerId,
                extensions: options.extensions,
              }),
            );
            c.handshaken = true;
            options.onHandshake(c);
          } else {
            options.onMessage?.(c, frame);
          }
        },
        (c) => peer.connections.delete(c),
      );
      peer.connections.add(connection);
    });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve(peer));
    });
  }

  get port(): number {
    const address = this.#server.address();
    if (address === null || typeof address === 'string') throw new Error('not listening');
    return address.port;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Stops listening and hangs up every connection: the peer leaves. */
  close(): Promise<void> {
    for (const c of this.connections) c.socket.destroy();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

/**
 * A relay on 127.0.0.1 in front of a peer: connections are accepted and held (nothing read or
 * forwarded) until `open()`, then piped to the peer both ways. It counts what it accepted.
 */
export class Gate {
  accepted = 0;
  #open = false;
  readonly #held: Socket[] = [];
  readonly #sockets = new Set<Socket>();
  readonly #server: Server;

  private constructor(
    server: Server,
    private readonly targetPort: number,
  ) {
    this.#server = server;
  }

  static listen(targetPort: number): Promise<Gate> {
    const server = createServer({ pauseOnConnect: true });
    const gate = new Gate(server, targetPort);
    server.on('connection', (socket) => gate.#accept(socket));
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve(gate));
    });
  }

  get address(): string {
    const address = this.#server.address();
    if (address === null || typeof address === 'string') throw new Error('not listening');
    return `127.0.0.1:${address.port}`;
  }

  /** Lets every held and every later connection through. */
  open(): void {
    this.#open = true;
    for (const socket of this.#held.splice(0)) this.#pipe(socket);
  }

  #accept(socket: Socket): void {
    this.accepted++;
    this.#track(socket);
    if (this.#open) this.#pipe(socket);
    else this.#held.push(socket);
  }

  #pipe(socket: Socket): void {
    if (socket.destroyed) return;
    const upstream = tcpConnect({ host: '127.0.0.1', port: this.targetPort });
    this.#track(upstream);
    const end = () => {
      socket.destroy();
      upstream.destroy();
    };
    socket.on('close', end);
    upstream.on('close', end);
    socket.pipe(upstream);
    upstream.pipe(socket);
    socket.resume();
  }

  #track(socket: Socket): void {
    this.#sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => this.#sockets.delete(socket));
  }

  close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

/**
 * A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, then released), for a
 * peer that must be down now and come up later at the same address.
 */
export function reservePort(): Promise<number> {
  const server = createServer();
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Resolves when `check()` holds, polling every 50 ms; rejects after `timeoutMs` naming `what`,
 * with what `context` says (e.g. a process's events) to diagnose it.
 */
export function until(
  check: () => boolean,
  timeoutMs: number,
  what: string,
  context: () => string = () => '',
): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const poll = () => {
      if (check()) return resolve();
      if (Date.now() - started > timeoutMs)
        return reject(
          new Error(`timed out after ${timeoutMs} ms waiting for ${what} ${context()}`),
        );
      setTimeout(poll, 50);
    };
    poll();
  });
}

/** An honest `peerkit-share share` process on 127.0.0.1 (TCP, no DHT) and what it serves. */
export interface HonestSeeder extends SharedFile {
  process: CliProcess;
  /** Its TCP port. */
  port: number;
  address: string;
  magnet: string;
}

/** A random file and its .torrent, made by `peerkit-share create`. */
export interface SharedFile {
  file: string;
  torrentFile: string;
  info: TorrentInfo;
  /** The info dictionary's size in bytes (BEP 9 `metadata_size`). */
  metadataSize: number;
  /** SHA-256 of the file (hex). */
  sha256: string;
}

/**
 * Writes a random file of `size` bytes as `<dir>/seed/<name>` and makes its .torrent with
 * `peerkit-share create` (pieces of `pieceLength`).
 */
export async function sharedFile(
  harness: Harness,
  dir: string,
  options: { name: string; size: number; pieceLength: number },
): Promise<SharedFile> {
  await mkdir(join(dir, 'seed'), { recursive: true });
  const file = join(dir, 'seed', options.name);
  const sha256 = await randomFile(file, options.size);
  const torrentFile = join(dir, `${options.name}.torrent`);
  const create = harness.spawn([
    'create',
    file,
    '-o',
    torrentFile,
    '--piece-length',
    String(options.pieceLength),
    '--json',
  ]);
  const created = await create.exited;
  if (created.code !== 0) throw new Error(`create failed: ${create.stderr}`);
  const info = torrentInfoFromMetainfo(requireV1(parseTorrent(await readFile(torrentFile))));
  if (info.infoBytes === undefined) throw new Error('no info dictionary bytes');
  return { file, torrentFile, info, metadataSize: info.infoBytes.length, sha256 };
}

/**
 * A `sharedFile` shared by `peerkit-share share` with `extra` options added (e.g.
 * `--max-upload-rate`). Resolves once it listens.
 */
export async function honestSeeder(
  harness: Harness,
  dir: string,
  options: { name: string; size: number; pieceLength: number; extra?: readonly string[] },
): Promise<HonestSeeder> {
  const shared = await sharedFile(harness, dir, options);
  const seeder = seederProcess(harness, dir, shared.file, shared.torrentFile, options.extra ?? []);
  const listening = await seeder.waitForEvent('listening', 20_000);
  const torrent = await seeder.waitForEvent('torrent', 20_000);
  const port = Number(listening.port);
  return {
    ...shared,
    process: seeder,
    port,
    address: `127.0.0.1:${port}`,
    magnet: String(torrent.magnet),
  };
}

/** `peerkit-share share <file> --torrent <torrentFile>` on 127.0.0.1 over TCP, no DHT. */
export function seederProcess(
  harness: Harness,
  dir: string,
  file: string,
  torrentFile: string,
  extra: readonly string[],
): CliProcess {
  return harness.spawn([
    'share',
    file,
    '--torrent',
    torrentFile,
    '--host',
    '127.0.0.1',
    '--no-dht',
    '--transport',
    'tcp',
    '--state-dir',
    join(dir, `state-${Math.random().toString(36).slice(2)}`),
    '--json',
    ...extra,
  ]);
}

/**
 * `peerkit-share get <what>` over TCP on 127.0.0.1, no DHT, from the `peers` given, into
 * `<dir>/out`; it exits when done, or with 1 after `timeoutSeconds`.
 */
export function getter(
  harness: Harness,
  dir: string,
  what: string,
  peers: readonly string[],
  timeoutSeconds: number,
): CliProcess {
  return harness.spawn([
    'get',
    what,
    ...peers.flatMap((p) => ['--peer', p]),
    '--no-dht',
    '--transport',
    'tcp',
    '--host',
    '127.0.0.1',
    '--out',
    join(dir, 'out'),
    '--state-dir',
    join(dir, 'get-state'),
    '--exit-when-done',
    '--timeout',
    String(timeoutSeconds),
    '--json',
  ]);
}

/** A process's events other than `status`, and the end of its stderr: for failure messages. */
export function diagnose(process: CliProcess): string {
  const events = process.events.filter((e) => e.event !== 'status');
  return `${JSON.stringify(events)}\n${process.stderr.slice(-2000)}`;
}
