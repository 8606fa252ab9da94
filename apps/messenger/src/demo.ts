/**
 * `runChatDemo`: a short messenger conversation for `pnpm demo` (apps/fileshare runs it after
 * the file-sharing part). Three nodes on loopback meet in a room through a DHT bootstrap node,
 * exchange a few signed messages over gossip, one sends a direct message, and everything is
 * stopped again. Real sockets, real Noise sessions; nothing leaves 127.0.0.1.
 */
import { type BootstrapNode, runBootstrapNode } from '@peerkit/kademlia';
import { generateIdentity } from '@peerkit/noise';
import { type Address, formatAddress, nodeNetwork, parseAddress, sleep } from '@peerkit/transport';
import type { ChatEvent } from './events';
import { MessengerNode } from './node';
import { shortPeerId } from './peer-id';

export interface ChatDemoOptions {
  /** A DHT bootstrap node to meet through (e.g. the demo's, `host:port` or an `Address`); default: one started here. */
  bootstrap?: Address | string;
  /** Where the transcript goes, one line per call (default: console.log). */
  log?: (line: string) => void;
  /** Room name (default `peerkit-demo`). */
  room?: string;
  /** Give up after this many milliseconds (default 20,000). */
  timeoutMs?: number;
}

export interface ChatDemoSummary {
  nodes: number;
  room: string;
  /** Room messages published, and deliveries seen (each message reaches the 2 other nodes). */
  messagesSent: number;
  messagesDelivered: number;
  messagesExpected: number;
  /** Whether the direct message reached its recipient (and no one else). */
  dmDelivered: boolean;
  dmSeenByOthers: number;
  elapsedMs: number;
}

const SCRIPT: [number, string][] = [
  [0, 'hi all, anyone here?'],
  [1, 'hello! the file arrived fine on my side'],
  [2, 'same here, checksums match'],
  [0, 'great, thanks both'],
];

/** Runs the conversation; resolves with a summary once every node is stopped. */
export async function runChatDemo(options: ChatDemoOptions = {}): Promise<ChatDemoSummary> {
  const log = options.log ?? ((line: string) => console.log(line));
  const room = options.room ?? 'peerkit-demo';
  const timeoutMs = options.timeoutMs ?? 20_000;
  const started = Date.now();
  const network = nodeNetwork();
  let own: BootstrapNode | undefined;
  const nodes: MessengerNode[] = [];
  const events: ChatEvent[][] = [];
  const waitUntil = async (predicate: () => boolean, what: string) => {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`chat demo: timed out waiting for ${what}`);
      await sleep(network.clock, 25);
    }
  };
  try {
    let bootstrap =
      typeof options.bootstrap === 'string' ? parseAddress(options.bootstrap) : options.bootstrap;
    if (bootstrap === undefined) {
      own = await runBootstrapNode({ network, host: '127.0.0.1', port: 0 });
      bootstrap = own.address;
    }
    log(`chat: three nodes join #${room} through the DHT node at ${formatAddress(bootstrap)}`);
    const names = ['alice', 'bob', 'carol'];
    for (const [i, nick] of names.entries()) {
      const seen: ChatEvent[] = [];
      events.push(seen);
      const node = await MessengerNode.start({
        network,
        identity: generateIdentity(),
        host: '127.0.0.1',
        bootstrap: [bootstrap],
        nick,
        aloneRetryMs: 300,
        onEvent: (e) => {
          seen.push(e);
          if (e.type === 'message' && !e.own && i === 0) {
            log(`chat: [alice sees] ${e.nick ?? shortPeerId(e.from)}: ${e.text}`);
          }
          if (e.type === 'dm')
            log(`chat: [${nick} gets a DM] ${e.nick ?? shortPeerId(e.from)}: ${e.text}`);
        },
      });
      nodes.push(node);
      await node.join(room);
    }
    await waitUntil(() => nodes.every((n) => n.roomPeers(room).length === 2), 'the room to form');
    log('chat: every node is connected to the two others over Noise XX secure streams');
    for (const [who, text] of SCRIPT) {
      nodes[who]?.say(room, text);
      await sleep(network.clock, 50);
    }
    const received = () =>
      events.reduce((n, list) => n + list.filter((e) => e.type === 'message' && !e.own).length, 0);
    const expected = SCRIPT.length * (nodes.length - 1);
    await waitUntil(() => received() >= expected, 'every message to arrive');
    const secret = 'psst, bob: this one is just for you';
    await nodes[2]?.sendDm(nodes[1]!.identity.publicKey, secret);
    await waitUntil(() => events[1]!.some((e) => e.type === 'dm'), 'the direct message');
    const dmSeenByOthers = [events[0]!, events[2]!].filter((list) =>
      list.some((e) => e.type === 'dm' || (e.type === 'message' && e.text === secret)),
    ).length;
    const summary: ChatDemoSummary = {
      nodes: nodes.length,
      room,
      messagesSent: SCRIPT.length,
      messagesDelivered: received(),
      messagesExpected: expected,
      dmDelivered: true,
      dmSeenByOthers,
      elapsedMs: Date.now() - started,
    };
    log(
      `chat: ${summary.messagesDelivered}/${expected} room deliveries, signed and verified; the DM reached bob only; ${summary.elapsedMs} ms`,
    );
    return summary;
  } finally {
    await Promise.allSettled(nodes.map((n) => n.close()));
    await own?.close();
  }
}
