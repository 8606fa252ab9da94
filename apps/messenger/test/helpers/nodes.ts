/** Shared helpers for the messenger tests: in-process nodes on loopback and event waiting. */
import { type BootstrapNode, runBootstrapNode } from '@peerkit/kademlia';
import { generateIdentity } from '@peerkit/noise';
import { type Address, nodeNetwork } from '@peerkit/transport';
import type { ChatEvent } from '../../src/events';
import { MessengerNode, type MessengerOptions } from '../../src/node';

export async function startBootstrap(): Promise<BootstrapNode> {
  return runBootstrapNode({ network: nodeNetwork(), host: '127.0.0.1', port: 0 });
}

export interface TestNode {
  node: MessengerNode;
  events: ChatEvent[];
}

export async function startNode(
  bootstrap: Address,
  options: Partial<MessengerOptions> = {},
): Promise<TestNode> {
  const events: ChatEvent[] = [];
  const node = await MessengerNode.start({
    network: nodeNetwork(),
    host: '127.0.0.1',
    bootstrap: [bootstrap],
    aloneRetryMs: 300,
    ...options,
    identity: options.identity ?? generateIdentity(),
  });
  node.on((e) => events.push(e));
  return { node, events };
}

/** Polls `predicate` every 20 ms until it holds; fails after `timeoutMs`. */
export async function until(
  predicate: () => boolean,
  what: string,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
