/**
 * A simulated host: one address, and a transport `Network` for the code running on it.
 *
 * Hosts are lazy: an idle host is a few fields and its address. The network object, its
 * random generator, and the maps of sockets, listeners and streams are created on first use,
 * which keeps a 10,000-host simulation small.
 *
 * A crash ends the current incarnation: its sockets close, its streams reset, its timers never
 * fire again, and every later call on its old `network` fails with `CLOSED`. A restart starts a
 * new incarnation on the same address with a fresh `network` (and a fresh random stream).
 */
import {
  type Address,
  type BindOptions,
  type Clock,
  type DatagramSocket,
  type DialOptions,
  type Network,
  type Stream,
  type StreamListener,
  TransportError,
} from '@peerkit/transport';
import { VirtualClock } from './clock';
import { RANDOM_HOST, type SimCore } from './core';
import { SimDatagramSocket } from './datagram';
import type { Prng } from './prng';
import type { SimStream } from './stream';
import { dial, SimListener } from './stream-setup';

/** A host's access link: capacities in bytes/s, and when each direction is free again. */
export interface AccessLink {
  uplink: number;
  downlink: number;
  uplinkBusyUntil: number;
  downlinkBusyUntil: number;
  /** Bytes the uplink's queue holds before it drops datagrams (tail drop); `Infinity`: no limit. */
  uplinkQueue?: number;
  /** Bytes the downlink's queue holds before it drops datagrams; `Infinity`: no limit. */
  downlinkQueue?: number;
  /** Datagrams dropped because the uplink's queue was full. */
  uplinkDrops?: number;
  /** Datagrams dropped because the downlink's queue was full. */
  downlinkDrops?: number;
}

const FIRST_EPHEMERAL_PORT = 49152;
const EPHEMERAL_PORTS = 65536 - FIRST_EPHEMERAL_PORT;

/** Bind hosts a simulated host accepts besides its own address; all mean "this host". */
const BIND_ALIASES = new Set(['0.0.0.0', '::', '127.0.0.1', '::1']);

export class SimHost {
  /** Index of the host in its simulation (0, 1, 2, ...). */
  readonly id: number;
  /** The host's IP address (IPv4 or IPv6 literal). */
  readonly address: string;
  /** The family of `address`; datagram sockets reach only addresses of this family (as in Node). */
  readonly family: 'IPv4' | 'IPv6';
  /** @internal */
  readonly core: SimCore;
  /**
   * @internal The host's access link, when limited (`Simulation.addHost` / `setHostBandwidth`);
   * absent (unlimited) by default, so unlimited hosts carry no extra state.
   */
  access: AccessLink | undefined;
  /** @internal Partition group: hosts talk only within their group. */
  group = 0;
  /** @internal */
  alive = true;
  /** @internal Incarnation number, bumped by each crash. */
  generation = 0;
  /** @internal */
  /** The first bound datagram socket; most hosts never need more (and so never need a map). */
  private firstSocket: SimDatagramSocket | undefined;
  /** Further datagram sockets by port. */
  private moreSockets: Map<number, SimDatagramSocket> | undefined;
  /** @internal */
  listeners: Map<number, SimListener> | undefined;
  /** @internal Local ports of dialled streams. */
  streamPorts: Set<number> | undefined;
  /** @internal Open streams (for crash). */
  streams: Set<SimStream> | undefined;
  private current: SimNetwork | undefined;
  private nextPort = FIRST_EPHEMERAL_PORT;

  /** @internal Use `Simulation.addHost`. */
  constructor(core: SimCore, id: number, address: string) {
    this.core = core;
    this.id = id;
    this.address = address;
    this.family = address.includes(':') ? 'IPv6' : 'IPv4';
  }

  /** Upload capacity of the host's access link in bytes/s (`Infinity`: unlimited). */
  get uplink(): number {
    return this.access?.uplink ?? Number.POSITIVE_INFINITY;
  }

  /** Download capacity of the host's access link in bytes/s (`Infinity`: unlimited). */
  get downlink(): number {
    return this.access?.downlink ?? Number.POSITIVE_INFINITY;
  }

  /**
   * How long a datagram sent (or received) now waits in the access link's queue before its
   * first bit goes out, in ms: the queuing delay the link's backlog causes (0 when idle or
   * unlimited).
   */
  queueDelay(): { uplink: number; downlink: number } {
    const access = this.access;
    const now = this.core.now;
    if (access === undefined) return { uplink: 0, downlink: 0 };
    return {
      uplink: Math.max(0, access.uplinkBusyUntil - now),
      downlink: Math.max(0, access.downlinkBusyUntil - now),
    };
  }

  /** Datagrams the access link's finite queues dropped so far. */
  queueDrops(): { uplink: number; downlink: number } {
    return { uplink: this.access?.uplinkDrops ?? 0, downlink: this.access?.downlinkDrops ?? 0 };
  }

  /** Whether the host is up (not crashed). */
  get isUp(): boolean {
    return this.alive;
  }

