/**
 * Persistence: the block log survives kill -9 at any moment (a child process mining blocks is
 * killed at random points; the reopened chain holds every block the child reported durable,
 * as a consistent prefix), a torn last record is dropped, and a second writer is refused.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  Chain,
  generateBlocks,
  hashToHex,
  LedgerError,
  MemoryChainStore,
  openFileChainStore,
  toHex,
} from '../src/index';
import { OP_TRUE } from './helpers/blocks';

const NOW = () => 2_000_000_000;
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'peerkit-ledger-'));
  dirs.push(d);
  return d;
}

/** The seed of this run: random locally, fixed under CI, LEDGER_SEED overrides. */
const SEED = Number(
  process.env.LEDGER_SEED ?? (process.env.CI ? 1 : Math.floor(Math.random() * 2 ** 31)),
);

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Runs the writer until it has reported `lines` blocks, then SIGKILLs it after `delayMs`. */
function runAndKill(dir: string, lines: number, delayMs: number): Promise<string[]> {
  const script = fileURLToPath(new URL('./fixtures/chain-writer.ts', import.meta.url));
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(
      process.execPath,
      ['--conditions=@peerkit/source', '--import', 'tsx', script, dir],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    let killing = false;
    const guard = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const reported = out.split('\n').filter((l) => /^\d+ /.test(l)).length;
      if (!killing && reported >= lines) {
        killing = true;
        setTimeout(() => child.kill('SIGKILL'), delayMs);
      }
    });
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.on('exit', (_code, signal) => {
      clearTimeout(guard);
      if (signal !== 'SIGKILL') reject(new Error(`writer exited by itself: ${err}`));
      else resolve(out.split('\n').filter((l) => l.length > 0));
    });
  });
}

describe('persistence', () => {
  it(`survives kill -9 at random moments (seed ${SEED}; LEDGER_SEED=${SEED} replays)`, async () => {
    const random = rng(SEED);
    const dir = tempDir();
    const durable = new Map<number, string>();
    for (let round = 0; round < 4; round++) {
      const lines = await runAndKill(dir, 1 + Math.floor(random() * 40), Math.floor(random() * 30));
      const opened = lines.find((l) => l.startsWith('open '));
      expect(opened, 'the writer restarted from the stored chain').toBeDefined();
      // The child reopened exactly what the previous round left (restart without re-download).
      const [, openHeight] = (opened as string).split(' ');
      expect(Number(openHeight)).toBeGreaterThanOrEqual(Math.max(0, ...durable.keys()));
      for (const l of lines.filter((x) => /^\d+ /.test(x))) {
        const [h, hash] = l.split(' ') as [string, string];
        durable.set(Number(h), hash);
      }
      const chain = await Chain.open({ store: await openFileChainStore(dir), now: NOW });
      try {
        for (const [h, hash] of durable)
          expect(hashToHex(chain.entryAt(h)?.hash ?? new Uint8Array(32)), `height ${h}`).toBe(hash);
        expect(chain.height).toBeGreaterThanOrEqual(Math.max(...durable.keys()));
        // The UTXO set is consistent: rebuilding it from the stored blocks gives the same one.
        const rebuilt = await Chain.open({
          store: MemoryChainStore.from(new Uint8Array(0)),
          now: NOW,
        });
        for (let h = 1; h <= chain.height; h++)
          await rebuilt.acceptBlock((await chain.getBlock(chain.entryAt(h)!.hash))!);
        const key = (c: Chain) =>
          [...c.coins()]
            .map(([o, coin]) => `${toHex(o.txid)}:${o.index}:${coin.output.value}`)
            .sort();
        expect(key(chain)).toEqual(key(rebuilt));
      } finally {
        await chain.close();
      }
    }
  }, 300_000);

  it('drops a torn last record at every cut point', async () => {
    const store = new MemoryChainStore();
    const chain = await Chain.open({ store, now: NOW });
    await generateBlocks({ chain, coinbaseScript: OP_TRUE, count: 3 });
    const full = store.snapshot();
    const before = await Chain.open({ store: MemoryChainStore.from(full), now: NOW });
    expect(before.height).toBe(3);
    const third = chain.entryAt(2)!;
    for (let cut = full.length - 1; cut > full.length - 120; cut--) {
      const s = MemoryChainStore.from(full.subarray(0, cut));
      const reopened = await Chain.open({ store: s, now: NOW });
      expect(reopened.height).toBe(2);
      expect(toHex(reopened.tip.hash)).toBe(toHex(third.hash));
      expect((await s.size()) < cut).toBe(true); // the torn tail was truncated
    }
    // A flipped byte inside the last record is a bad checksum: dropped the same way.
    const flipped = full.slice();
    flipped[flipped.length - 5] = (flipped[flipped.length - 5] as number) ^ 0xff;
    expect((await Chain.open({ store: MemoryChainStore.from(flipped), now: NOW })).height).toBe(2);
  });

  it('refuses a second writer on the same directory, in this process and from another', async () => {
    const dir = tempDir();
    const first = await openFileChainStore(dir);
    await expect(openFileChainStore(dir)).rejects.toSatisfy(
      (e: unknown) => e instanceof LedgerError && e.code === 'STORAGE',
    );
    await first.close();
    const again = await openFileChainStore(dir);
    await again.close();
  });
});
