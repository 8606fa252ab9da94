/**
 * The conventions shared by the three peerkit CLIs (docs/cli.md), for peerkit-conform: every
 * command's `--json` output is envelopes only, and a table of bad inputs gets the right exit
 * code and exactly one error line.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseEnvelope } from '@peerkit/cli-kit';
import { GossipNode } from '@peerkit/gossip';
import { DHT } from '@peerkit/kademlia';
import { Chain, LedgerNode, Mempool, unixTimeFrom } from '@peerkit/ledger';
import { Torrent, torrentInfoFromMetainfo } from '@peerkit/piece-exchange';
import { nodeNetwork } from '@peerkit/transport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TorrentOnDisk, torrentOnDisk } from './fixtures';

const root = fileURLToPath(new URL('..', import.meta.url));
const tsx = fileURLToPath(new URL('../../../node_modules/.bin/tsx', import.meta.url));

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      tsx,
      ['--conditions=@peerkit/source', 'src/cli.ts', ...args],
      { cwd: root, timeout: 60_000, env: { ...process.env, NO_COLOR: '1' } },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

const network = nodeNetwork();
let dht: DHT;
let gossip: GossipNode;
let seeder: Torrent;
let fixture: TorrentOnDisk;
let ledger: LedgerNode;

beforeAll(async () => {
  dht = new DHT({ network, rpc: { ratePerSecond: 100_000, rateBurst: 100_000 } });
  await dht.listen({ host: '127.0.0.1' });
  gossip = await GossipNode.create(network, {
    listen: { host: '127.0.0.1' },
    heartbeatIntervalMs: 200,
  });
  gossip.subscribe('conform');
  fixture = await torrentOnDisk('conventions.bin', 2 * 32_768 + 7, 32_768);
  seeder = await Torrent.open({
    network,
    directory: fixture.directory,
    info: torrentInfoFromMetainfo(fixture.metainfo),
    recheck: true,
    resume: false,
    listen: { host: '127.0.0.1' },
  });
  const chain = await Chain.open({ now: unixTimeFrom(network.clock, Date.now() / 1000) });
  ledger = new LedgerNode({
    network,
    chain,
    mempool: new Mempool({ chain }),
    listen: { host: '127.0.0.1', port: 0 },
  });
  await ledger.start();
});

afterAll(async () => {
  await Promise.all([dht.close(), gossip.close(), seeder.close(), ledger.close()]);
  fixture.remove();
});

describe('peerkit-conform conventions', () => {
  it('every command prints only envelopes with --json: a result per rule, then the report', async () => {
    const runs = [
      ['dht', `127.0.0.1:${dht.address.port}`, '--only', 'dht.ping', '--rate', '100000'],
      [
        'peer',
        `127.0.0.1:${seeder.listenAddress!.port}`,
        '--torrent',
        fixture.torrentPath,
        '--only',
        'peer.handshake.info-hash',
      ],
      ['gossip', `127.0.0.1:${gossip.address!.port}`, '--only', 'gossip.hello'],
      ['btc', `127.0.0.1:${ledger.listenAddress!.port}`, '--only', 'btc.ping.nonce'],
    ];
    for (const args of runs) {
      const run = await cli([...args, '--runs', '2', '--seed', '1', '--json']);
      expect(run.code, `${args[0]}: ${run.stderr}`).toBe(0);
      expect(run.stderr).toBe('');
      const events = run.stdout
        .trim()
        .split('\n')
        .map((line) => parseEnvelope(line));
      expect(
        events.every((e) => e !== undefined),
        run.stdout,
      ).toBe(true);
      const names = events.map((e) => e!.event);
      expect(names.at(-1)).toBe('report');
      expect(names.slice(0, -1).every((n) => n === 'result')).toBe(true);
      expect(names.length).toBeGreaterThan(1);
      expect(events.at(-1)).toMatchObject({ suite: args[0], ok: true });
    }
  }, 120_000);

  it.each([
    [['frobnicate'], 2, /^peerkit-conform: error: unknown command 'frobnicate'/],
    [['dht'], 2, /^peerkit-conform: error: missing required argument 'host:port'/],
    [['dht', 'nope'], 2, /expected HOST:PORT/],
    [['dht', '127.0.0.1:1', '--runs', '0'], 2, /--runs must be an integer in 1\.\.1000000/],
    [['dht', '127.0.0.1:1', '--rate', 'fast'], 2, /--rate must be an integer/],
    [['peer', '127.0.0.1:1'], 2, /required option '--torrent <file>' not specified/],
    [['peer', '127.0.0.1:1', '--torrent', '/nonexistent.torrent'], 1, /cannot read --torrent/],
    [['gossip', '127.0.0.1:1', '--bogus'], 2, /unknown option '--bogus'/],
    [['dht', '127.0.0.1:1', '-q', '-v'], 2, /cannot be used with option/],
  ] as const)(
    '%j exits %i with one error line',
    async (args, code, line) => {
      for (const json of [false, true]) {
        const run = await cli([...args, ...(json ? ['--json'] : [])]);
        expect(run.code, run.stderr).toBe(code);
        const lines = run.stderr.split('\n').filter((l) => l.trim() !== '');
        expect(lines, run.stderr).toHaveLength(1);
        expect(lines[0]).toMatch(/^peerkit-conform: error: /);
        expect(lines[0]).toMatch(line);
        if (json) {
          expect(parseEnvelope(run.stdout.trim())).toMatchObject({
            event: 'error',
            exitCode: code,
          });
        } else expect(run.stdout).toBe('');
      }
    },
    60_000,
  );
});
