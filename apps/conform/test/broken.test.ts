import { nodeNetwork } from '@peerkit/transport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDhtSuite, runPeerSuite } from '../src/suites';
import { startMisalignedSeeder, startTruncatingDhtNode } from './broken-fixtures';
import { type TorrentOnDisk, torrentOnDisk } from './fixtures';

const network = nodeNetwork();

describe('a DHT node that truncates transaction ids', () => {
  let node: Awaited<ReturnType<typeof startTruncatingDhtNode>>;
  beforeAll(async () => {
    node = await startTruncatingDhtNode(network);
  });
  afterAll(() => node.close());

  it('is caught with a shrunk counterexample, and the seed replays it', async () => {
    const options = { runs: 50, seed: 1234, only: ['dht.krpc.transaction-id'] };
    const first = await runDhtSuite(node.address, options);
    const result = first.results[0]!;
    expect(result.outcome).toBe('failed');
    // Shrunk to the smallest transaction id the bug shows on: three zero bytes.
    expect(result.counterexample).toContain('"t":Uint8Array.from([0,0,0])');
    expect(result.reason).toMatch(/sent t=000000, the answer has t=0000/);
    expect(result.seed).toBe(1234);
    expect(result.path).toBeDefined();

    const again = await runDhtSuite(node.address, options);
    expect(again.results[0]!.counterexample).toBe(result.counterexample);
    expect(again.results[0]!.path).toBe(result.path);

    // The path replays the shrunk case directly.
    const replay = await runDhtSuite(node.address, { ...options, path: result.path! });
    expect(replay.results[0]!.outcome).toBe('failed');
    expect(replay.results[0]!.counterexample).toBe(result.counterexample);
  });

  it('passes the rules the bug does not touch', async () => {
    const report = await runDhtSuite(node.address, {
      runs: 10,
      seed: 1,
      only: ['dht.ping', 'dht.find_node.nodes'],
    });
    expect(report.results.map((r) => r.outcome)).toEqual(['passed', 'passed']);
  });
});

describe('a seeder that serves misaligned blocks wrongly', () => {
  let fixture: TorrentOnDisk;
  let seeder: Awaited<ReturnType<typeof startMisalignedSeeder>>;
  beforeAll(async () => {
    fixture = await torrentOnDisk('broken.bin', 3 * 32_768 + 1_000, 32_768, 9);
    seeder = await startMisalignedSeeder(network, fixture.metainfo, fixture.data);
  });
  afterAll(async () => {
    await seeder.close();
    fixture.remove();
  });

  it('is caught with a shrunk counterexample, and the seed replays it', async () => {
    const options = { runs: 30, seed: 99, only: ['peer.request.block'], timeoutMs: 2_000 };
    const first = await runPeerSuite(seeder.address, fixture.metainfo, options);
    const result = first.results[0]!;
    expect(result.outcome).toBe('failed');
    // Shrunk to one byte at offset 1 of the first piece.
    expect(result.counterexample).toBe('{"index":0,"begin":1,"length":1}');
    expect(result.reason).toMatch(/differs from the verified piece at byte 1/);
    const again = await runPeerSuite(seeder.address, fixture.metainfo, options);
    expect(again.results[0]!.counterexample).toBe(result.counterexample);
    expect(again.results[0]!.path).toBe(result.path);
  });
});
