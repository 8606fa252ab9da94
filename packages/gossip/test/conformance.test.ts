/**
 * The conformance suite itself: its citations are quoted from the README, it catches a broken
 * node with a shrunk, replayable case, and rules without what they need are not applicable.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runRules } from '@peerkit/conformance';
import { encodeFrame, readFrames } from '@peerkit/framing';
import { Simulation } from '@peerkit/netsim';
import type { Address } from '@peerkit/transport';
import { afterEach, describe, expect, test } from 'vitest';
import { gossipRules, openGossipContext } from '../src/conformance';
import { GossipNode, Identity, PROTOCOL_VERSION, WireCodec } from '../src/index';

/** Markdown as prose: table pipes and line breaks become single spaces. */
const prose = (text: string) =>
  text
    .replace(/\s*\|\s*/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();

describe('gossipRules', () => {
  test('ids are unique, and each citation is quoted verbatim from the README', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    // The spec is everything before the rule list (which quotes the citations again).
    const text = prose(readme.slice(0, readme.indexOf('## Conformance')));
    expect(text.length).toBeGreaterThan(10_000);
    const ids = gossipRules.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const rule of gossipRules) {
      // "[...]" marks an elision: the pieces appear in this order.
      let from = 0;
      for (const piece of rule.cite.text.split('[...]').map(prose)) {
        if (piece === '') continue;
        const at = text.indexOf(piece, from);
        expect(at, `${rule.id} cites "${piece}"`).toBeGreaterThanOrEqual(0);
        from = at + piece.length;
      }
      // The README's rule list names every rule.
      expect(readme, rule.id).toContain(`\`${rule.id}\``);
    }
  });
});

/** Every module `entry` imports, transitively: relative files, and the packages they import. */
function importGraph(entry: string): { files: string[]; packages: Set<string> } {
  const files: string[] = [];
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (files.includes(file)) return;
    files.push(file);
    const source = readFileSync(file, 'utf8');
    for (const [, spec] of source.matchAll(/^(?:import|export)[^'"]*?from '([^']+)'/gm)) {
      if (spec === undefined) continue;
      if (!spec.startsWith('.')) {
        packages.add(spec);
        continue;
      }
      const base = join(dirname(file), spec);
      visit(existsSync(`${base}.ts`) ? `${base}.ts` : join(base, 'index.ts'));
    }
  };
  visit(entry);
  return { files, packages };
}

describe('@peerkit/gossip/conformance', () => {
  test('imports neither vitest nor any ./testing entry (the command line bundles it)', () => {
    const entry = fileURLToPath(new URL('../src/conformance.ts', import.meta.url));
    const { files, packages } = importGraph(entry);
    expect(files.length).toBeGreaterThan(5);
    expect([...packages].filter((p) => p === 'vitest' || p.endsWith('/testing'))).toEqual([]);
    expect(packages).toContain('@peerkit/conformance');
  });
});

describe('the suite against a simulated target', () => {
  let sim: Simulation | undefined;
  afterEach(async () => {
    await sim?.stop();
    sim = undefined;
  });

  async function simulate(): Promise<{
    client: ReturnType<Simulation['addHost']>;
    server: ReturnType<Simulation['addHost']>;
  }> {
    sim = new Simulation({ seed: 11 });
    const server = sim.addHost();
    const client = sim.addHost();
    sim.start();
    return { client, server };
  }

  test('a node that answers a hello carrying port ≥ 50000 with version 2 fails gossip.hello, shrunk to port 50000', async () => {
    const { client, server } = await simulate();
    // The broken node: a correct hello, except for hellos with a high port.
    const codec = new WireCodec();
    const id = Identity.fromSeed(new Uint8Array(32).fill(7)).publicKey;
    const listener = await server.network.listen({ host: server.address, port: 4001 }, (stream) => {
      void (async () => {
        for await (const bytes of readFrames(stream, { prefix: 'uint32be' })) {
          const frame = codec.decode(bytes);
          if (frame.type !== 'hello') continue;
          const version = (frame.port ?? 0) >= 50_000 ? 2 : PROTOCOL_VERSION;
          const reply = codec.encode({ type: 'hello', version, id });
          await stream.write(encodeFrame(reply, { prefix: 'uint32be' }));
        }
      })().catch(() => stream.destroy());
    });
    const address: Address = { host: server.address, port: 4001 };
    const rules = gossipRules.filter((r) => r.id === 'gossip.hello');
    const run = async (path?: string) => {
      const ctx = await openGossipContext(client.network, address, { timeoutMs: 1_000 });
      try {
        const report = await runRules('gossip', 'broken', rules, ctx, {
          runs: 200,
          seed: 42,
          ...(path === undefined ? {} : { path }),
        });
        return report.results[0];
      } finally {
        await ctx.close();
      }
    };
    const result = await run();
    expect(result?.outcome).toBe('failed');
    expect(result?.reason).toBe('hello version 2');
    expect(result?.counterexample).toBe('{"port":50000}');
    // The seed and path replay the shrunk case directly.
    const replay = await run(result?.path);
    expect(replay?.outcome).toBe('failed');
    expect(replay?.counterexample).toBe('{"port":50000}');
    await listener.close();
  });

  test('without a publish capability gossip.publish is not applicable; without a topic, the topic rules', async () => {
    const { client, server } = await simulate();
    const address: Address = { host: server.address, port: 4001 };
    const node = await GossipNode.create(server.network, { listen: address });
    try {
      // The node subscribes to nothing: no topic to learn, none given.
      const ctx = await openGossipContext(client.network, address, { timeoutMs: 500 });
      expect(ctx.topic).toBeUndefined();
      const report = await runRules('gossip', 'node', gossipRules, ctx, { runs: 2, seed: 1 });
      await ctx.close();
      const outcome = Object.fromEntries(report.results.map((r) => [r.id, r.outcome]));
      expect(outcome).toEqual({
        'gossip.hello': 'passed',
        'gossip.hello.version': 'passed',
        'gossip.hello.first': 'passed',
        'gossip.subscriptions': 'not-applicable',
        'gossip.forward': 'not-applicable',
        'gossip.publish': 'not-applicable',
        'gossip.signature': 'not-applicable',
        'gossip.iwant': 'not-applicable',
        'gossip.ihave': 'not-applicable',
        'gossip.graft.backoff': 'not-applicable',
        'gossip.graft.not-subscribed': 'passed',
        'gossip.bad-frame': 'passed',
        'gossip.frame-size': 'passed',
      });
      // With a topic but still no way to make the node publish, only gossip.publish is skipped.
      node.subscribe('t');
      const withTopic = await openGossipContext(client.network, address, { timeoutMs: 500 });
      expect(withTopic.topic).toBe('t');
      const publish = gossipRules.filter((r) => r.id === 'gossip.publish');
      const skipped = await runRules('gossip', 'node', publish, withTopic, { runs: 2, seed: 1 });
      await withTopic.close();
      expect(skipped.results[0]?.outcome).toBe('not-applicable');
      expect(skipped.results[0]?.reason).toBe(
        'no publish capability: only a test that runs the node can make it publish',
      );
    } finally {
      await node.close();
    }
  });
});
