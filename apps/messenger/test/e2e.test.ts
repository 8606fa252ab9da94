/**
 * End to end with real processes: the built `peerkit-chat` (dist/cli.js) on loopback, joined
 * through a DHT bootstrap node that this test runs with @peerkit/kademlia.
 */
import { join } from 'node:path';
import type { BootstrapNode } from '@peerkit/kademlia';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EnvelopeCodec } from '../src/envelope';
import { formatPeerId, parsePeerId } from '../src/peer-id';
import { startBootstrap, startNode, type TestNode, until } from './helpers/nodes';
import { ChatProcess, type Json, requireBuild, runCli, tempDir } from './helpers/process';

const ROOM = 'lobby';

describe('peerkit-chat end to end (real processes on loopback)', () => {
  let boot: BootstrapNode;
  let dir: ReturnType<typeof tempDir>;
  const procs = new Map<string, ChatProcess>();
  const ids = new Map<string, string>();
  let mallory: TestNode | undefined;

  const common = (name: string) => [
    '--json',
    '--host',
    '127.0.0.1',
    '--bootstrap',
    `127.0.0.1:${boot.address.port}`,
    '--state-dir',
    join(dir.path, name),
  ];

  async function spawnMember(name: string): Promise<ChatProcess> {
    const p = new ChatProcess(['join', ROOM, ...common(name), '--nick', name]);
    procs.set(name, p);
    const ready = await p.waitFor((e) => e.event === 'ready', `${name} ready`);
    ids.set(name, ready.id as string);
    await p.waitFor((e) => e.event === 'joined', `${name} joined`);
    return p;
  }

  /** Polls `/peers` until `p` has `n` connected members of the room. */
  async function waitMembers(p: ChatProcess, n: number): Promise<void> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const before = p.events.length;
      p.input('/peers');
      const e = await p.waitFor(
        (x) => x.event === 'peers' && p.events.indexOf(x) >= before,
        'a /peers answer',
      );
      const members = (e.peers as { rooms: string[] }[]).filter((x) => x.rooms.includes(ROOM));
      if (members.length >= n) return;
      if (Date.now() > deadline) throw new Error(`only ${members.length} of ${n} members`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  const messages = (p: ChatProcess) =>
    p.events.filter((e) => e.event === 'message' && e.own === false);

  beforeAll(async () => {
    requireBuild();
    boot = await startBootstrap();
    dir = tempDir();
  });

  afterAll(async () => {
    await Promise.all([...procs.values()].map((p) => p.stop()));
    await mallory?.node.close();
    await boot?.close();
    dir?.remove();
  });

  it('three nodes join a room through the DHT and each receives the others', async () => {
    for (const name of ['ann', 'bob', 'cyd']) await spawnMember(name);
    for (const p of procs.values()) await waitMembers(p, 2);
    for (const [name, p] of procs) p.input(`hello from ${name}`);
    for (const [name, p] of procs) {
      await until(() => messages(p).length >= 2, `${name} gets two messages`);
      const got = messages(p)
        .map((e) => `${e.nick}: ${e.text}`)
        .sort();
      const others = ['ann', 'bob', 'cyd'].filter((n) => n !== name);
      expect(got).toEqual(others.map((n) => `${n}: hello from ${n}`));
      for (const m of messages(p)) expect(m.from).toBe(ids.get(m.nick as string));
    }
  });

  it('a late joiner receives the history, verified and in order', async () => {
    const dan = await spawnMember('dan');
    const history = await dan.waitFor((e) => e.event === 'history', 'history');
    const texts = (history.messages as Json[]).map((m) => m.text);
    expect(texts).toHaveLength(3);
    expect([...texts].sort()).toEqual(['hello from ann', 'hello from bob', 'hello from cyd']);
    const ts = (history.messages as Json[]).map((m) => m.ts as number);
    expect(ts).toEqual([...ts].sort((a, b) => a - b));
    await waitMembers(dan, 1);
  });

  it('a direct message arrives only at its recipient', async () => {
    const ann = procs.get('ann')!;
    const bob = procs.get('bob')!;
    ann.input(`/dm ${ids.get('bob')} psst-only-for-bob`);
    const dm = await bob.waitFor((e) => e.event === 'dm', 'the DM at bob');
    expect(dm).toMatchObject({ text: 'psst-only-for-bob', from: ids.get('ann'), nick: 'ann' });
    await ann.waitFor((e) => e.event === 'dm-delivered', 'delivery confirmation');
    // By nick, from a one-shot process with its own identity, to cyd.
    const oneShot = await runCli(['dm', ids.get('cyd')!, 'one-shot-dm', ...common('eve')]);
    expect(oneShot.code, oneShot.stderr).toBe(0);
    expect(oneShot.events.some((e) => e.event === 'dm-sent')).toBe(true);
    await procs.get('cyd')!.waitFor((e) => e.event === 'dm' && e.text === 'one-shot-dm', 'cyd DM');
    for (const name of ['cyd', 'dan']) {
      expect(JSON.stringify(procs.get(name)!.events)).not.toContain('psst-only-for-bob');
    }
    for (const name of ['ann', 'bob', 'dan']) {
      expect(JSON.stringify(procs.get(name)!.events)).not.toContain('one-shot-dm');
    }
  });

  it('forged, altered and replayed messages are rejected and their sender scored down', async () => {
    mallory = await startNode(boot.address, { nick: 'mallory' });
    const m = mallory.node;
    await m.join(ROOM);
    await until(() => m.roomPeers(ROOM).length >= 4, 'mallory meets the room');
    const codec = new EnvelopeCodec();
    const now = Date.now();
    // Forged: claims to be ann (mallory cannot sign as ann; the gossip author is mallory).
    const forged = codec.signRoom(m.identity, {
      room: ROOM,
      ts: now,
      seq: now * 1000,
      text: 'forged-as-ann',
    });
    forged.author = parsePeerId(ids.get('ann')!);
    m.publishRaw(ROOM, codec.encodeRoom(forged));
    // Altered: a correctly signed message whose text was changed afterwards.
    const altered = codec.signRoom(m.identity, {
      room: ROOM,
      ts: now,
      seq: now * 1000 + 1,
      text: 'original',
    });
    m.publishRaw(ROOM, codec.encodeRoom({ ...altered, text: 'altered-text' }));
    // Replayed sequence number: a second, validly signed message reusing seq of the first.
    const first = codec.signRoom(m.identity, {
      room: ROOM,
      ts: now,
      seq: now * 1000 + 2,
      text: 'first-at-seq',
    });
    m.publishRaw(ROOM, codec.encodeRoom(first));
    const replay = codec.signRoom(m.identity, {
      room: ROOM,
      ts: now + 1,
      seq: now * 1000 + 2,
      text: 'replayed-seq',
    });
    m.publishRaw(ROOM, codec.encodeRoom(replay));
    const malloryId = formatPeerId(m.identity.publicKey);
    for (const name of ['ann', 'bob', 'cyd']) {
      const p = procs.get(name)!;
      await p.waitFor(
        (e) => e.event === 'message' && e.text === 'first-at-seq',
        `${name} gets the valid one`,
      );
      const rejected = () => p.events.filter((e) => e.event === 'rejected' && e.peer === malloryId);
      await until(() => rejected().length >= 3, `${name} rejects three`);
      expect(
        rejected()
          .map((e) => e.reason)
          .sort(),
      ).toEqual(['AUTHOR_MISMATCH', 'BAD_SIGNATURE', 'REPLAY']);
      expect(rejected().at(-1)?.score as number).toBeLessThan(0);
      const texts = messages(p).map((e) => e.text);
      for (const bad of ['forged-as-ann', 'altered-text', 'original', 'replayed-seq']) {
        expect(texts).not.toContain(bad);
      }
    }
  });

  it('`send` delivers one message and exits; bad input gets a clear error', async () => {
    const sent = await runCli(['send', ROOM, 'from-a-script', ...common('fay')]);
    expect(sent.code, sent.stderr).toBe(0);
    expect(sent.events.find((e) => e.event === 'sent')?.confirmedBy).toBeGreaterThanOrEqual(1);
    await procs
      .get('bob')!
      .waitFor((e) => e.event === 'message' && e.text === 'from-a-script', 'script message');

    const badId = await runCli(['dm', 'not-a-peer-id', 'hi', ...common('fay')]);
    expect(badId.code).toBe(2);
    expect(badId.stderr).toMatch(/peer id is 55 characters/);
    const empty = await runCli(['send', ROOM, '   ', ...common('fay')]);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/empty message/);
    const big = await runCli(['send', ROOM, 'x'.repeat(5000), ...common('fay')]);
    expect(big.code).toBe(2);
    expect(big.stderr).toMatch(/too long: 5000 characters, the limit is 4000/);
    // A well-formed id that nobody has: the one-shot gives up at its deadline.
    const nobody = formatPeerId(new Uint8Array(32).fill(7));
    const lost = await runCli(['dm', nobody, 'hello?', '--timeout', '2', ...common('fay')]);
    expect(lost.code).toBe(1);
    expect(lost.stderr).toMatch(/could not deliver to .* within 2 s/);
  });
});
