/**
 * Rules every KRPC node must satisfy (BEP 5, plus BEP 42's `ip` where noted as optional),
 * checked against a live UDP address with raw datagrams. Plain async functions, no test
 * framework: `runKrpcCompliance` returns one result per rule; `./testing` wraps them for vitest.
 */
import { type Address, type DatagramSocket, type Network, nodeNetwork } from '@peerkit/transport';
import { decodeCompactNodes, decodeCompactPeer } from './compact';
import { DHTError } from './errors';
import { decodeMessage, encodeMessage, type KrpcMessage, type QueryArguments } from './krpc';
import { idEquals } from './node-id';

export interface KrpcComplianceOptions {
  /** Where our probing socket comes from (default `nodeNetwork()`). */
  network?: Network;
  /** Host to bind the probing socket to (default: 127.0.0.1, or ::1 for an IPv6 target). */
  bindHost?: string;
  /** Wait per query (default 2,000 ms). */
  timeoutMs?: number;
}

export interface KrpcComplianceRule {
  name: string;
  /** Resolves when the node complies; rejects with a message saying what was wrong. */
  check(probe: KrpcProbe): Promise<void>;
}

export interface KrpcComplianceResult {
  name: string;
  ok: boolean;
  error?: string;
}

/** A raw KRPC client for compliance checks. */
export class KrpcProbe {
  readonly target: Address;
  readonly id: Uint8Array;
  private readonly socket: DatagramSocket;
  private readonly network: Network;
  private readonly timeoutMs: number;
  private readonly waiting = new Map<string, (m: KrpcMessage) => void>();

  private constructor(
    socket: DatagramSocket,
    network: Network,
    target: Address,
    timeoutMs: number,
  ) {
    this.socket = socket;
    this.network = network;
    this.target = target;
    this.timeoutMs = timeoutMs;
    this.id = network.random.bytes(20);
    socket.onMessage((data) => {
      let m: KrpcMessage;
      try {
        m = decodeMessage(data);
      } catch {
        return;
      }
      const key = Buffer.from(m.t).toString('hex');
      this.waiting.get(key)?.(m);
    });
  }

  static async open(target: Address, options: KrpcComplianceOptions = {}): Promise<KrpcProbe> {
    const network = options.network ?? nodeNetwork();
    const bindHost = options.bindHost ?? (target.host.includes(':') ? '::1' : '127.0.0.1');
    const socket = await network.bindDatagram({ host: bindHost, port: 0 });
    return new KrpcProbe(socket, network, target, options.timeoutMs ?? 2000);
  }

  /** A random 20-byte id / info-hash. */
  randomId(): Uint8Array {
    return this.network.random.bytes(20);
  }

  /** The UDP port our probe sends from. */
  get localPort(): number {
    return this.socket.localAddress.port;
  }

  /** Sends raw bytes and waits for nothing. */
  sendOnly(data: Uint8Array): void {
    this.socket.send(data, this.target);
  }

  /** Sends raw bytes with transaction id `t`; resolves with the reply, or undefined on timeout. */
  sendRaw(data: Uint8Array, t: Uint8Array): Promise<KrpcMessage | undefined> {
    const key = Buffer.from(t).toString('hex');
    return new Promise((resolve) => {
      const timer = this.network.clock.setTimeout(() => {
        this.waiting.delete(key);
        resolve(undefined);
      }, this.timeoutMs);
      this.waiting.set(key, (m) => {
        timer.cancel();
        this.waiting.delete(key);
        resolve(m);
      });
      this.socket.send(data, this.target);
    });
  }

  /** Sends a query (our id filled in); resolves with the reply or undefined on timeout. */
  query(
    q: string,
    args: Omit<QueryArguments, 'id'> = {},
    t: Uint8Array = this.network.random.bytes(2),
  ): Promise<KrpcMessage | undefined> {
    const msg: KrpcMessage = { y: 'q', t: new Uint8Array(t), q, a: { id: this.id, ...args } };
    return this.sendRaw(encodeMessage(msg), msg.t);
  }

  /** Like `query`, but requires a `y: r` response. */
  async expectResponse(q: string, args: Omit<QueryArguments, 'id'> = {}) {
    const m = await this.query(q, args);
    if (!m) throw new DHTError('TIMEOUT', `no response to ${q}`);
    if (m.y !== 'r')
      throw new DHTError(
        'REMOTE_ERROR',
        `${q} answered with ${m.y === 'e' ? `error ${m.e.code}` : 'a query'}`,
      );
    return m;
  }

  close(): Promise<void> {
    return this.socket.close();
  }
}

function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

