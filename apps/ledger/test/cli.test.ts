/**
 * The built `peerkit-ledger` (dist/cli.js) as real processes: a node with a datadir, the client
 * commands against it, and one clear line (exit 2) for each bad input.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

function run(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('peerkit-ledger command line', () => {
  let dir: string;
  let node: ChildProcess;
  let rpcPort = 0;
  const client = (...args: string[]) =>
    run([...args, '--rpc-port', String(rpcPort), '--datadir', join(dir, 'a')]);

  beforeAll(async () => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`pnpm build\` first`);
    dir = mkdtempSync(join(tmpdir(), 'peerkit-ledger-cli-'));
    node = spawn(
      process.execPath,
      [CLI, 'node', '--port', '0', '--rpc-port', '0', '--datadir', join(dir, 'a'), '--quiet'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      node.stdout?.on('data', (c: Buffer) => {
        out += c.toString();
        if (out.includes('\n')) resolve(out);
      });
      node.once('exit', (code) => reject(new Error(`node exited with ${code}`)));
    });
    rpcPort = Number(/JSON-RPC 127\.0\.0\.1:(\d+)/.exec(line)?.[1]);
  }, 60_000);

  afterAll(async () => {
    if (node?.pid !== undefined && node.exitCode === null) {
      const exited = new Promise((r) => node.once('exit', r));
      process.kill(node.pid, 'SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('mines, pays, shows the transaction and the tip', () => {
    expect(client('mine', '101').stdout).toMatch(/^mined 101 block\(s\), tip [0-9a-f]{64}\n$/);
    const address = client('address').stdout.trim();
    expect(address).toMatch(/^[mn]/);
    const sent = client('send', address, '1.25', '--json');
    expect(sent.status).toBe(0);
    const txid = JSON.parse(sent.stdout) as string;
    expect(client('tx', txid).stdout).toContain('in the mempool');
    client('mine', '1');
    expect(client('tx', txid).stdout).toContain('1 confirmation(s)');
    expect(client('tip').stdout).toMatch(/^102 [0-9a-f]{64}\n$/);
    expect(JSON.parse(client('balance', '--json').stdout).mine.trusted).toBeGreaterThan(0);
    expect(client('peers').stdout).toBe('no peers\n');
  }, 120_000);

  it('refuses a second node on the same datadir with one line', () => {
    const r = run(['node', '--port', '0', '--rpc-port', '0', '--datadir', join(dir, 'a')]);
    expect(r.status).not.toBe(0);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('answers every bad input with one line and exit code 2', () => {
    for (const args of [
      ['send', 'not-an-address', '1'],
      ['send', 'mqfT2bYgApBYMM3NDPHN7bsfN6sVPPhXbR', 'lots'],
      ['mine', 'zero'],
      ['tx', 'abc'],
    ]) {
      const r = client(...args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/^peerkit-ledger: .+\n$/);
    }
    const r = run(['node', '--connect', 'nowhere:1', '--rpc-port', '0', '--port', '0']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^peerkit-ledger: not an IP address/);
    const down = run(['tip', '--rpc-port', '1', '--rpc-user', 'u', '--rpc-password', 'p']);
    expect(down.status).toBe(2);
    expect(down.stderr).toMatch(/^peerkit-ledger: no node answers on 127\.0\.0\.1:1/);
  });
});
