/**
 * The raw KRPC peer of the conformance suite (BEP 5, "KRPC Protocol"): one datagram socket that
 * sends queries (or any bytes) to the target and collects what comes back from the target's
 * address. Replies are matched by source address, not by transaction id,
 * so that a wrong transaction id is seen (and reported) instead of silently dropped. Queries the
 * target sends to us (a ping to check us, say) are ignored.
 */

import { Wakeup } from '@peerkit/conformance';
import type { Address, DatagramSocket, Network } from '@peerkit/transport';
import { decodeMessage, encodeMessage, type KrpcMessage } from '../krpc';

/** One datagram from the target: decoded when it is valid KRPC, otherwise why not. */
export interface KrpcReply {
  readonly raw: Uint8Array;
  readonly message: KrpcMessage | undefined;
  readonly decodeError: string | undefined;
}

function sameHost(a: Address, b: Address): boolean {
  return a.port === b.port && a.host.replace(/^::ffff:/, '') === b.host.replace(/^::ffff:/, '');
}

function decodeReply(raw: Uint8Array): KrpcReply {
  try {
    return {
      raw,
      message: decodeMessage(raw, { maxMessageBytes: 65_536 }),
      decodeError: undefined,
    };
  } catch (error) {
    return {
      raw,
      message: undefined,
      decodeError: error instanceof Error ? error.message : String(error),
    };
  }
}

/**
 * Spaces datagrams out to at most `perSecond` (shared by the probes of one context), for targets
 * that rate-limit queries per IP (peerkit's default: 20 per second, bursts of 40).
 */
export class Pacer {
  private next = 0;

  constructor(
    private readonly network: Network,
    readonly perSecond: number | undefined,
  ) {}

  async wait(): Promise<void> {
    if (this.perSecond === undefined) return;
    const now = this.network.clock.now();
    const slot = Math.max(now, this.next);
    this.next = slot + 1000 / this.perSecond;
    if (slot > now)
      await new Promise<void>((resolve) => this.network.clock.setTimeout(resolve, slot - now));
  }
}

/**
 * The local host a probe binds to for `target`: the loopback of its family for a loopback
 * target, otherwise the wildcard address of its family.
 */
export function localHostFor(target: Address): string {
  if (target.host.startsWith('127.')) return '127.0.0.1';
  if (target.host === '::1') return '::1';
  return target.host.includes(':') ? '::' : '0.0.0.0';
}

/**
 * A raw KRPC peer talking to one target. `exchange` sends a query and returns the first reply;
 * `exchangeWithSentinel` tells "ignored" from "not yet answered"; `send` and `next` are the
 * parts of both, for sequences of your own.
 */
export class KrpcProbe {
  private inbox: KrpcReply[] = [];
  private readonly wakeup: Wakeup;
  private sentinel = 0;

  private constructor(
    readonly socket: DatagramSocket,
    private readonly network: Network,
    private readonly target: Address,
    private readonly pacer: Pacer,
  ) {
    this.wakeup = new Wakeup(network.clock);
    socket.onMessage((data, from) => {
      if (!sameHost(from, target)) return;
      const reply = decodeReply(data);
      if (reply.message?.y === 'q') return;
      this.inbox.push(reply);
      this.wakeup.wake();
    });
  }

  /** Binds a socket on `host` (default: see `localHostFor`) that talks to `target`. */
  static async open(
    network: Network,
    target: Address,
    host: string = localHostFor(target),
    pacer: Pacer = new Pacer(network, undefined),
  ): Promise<KrpcProbe> {
    return new KrpcProbe(await network.bindDatagram({ host }), network, target, pacer);
  }

  get localAddress(): Address {
    return this.socket.localAddress;
  }

  /** Drops replies still waiting from earlier exchanges. */
  clear(): void {
    this.inbox = [];
  }

  /** Sends `data` (or a message) to the target as soon as the pacer allows. */
  async send(data: Uint8Array | KrpcMessage): Promise<void> {
    await this.pacer.wait();
    this.socket.send(data instanceof Uint8Array ? data : encodeMessage(data), this.target);
  }

  /** The next reply from the target within `timeoutMs`, or undefined. */
  async next(timeoutMs: number): Promise<KrpcReply | undefined> {
    const deadline = this.network.clock.now() + timeoutMs;
    for (;;) {
      const reply = this.inbox.shift();
      if (reply !== undefined) return reply;
      const left = deadline - this.network.clock.now();
      if (left <= 0) return undefined;
      await this.wakeup.wait(left);
    }
  }

  /** Sends one query and waits for the first reply from the target. */
  async exchange(
    data: Uint8Array | KrpcMessage,
    timeoutMs: number,
  ): Promise<KrpcReply | undefined> {
    this.clear();
    await this.send(data);
    return this.next(timeoutMs);
  }

  /**
   * Sends `data`, then a ping with a transaction id of its own (the sentinel), and collects
   * every reply until the sentinel's answer. A target that answers queries in order answers
   * `data` (if at all) before the sentinel, so this tells "ignored" from "not yet answered"
   * without waiting for a timeout. `sentinel` is undefined when the ping got no answer.
   */
  async exchangeWithSentinel(
    data: Uint8Array | KrpcMessage,
    id: Uint8Array,
    timeoutMs: number,
  ): Promise<{ replies: KrpcReply[]; sentinel: KrpcReply | undefined }> {
    this.clear();
    // A 2-byte id, as BEP 5 suggests: nodes that mishandle longer ids still echo it.
    this.sentinel = (this.sentinel + 1) & 0x7fff;
    const t = new Uint8Array([0x80 | (this.sentinel >> 8), this.sentinel & 0xff]);
    await this.send(data);
    await this.send({ t, y: 'q', q: 'ping', a: { id } });
    const replies: KrpcReply[] = [];
    for (;;) {
      const reply = await this.next(timeoutMs);
      if (reply === undefined) return { replies, sentinel: undefined };
      const rt = reply.message?.t;
      if (
        reply.message?.y === 'r' &&
        rt !== undefined &&
        rt.length === 2 &&
        rt[0] === t[0] &&
        rt[1] === t[1]
      ) {
        return { replies, sentinel: reply };
      }
      replies.push(reply);
    }
  }

  async close(): Promise<void> {
    await this.socket.close();
  }
}