  /**
   * The `Network` of the host's current incarnation: pass it to the protocol code that runs
   * on this host. After a crash it is dead (every call fails with `CLOSED`); after a restart
   * this getter returns a new one.
   */
  get network(): SimNetwork {
    this.current ??= new SimNetwork(this, this.generation);
    return this.current;
  }

  /** @internal Ends the current incarnation. */
  crash(): void {
    if (!this.alive) return;
    this.alive = false;
    this.generation++;
    this.current = undefined;
    for (const s of this.datagramSocketList()) s.release();
    this.listeners = undefined;
    const streams = this.streams;
    this.streams = undefined;
    this.streamPorts = undefined;
    if (streams) for (const s of [...streams]) s.hostCrashed();
  }

  /** @internal The datagram socket bound to `port`, if any. */
  datagramSocket(port: number): SimDatagramSocket | undefined {
    const first = this.firstSocket;
    if (first !== undefined && first.port === port) return first;
    return this.moreSockets?.get(port);
  }

  /** @internal */
  addDatagramSocket(socket: SimDatagramSocket): void {
    if (this.firstSocket === undefined) this.firstSocket = socket;
    else {
      this.moreSockets ??= new Map();
      this.moreSockets.set(socket.port, socket);
    }
  }

  /** @internal */
  removeDatagramSocket(socket: SimDatagramSocket): void {
    if (this.firstSocket === socket) this.firstSocket = undefined;
    else if (this.moreSockets?.get(socket.port) === socket) this.moreSockets.delete(socket.port);
  }

  /** @internal Every bound datagram socket. */
  datagramSocketList(): SimDatagramSocket[] {
    const list = this.moreSockets ? [...this.moreSockets.values()] : [];
    if (this.firstSocket !== undefined) list.unshift(this.firstSocket);
    return list;
  }

  /** @internal Starts a new incarnation. */
  restart(): void {
    if (this.alive) return;
    this.alive = true;
    this.nextPort = FIRST_EPHEMERAL_PORT;
  }

  /** @internal A free ephemeral port (49152-65535) for which `taken` is false. */
  allocatePort(taken: (port: number) => boolean): number {
    for (let i = 0; i < EPHEMERAL_PORTS; i++) {
      const port = this.nextPort;
      this.nextPort = port === 65535 ? FIRST_EPHEMERAL_PORT : port + 1;
      if (!taken(port)) return port;
    }
    throw new TransportError('ADDRESS_IN_USE', `no free ephemeral port on ${this.address}`);
  }

  /** @internal Throws `INVALID_ADDRESS` unless `host` names this host. */
  checkBindHost(options: BindOptions): number {
    if (options.host !== this.address && !BIND_ALIASES.has(options.host)) {
      throw new TransportError(
        'INVALID_ADDRESS',
        `cannot bind ${options.host}: the simulated host's address is ${this.address}`,
      );
    }
    const port = options.port ?? 0;
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new TransportError('INVALID_ADDRESS', `invalid port ${port}`);
    }
    return port;
  }
}

/** The transport `Network` of one incarnation of a simulated host. */
export class SimNetwork implements Network {
  readonly host: SimHost;
  readonly clock: Clock;
  readonly random: Prng;
  private readonly generation: number;

  constructor(host: SimHost, generation: number) {
    this.host = host;
    this.generation = generation;
    this.random = host.core.root.derive(RANDOM_HOST, host.id, generation);
    this.clock = new VirtualClock(host.core, this);
  }

  /** True once the host crashed (this incarnation is over). */
  get dead(): boolean {
    return this.host.generation !== this.generation || !this.host.alive;
  }

  bindDatagram(options: BindOptions): Promise<DatagramSocket> {
    const core = this.host.core;
    core.promised();
    try {
      this.checkAlive();
      const host = this.host;
      let port = host.checkBindHost(options);
      if (port === 0) port = host.allocatePort((p) => host.datagramSocket(p) !== undefined);
      else if (host.datagramSocket(port) !== undefined) {
        throw new TransportError('ADDRESS_IN_USE', `udp ${host.address}:${port} is in use`);
      }
      const socket = new SimDatagramSocket(host, port);
      host.addDatagramSocket(socket);
      return Promise.resolve(socket);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  listen(options: BindOptions, onStream: (stream: Stream) => void): Promise<StreamListener> {
    const core = this.host.core;
    core.promised();
    try {
      this.checkAlive();
      const host = this.host;
      let port = host.checkBindHost(options);
      host.listeners ??= new Map();
      const listeners = host.listeners;
      const taken = (p: number) => listeners.has(p) || host.streamPorts?.has(p) === true;
      if (port === 0) port = host.allocatePort(taken);
      else if (taken(port)) {
        throw new TransportError('ADDRESS_IN_USE', `tcp ${host.address}:${port} is in use`);
      }
      const listener = new SimListener(this, port, onStream);
      listeners.set(port, listener);
      return Promise.resolve(listener);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  dial(to: Address, options?: DialOptions): Promise<Stream> {
    return dial(this, to, options ?? {});
  }

  /** @internal */
  checkAlive(): void {
    if (this.dead) throw new TransportError('CLOSED', `host ${this.host.address} has crashed`);
  }
}
