/**
 * The messenger node's events follow peerkit's one convention (`Emitter`): a handler that
 * throws is reported, the other handlers still run, and the node goes on.
 */
import type { BootstrapNode } from '@peerkit/kademlia';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ChatEvent } from '../src/events';
import { startBootstrap, startNode, type TestNode, until } from './helpers/nodes';

describe('MessengerNode events', () => {
  let boot: BootstrapNode;
  const nodes: TestNode[] = [];
  beforeAll(async () => {
    boot = await startBootstrap();
  });
  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.node.close()));
    await boot.close();
  });

  it('a throwing handler neither crashes the node nor stops the other handlers', async () => {
    const reported: unknown[][] = [];
    const spy = vi.spyOn(console, 'error').mockImplementation((...args) => {
      reported.push(args);
    });
    try {
      const ann = await startNode(boot.address, { nick: 'ann' });
      const bob = await startNode(boot.address, { nick: 'bob' });
      nodes.push(ann, bob);
      // Throwing handlers first, on a typed event and on the catch-all.
      bob.node.on('message', () => {
        throw new Error('typed handler bug');
      });
      bob.node.on(() => {
        throw new Error('catch-all handler bug');
      });
      const texts: string[] = [];
      const offTyped = bob.node.on('message', (m) => texts.push(m.text));
      const joined: ChatEvent[] = [];
      bob.node.on('joined', (e) => joined.push(e));
      await ann.node.join('room');
      await bob.node.join('room');
      expect(joined).toEqual([{ type: 'joined', room: 'room' }]);
      await until(() => bob.node.roomPeers('room').length === 1, 'bob sees ann in the room');
      await until(() => ann.node.roomPeers('room').length === 1, 'ann sees bob in the room');
      ann.node.say('room', 'one');
      await until(() => texts.includes('one'), 'bob received one');
      offTyped();
      ann.node.say('room', 'two');
      await until(
        () => bob.events.some((e) => e.type === 'message' && e.text === 'two'),
        'bob received two',
      );
      expect(texts).toEqual(['one']); // the removed handler saw nothing more
      // Each throw was reported (stderr), none of them stopped bob or its other handlers.
      const lines = reported.map((r) => String(r[0]));
      expect(lines.some((l) => l.includes('"message"'))).toBe(true);
      expect(lines.some((l) => l.includes('"event"'))).toBe(true);
      expect(bob.node.isClosed).toBe(false);
      expect(bob.node.recentMessages('room').map((m) => m.text)).toEqual(['one', 'two']);
    } finally {
      spy.mockRestore();
    }
  });
});
