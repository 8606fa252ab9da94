/**
 * Three gossip nodes on loopback TCP: b and c dial a, all subscribe to `chat`, a publishes.
 * Run: `pnpm exec tsx --conditions=@peerkit/source examples/loopback.ts`.
 */
import { nodeNetwork, sleep } from '@peerkit/transport';
import { GossipNode, isGossipError } from '../src/index';

export async function main(log: (line: string) => void = console.log): Promise<string[]> {
  const network = nodeNetwork();
  const listen = { host: '127.0.0.1', port: 0 };
  const a = await GossipNode.create(network, { listen });
  const address = a.address;
  if (address === undefined) throw new Error('a listens');
  // b and c keep a as a bootstrap peer: the connection manager dials it and redials it.
  const b = await GossipNode.create(network, { listen, bootstrap: [address] });
  const c = await GossipNode.create(network, { listen, bootstrap: [address] });
  const received: string[] = [];
  for (const [name, node] of [
    ['b', b],
    ['c', c],
  ] as const) {
    node.onMessage(({ message }) => {
      const line = `${name} got "${new TextDecoder().decode(message.data)}" on ${message.topic}`;
      received.push(line);
      log(line);
    });
  }
  try {
    a.publish('chat', new TextEncoder().encode('too early'));
  } catch (error) {
    if (isGossipError(error, 'NO_PEERS_SUBSCRIBED'))
      log('publish before anyone subscribed: NO_PEERS_SUBSCRIBED');
    else throw error;
  }
  for (const node of [a, b, c]) node.subscribe('chat');
  await sleep(network.clock, 1500); // one heartbeat: meshes form
  const { recipients } = a.publish('chat', new TextEncoder().encode('hello, mesh'));
  log(`a published to ${recipients} peers`);
  for (let i = 0; i < 50 && received.length < 2; i++) await sleep(network.clock, 20);
  await Promise.all([a.close(), b.close(), c.close()]);
  return received;
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
