import { encodeFrame } from '@peerkit/framing';
import { PROTOCOL_VERSION, WireCodec } from '@peerkit/gossip';
import type { BootstrapNode } from '@peerkit/kademlia';
import { generateIdentity, secureOutbound } from '@peerkit/noise';
import { nodeNetwork } from '@peerkit/transport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SELECTOR_GOSSIP } from '../src/control';
import { PROLOGUE } from '../src/control-channel';
import { formatPeerId } from '../src/peer-id';
import { startBootstrap, startNode, type TestNode, until } from './helpers/nodes';

describe('MessengerNode on loopback (in process)', () => {
  let boot: BootstrapNode;
  const nodes: TestNode[] = [];
  let baseline: string[] = [];

  beforeAll(async () => {
    baseline = process.getActiveResourcesInfo();
    boot = await startBootstrap();
  });
  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.node.close()));
    await boot.close();
  });

  it('three nodes meet in a room through the DHT and receive each other', async () => {
    for (const nick of ['ann', 'bob', 'cyd']) {
      const n = await startNode(boot.address, { nick });
      nodes.push(n);
      await n.node.join('lobby');
    }
    await until(() => nodes.every((n) => n.node.roomPeers('lobby').length === 2), 'full mesh');
    for (const n of nodes) n.node.say('lobby', `hello from ${n.node.nick}`);
    await until(
      () => nodes.every((n) => n.events.filter((e) => e.type === 'message' && !e.own).length === 2),
      'messages',
    );
    const texts = nodes[0]!.events.flatMap((e) => (e.type === 'message' && !e.own ? [e.text] : []));
    expect(texts.sort()).toEqual(['hello from bob', 'hello from cyd']);
    // gossip's peer events (no polling): each node reported the other two joining, once each.
    for (const n of nodes) {
      const joined = n.events.flatMap((e) => (e.type === 'peer-joined' ? [e.peer] : []));
      const others = nodes.filter((o) => o !== n).map((o) => o.node.id);
      expect(joined.sort()).toEqual(others.sort());
    }
  });

  it('a late joiner gets the verified history in order', async () => {
    const late = await startNode(boot.address, { nick: 'late' });
    nodes.push(late);
    await late.node.join('lobby');
    const history = late.events.find((e) => e.type === 'history');
    expect(history?.type === 'history' && history.messages.map((m) => m.text).sort()).toEqual([
      'hello from ann',
      'hello from bob',
      'hello from cyd',
    ]);
    expect(late.node.recentMessages('lobby')).toHaveLength(3);
  });

  it('keeps an undeliverable DM and delivers it once the recipient comes online', async () => {
    const [ann] = nodes;
    const absent = generateIdentity();
    const sender = await startNode(boot.address, { dmRetryMs: 200 });
    nodes.push(sender);
    const result = await sender.node.sendDm(absent.publicKey, 'are you there?');
    expect(result.delivered).toBe(false);
    expect(sender.events.some((e) => e.type === 'dm-pending')).toBe(true);
    expect(sender.node.pendingDms).toBe(1);
    const recipient = await startNode(boot.address, { identity: absent });
    nodes.push(recipient);
    await until(() => sender.events.some((e) => e.type === 'dm-delivered'), 'the retried delivery');
    expect(recipient.events.find((e) => e.type === 'dm')).toMatchObject({ text: 'are you there?' });
    expect(sender.node.pendingDms).toBe(0);
    expect(ann!.events.some((e) => e.type === 'dm')).toBe(false);
    await expect(sender.node.sendDm(sender.node.identity.publicKey, 'me')).rejects.toThrow(
      /your own/,
    );
    await expect(sender.node.sendDm(absent.publicKey, '  ')).rejects.toThrow(/empty message/);
  });

  it('refuses a gossip connection whose hello claims another identity than Noise proved', async () => {
    const target = nodes[0]!.node;
    const network = nodeNetwork();
    const liar = generateIdentity();
    const raw = await network.dial({ host: '127.0.0.1', port: target.address.port });
    const s = await secureOutbound(raw, {
      identity: liar,
      clock: network.clock,
      prologue: PROLOGUE,
    });
    await s.write(Uint8Array.of(SELECTOR_GOSSIP));
    const hello = new WireCodec().encode({
      type: 'hello',
      version: PROTOCOL_VERSION,
      id: nodes[1]!.node.identity.publicKey,
    });
    await s.write(encodeFrame(hello, { prefix: 'uint32be' }));
    let failed = false;
    try {
      for await (const _ of s) {
        // gossip would answer with its own hello first; the connection must not survive
      }
    } catch {
      failed = true;
    }
    const closedWith = await s.closed;
    expect(failed || closedWith !== undefined).toBe(true);
    // gossip refused the hello (addStream's expectedPeerId) and the messenger reports it.
    const liarId = formatPeerId(liar.publicKey);
    await until(
      () => nodes[0]!.events.some((e) => e.type === 'rejected' && e.peer === liarId),
      'the refused hello to be reported',
    );
    expect(nodes[0]!.events.find((e) => e.type === 'rejected' && e.peer === liarId)).toMatchObject({
      reason: 'AUTHOR_MISMATCH',
      detail: expect.stringContaining(nodes[1]!.node.id),
    });
    expect(target.gossip.peers()).not.toContain(Buffer.from(liar.publicKey).toString('hex'));

    // The control: the same steps with the truth get gossip's hello back.
    const before = target.gossip.peers().length;
    const raw2 = await network.dial({ host: '127.0.0.1', port: target.address.port });
    const honest = await secureOutbound(raw2, {
      identity: liar,
      clock: network.clock,
      prologue: PROLOGUE,
    });
    await honest.write(Uint8Array.of(SELECTOR_GOSSIP));
    const truth = new WireCodec().encode({
      type: 'hello',
      version: PROTOCOL_VERSION,
      id: liar.publicKey,
    });
    await honest.write(encodeFrame(truth, { prefix: 'uint32be' }));
    const iterator = honest[Symbol.asyncIterator]();
    const first = await iterator.next();
    expect(first.done).toBe(false);
    await until(() => target.gossip.peers().length === before + 1, 'the honest peer to be added');
    honest.destroy();
  });

  it('a node restarted with the same identity is seen leaving and rejoining, and its new messages are delivered', async () => {
    const [ann, bob, cyd] = nodes as [TestNode, TestNode, TestNode];
    const identity = cyd.node.identity;
    const cydHex = Buffer.from(identity.publicKey).toString('hex');
    await until(() => ann.node.gossip.peers().includes(cydHex), 'ann connected to cyd');
    await cyd.node.close();
    const leftCount = (n: TestNode) =>
      n.events.filter((e) => e.type === 'peer-left' && e.peer === cyd.node.id).length;
    await until(() => leftCount(ann) === 1 && leftCount(bob) === 1, 'cyd leaving');
    // Within gossip's seen-cache TTL, with gossip's default (author || seqno) message ids.
    const reborn = await startNode(boot.address, { identity, nick: 'cyd' });
    nodes.push(reborn);
    await reborn.node.join('lobby');
    await until(() => reborn.node.roomPeers('lobby').length >= 2, 'cyd back in the mesh');
    const joinedCount = (n: TestNode) =>
      n.events.filter((e) => e.type === 'peer-joined' && e.peer === cyd.node.id).length;
    await until(() => joinedCount(ann) === 2 && joinedCount(bob) === 2, 'cyd seen rejoining');
    for (const text of ['back again', 'and once more']) reborn.node.say('lobby', text);
    const received = (n: TestNode) =>
      n.events.flatMap((e) =>
        e.type === 'message' && !e.own && e.from === cyd.node.id ? [e.text] : [],
      );
    await until(
      () => [ann, bob].every((n) => received(n).length === 3),
      "the restarted node's messages",
    );
    expect(received(ann)).toEqual(['hello from cyd', 'back again', 'and once more']);
  });

  it('closes every socket and timer', async () => {
    await Promise.all(nodes.map((n) => n.node.close()));
    await boot.close();
    await new Promise((r) => setTimeout(r, 300));
    const left = process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap');
    const count = (list: string[], kind: string) => list.filter((r) => r === kind).length;
    for (const kind of ['TCPServerWrap', 'TCPSocketWrap', 'UDPWrap', 'Timeout']) {
      expect(count(left, kind), kind).toBeLessThanOrEqual(count(baseline, kind));
    }
  });
});
