import { execFile } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { fileURLToPath } from 'node:url';
import type { SuiteReport } from '@peerkit/conformance';
import { DHT } from '@peerkit/kademlia';
import { nodeNetwork } from '@peerkit/transport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMisalignedSeeder, startTruncatingDhtNode } from './broken-fixtures';
import { torrentOnDisk } from './fixtures';

const root = fileURLToPath(new URL('..', import.meta.url));
const tsx = fileURLToPath(new URL('../../../node_modules/.bin/tsx', import.meta.url));

/** Runs the CLI from its sources; resolves with the exit code and output. */
function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      tsx,
      ['--conditions=@peerkit/source', 'src/cli.ts', ...args],
      { cwd: root, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe('peerkit-conform (the command)', () => {
  let node: Awaited<ReturnType<typeof startTruncatingDhtNode>>;
  let target: string;
  beforeAll(async () => {
    node = await startTruncatingDhtNode(nodeNetwork());
    target = `127.0.0.1:${node.address.port}`;
  });
  afterAll(() => node.close());

  it('exits 1 with the shrunk counterexample, and --seed/--path replay it', async () => {
    const run = await cli([
      'dht',
      target,
      '--runs',
      '30',
      '--seed',
      '77',
      '--only',
      'dht.krpc.transaction-id',
      '--rate',
      '100000',
      '--json',
    ]);
    expect(run.code).toBe(1);
    // --json: one envelope per rule (`result`), then the `report`.
    const lines = run.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.event)).toEqual(['result', 'report']);
    const report = lines[1] as SuiteReport;
    const failed = report.results[0]!;
    expect(failed.outcome).toBe('failed');
    expect(failed.counterexample).toContain('"t":Uint8Array.from([0,0,0])');

    const replay = await cli([
      'dht',
      target,
      '--seed',
      '77',
      '--only',
      'dht.krpc.transaction-id',
      '--path',
      failed.path!,
      '--rate',
      '100000',
    ]);
    expect(replay.code).toBe(1);
    expect(replay.stdout).toContain('FAILED dht.krpc.transaction-id');
    expect(replay.stdout).toContain(failed.counterexample!);
    expect(replay.stdout).toContain(`--seed 77 --only dht.krpc.transaction-id --path`);
  }, 120_000);

  it('exits 0 when every selected rule passes or does not apply', async () => {
    const run = await cli([
      'dht',
      target,
      '--runs',
      '5',
      '--seed',
      '1',
      '--only',
      'dht.ping,dht.find_node.nodes',
      '--no-color',
    ]);
    expect(run.stdout).toContain('2 rules: 2 passed, 0 failed, 0 not applicable');
    expect(run.code).toBe(0);
  }, 120_000);

  it('refuses a malformed address', async () => {
    const run = await cli(['dht', 'not-an-address']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('expected HOST:PORT');
  }, 60_000);

  it('a target where nothing listens is one line and exit 1, not a table of failures', async () => {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    const port = socket.address().port;
    socket.close(); // nothing listens there now
    const run = await cli(['dht', `127.0.0.1:${port}`, '--timeout', '500']);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr.trim().split('\n')).toEqual([
      `peerkit-conform: error: no answer from 127.0.0.1:${port} (UDP) to a KRPC ping within 500 ms: nothing listens there, or it drops our packets (check the address; --timeout <ms> waits longer)`,
    ]);
    const tcp = await cli(['gossip', `127.0.0.1:${port}`, '--json']);
    expect(tcp.code).toBe(1);
    expect(JSON.parse(tcp.stdout)).toMatchObject({ event: 'error', code: 'SILENT_TARGET' });
  }, 60_000);

  it('a rate-limited target is one line naming --rate, not spec violations', async () => {
    // peerkit's own DHT with a tight per-IP limit, probed at full speed.
    const limited = new DHT({ network: nodeNetwork(), rpc: { ratePerSecond: 1, rateBurst: 2 } });
    await limited.listen({ host: '127.0.0.1' });
    try {
      const args = [
        'dht',
        `127.0.0.1:${limited.address.port}`,
        '--only',
        'dht.krpc.transaction-id',
        '--runs',
        '30',
      ];
      const run = await cli([...args, '--rate', '100000', '--timeout', '300', '--seed', '3']);
      expect(run.code, run.stdout).toBe(1);
      expect(run.stdout).toBe('');
      const lines = run.stderr.trim().split('\n');
      expect(lines.at(-1)).toMatch(
        /^peerkit-conform: error: 127\.0\.0\.1:\d+ \(UDP\) .*it limits queries per IP; run again with a lower --rate \(e\.g\. --rate \d+\)$/,
      );
      // At the default pace, the same rule passes.
      const paced = await cli([...args, '--runs', '5', '--seed', '3']);
      expect(paced.stdout, paced.stderr).toContain('1 rules: 1 passed');
      expect(paced.code).toBe(0);
    } finally {
      await limited.close();
    }
  }, 120_000);

  it('with its default pace it passes against a peerkit DHT node with default limits', async () => {
    const peerkit = new DHT({ network: nodeNetwork() }); // 20 queries/s per IP, bursts of 40
    await peerkit.listen({ host: '127.0.0.1' });
    try {
      await peerkit.bootstrap([node.address]);
      const only = ['--only', 'dht.krpc,dht.announce_peer', '--runs', '5', '--seed', '9'];
      const run = await cli(['dht', `127.0.0.1:${peerkit.address.port}`, ...only]);
      expect(run.stdout, run.stderr).toContain('7 rules: 7 passed, 0 failed');
      expect(run.code).toBe(0);
    } finally {
      await peerkit.close();
    }
  }, 120_000);

  it('--version prints the version; usage errors are one line and exit 2', async () => {
    expect(await cli(['--version'])).toMatchObject({ code: 0, stdout: '0.1.0\n' });
    const bad = await cli(['dht', '127.0.0.1:1', '--runs', 'many']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toEqual([
      'peerkit-conform: error: --runs must be an integer in 1..1000000, got "many" (see: peerkit-conform dht --help)',
    ]);
  }, 60_000);
});

describe('peerkit-conform peer', () => {
  it('reads the .torrent, catches a seeder serving wrong bytes, and prints the replay line', async () => {
    const fixture = await torrentOnDisk('cli.bin', 2 * 32_768 + 5, 32_768, 4);
    const seeder = await startMisalignedSeeder(nodeNetwork(), fixture.metainfo, fixture.data);
    try {
      const target = `127.0.0.1:${seeder.address.port}`;
      const args = [
        'peer',
        target,
        '--torrent',
        fixture.torrentPath,
        '--runs',
        '20',
        '--seed',
        '5',
      ];
      const run = await cli([...args, '--only', 'peer.handshake,peer.request.block', '--no-color']);
      expect(run.code).toBe(1);
      expect(run.stdout).toMatch(/peer\.handshake\.info-hash\s+passed/);
      expect(run.stdout).toContain('counterexample: {"index":0,"begin":1,"length":1}');
      expect(run.stdout).toContain(
        `replay: peerkit-conform peer ${target} --torrent ${fixture.torrentPath} --seed 5 --only peer.request.block`,
      );
    } finally {
      await seeder.close();
      fixture.remove();
    }
  }, 120_000);
});