/** The rules, in order. */
export const krpcComplianceRules: readonly KrpcComplianceRule[] = [
  {
    name: 'ping: answers with y=r, the same transaction id and a 20-byte id (BEP 5)',
    async check(p) {
      for (const t of [
        Uint8Array.of(7),
        Uint8Array.of(1, 2),
        Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8),
      ]) {
        const m = await p.query('ping', {}, t);
        assert(m !== undefined, `no answer to ping with a ${t.length}-byte transaction id`);
        assert(m.y === 'r', `ping answered with y=${m.y}`);
        assert(idEquals(m.t, t), 'transaction id not echoed');
        assert(m.r.id.length === 20, 'id is not 20 bytes');
      }
    },
  },
  {
    name: 'find_node: returns compact node info (26 bytes per IPv4 node), at most 8 nodes (BEP 5)',
    async check(p) {
      const m = await p.expectResponse('find_node', { target: p.randomId() });
      assert(m.y === 'r', 'not a response');
      const raw = m.r.nodes ?? m.r.nodes6;
      assert(raw !== undefined, 'no nodes or nodes6 key');
      const family = m.r.nodes ? 4 : 6;
      const nodes = decodeCompactNodes(raw, family);
      assert(nodes.length <= 8, `${nodes.length} nodes returned`);
    },
  },
  {
    name: 'get_peers: returns a token and values or nodes (BEP 5)',
    async check(p) {
      const m = await p.expectResponse('get_peers', { infoHash: p.randomId() });
      assert(m.y === 'r', 'not a response');
      assert(m.r.token !== undefined && m.r.token.length > 0, 'no token');
      assert(
        m.r.values !== undefined || m.r.nodes !== undefined || m.r.nodes6 !== undefined,
        'neither values nor nodes',
      );
    },
  },
  {
    name: 'announce_peer with a valid token stores the peer; get_peers then returns it (BEP 5)',
    async check(p) {
      const infoHash = p.randomId();
      const first = await p.expectResponse('get_peers', { infoHash });
      assert(first.y === 'r' && first.r.token !== undefined, 'no token');
      await p.expectResponse('announce_peer', { infoHash, port: 6999, token: first.r.token });
      const again = await p.expectResponse('get_peers', { infoHash });
      assert(again.y === 'r', 'not a response');
      const peers = (again.r.values ?? []).map(decodeCompactPeer);
      assert(
        peers.some((a) => a.port === 6999),
        'announced peer not returned',
      );
    },
  },
  {
    name: 'announce_peer with implied_port uses the UDP source port (BEP 5)',
    async check(p) {
      const infoHash = p.randomId();
      const first = await p.expectResponse('get_peers', { infoHash });
      assert(first.y === 'r' && first.r.token !== undefined, 'no token');
      await p.expectResponse('announce_peer', {
        infoHash,
        port: 1,
        impliedPort: true,
        token: first.r.token,
      });
      const again = await p.expectResponse('get_peers', { infoHash });
      assert(again.y === 'r', 'not a response');
      const peers = (again.r.values ?? []).map(decodeCompactPeer);
      assert(
        peers.some((a) => a.port === p.localPort),
        'implied port not used',
      );
    },
  },
  {
    name: 'announce_peer with a wrong token is refused with an error (BEP 5)',
    async check(p) {
      const m = await p.query('announce_peer', {
        infoHash: p.randomId(),
        port: 6999,
        token: Uint8Array.of(1, 2, 3, 4),
      });
      assert(m !== undefined, 'no answer');
      assert(m.y === 'e', 'a bad token was accepted');
    },
  },
  {
    name: 'survives malformed datagrams and keeps answering (BEP 5 robustness)',
    async check(p) {
      const junk = [
        '',
        'x',
        'd1:t2:aa1:y1:qe',
        'd1:ad2:id3:abce1:q4:ping1:t2:ab1:y1:qe',
        'l'.repeat(500),
      ];
      for (const j of junk) p.sendOnly(new TextEncoder().encode(j));
      await p.expectResponse('ping');
    },
  },
];

/** Runs every rule against `target`; never throws for a non-compliant node. */
export async function runKrpcCompliance(
  target: Address,
  options: KrpcComplianceOptions = {},
): Promise<KrpcComplianceResult[]> {
  const probe = await KrpcProbe.open(target, options);
  const results: KrpcComplianceResult[] = [];
  try {
    for (const rule of krpcComplianceRules) {
      try {
        await rule.check(probe);
        results.push({ name: rule.name, ok: true });
      } catch (e) {
        results.push({
          name: rule.name,
          ok: false,
          error: e instanceof Error ? e.message : String(e),
        });
      }
    }
  } finally {
    await probe.close();
  }
  return results;
}
