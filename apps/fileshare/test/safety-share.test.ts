/**
 * Your files (issue #14), `share` and seeding: a second sharer is refused, content that does
 * not match its torrent is refused, a seeder never serves a piece whose file changed, and a disk
 * error while seeding is one event and a retry. Real files; real processes except where an
 * option of the library is needed (the retry delay).
 */
import { lstat, open, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runShare } from '../src/commands/share';
import type { NodeEvent } from '../src/events';
import { openStateDir } from '../src/state-dir';
import { sha256, sha256File, withTimeout } from './helpers';
import { bytes } from './safety-helpers';
import { canMount, exitOf, expectOneLineFailure, SafetyKit, single } from './safety-kit';

const kit = new SafetyKit();
afterEach(() => kit.cleanup());

describe('your files (issue #14): share and seeding', () => {
  it('a second share of the same file is refused at once, naming the first process', async () => {
    const dir = await kit.harness.tempDir();
    const path = join(dir, 'album.flac');
    await writeFile(path, bytes(60_000, 26));
    const share = (state: string) =>
      kit.harness.spawn([
        'share',
        path,
        '--no-dht',
        '--host',
        '127.0.0.1',
        '--state-dir',
        join(dir, state),
        '--json',
      ]);
    const first = share('one');
    await first.waitForEvent('resumed', 20_000);
    await expectOneLineFailure(share('two'), new RegExp(`in use by process ${first.pid}\\b`));
    expect(first.running).toBe(true);
    await first.stop('SIGINT');
    // Stopped cleanly: its lock is gone, and the next one starts.
    const next = share('two');
    await next.waitForEvent('resumed', 20_000);
    await next.stop('SIGINT');
  });

  it.skipIf(!canMount())(
    'while seeding, a full disk is one storage-error event and the session resumes by itself once there is space',
    async () => {
      // Found: loops on a full disk and does not resume by itself when space returns.
      const t = single('grow.bin', 400_000, 24);
      const s = await kit.setup(t);
      const small = join(s.dir, 'small');
      await kit.mountTmpfs(small, 'size=512k');
      // The first 3 pieces are there; the rest of the file is a hole that needs disk space.
      const path = join(small, 'grow.bin');
      const h = await open(path, 'w');
      await h.write(t.data.subarray(0, 3 * 16_384), 0, 3 * 16_384, 0);
      await h.truncate(400_000);
      await h.close();
      // Fill the disk.
      const filler = await open(join(small, 'filler'), 'w');
      for (let at = 0; ; at += 4096) {
        const ok = await filler.write(Buffer.alloc(4096, 1), 0, 4096, at).then(
          () => true,
          () => false,
        );
        if (!ok) break;
      }
      await filler.close();
      const events: NodeEvent[] = [];
      const node = await runShare({
        path,
        torrentFile: s.torrentFile,
        seedValid: true,
        state: await openStateDir(s.state),
        host: '127.0.0.1',
        dht: false,
        peers: [{ host: '127.0.0.1', port: s.port }],
        storageRetryMs: 100,
        onEvent: (e) => events.push(e),
      });
      try {
        expect(node.torrent.stats().verifiedPieces).toBe(3);
        for (let i = 0; i < 300 && !events.some((e) => e.type === 'storage-error'); i++)
          await new Promise((resolve) => setTimeout(resolve, 20));
        const reported = events.filter((e) => e.type === 'storage-error');
        expect(reported[0]).toMatchObject({ code: 'IO_ERROR', retryInMs: 100 });
        expect(String((reported[0] as { message: string }).message)).toMatch(
          /no space left on device/,
        );
        // Retried several times, silently: still one event.
        const paused = () => node.torrent.paused;
        for (let i = 0; i < 5; i++) {
          for (let j = 0; j < 100 && !paused(); j++)
            await new Promise((resolve) => setTimeout(resolve, 10));
          for (let j = 0; j < 100 && paused(); j++)
            await new Promise((resolve) => setTimeout(resolve, 10));
        }
        expect(events.filter((e) => e.type === 'storage-error')).toHaveLength(1);
        // Space comes back: the next retry goes on and the download completes.
        await rm(join(small, 'filler'));
        await withTimeout(node.whenDone(), 30_000, 'the download after space came back');
        // Never a loop of warnings: the one event, nothing else about the disk.
        expect(events.filter((e) => e.type === 'storage-error')).toHaveLength(1);
        expect(events.filter((e) => e.type === 'warning')).toEqual([]);
      } finally {
        await node.close();
      }
      expect(await sha256File(path)).toBe(sha256(t.data));
    },
  );

  it('share of data that does not match its torrent fails with one line unless --seed-valid', async () => {
    // Found: seeds a file that does not match its torrent (0 pieces valid) with no warning.
    const dir = await kit.harness.tempDir();
    const path = join(dir, 'photo.raw');
    await writeFile(path, bytes(100_000, 21));
    const create = kit.harness.spawn([
      'create',
      path,
      '--piece-length',
      '16k',
      '-o',
      join(dir, 't'),
    ]);
    expect(await exitOf(create), create.stderr).toBe(0);
    const args = ['share', path, '--torrent', join(dir, 't'), '--no-dht', '--host', '127.0.0.1'];
    // Every byte changed (same size): nothing matches.
    await writeFile(path, bytes(100_000, 22));
    const state = ['--state-dir', join(dir, 'state'), '--json'];
    await expectOneLineFailure(
      kit.harness.spawn([...args, ...state]),
      /does not match .*0 of 7 pieces/,
    );
    // One piece changed: 6 of 7 match; refused, unless asked to seed what is valid.
    await writeFile(path, bytes(100_000, 21));
    const h = await open(path, 'r+');
    await h.write(Buffer.alloc(10, 1), 0, 10, 20_000);
    await h.close();
    await expectOneLineFailure(
      kit.harness.spawn([...args, ...state]),
      /only 6 of 7 pieces are valid/,
    );
    const valid = kit.harness.spawn([...args, ...state, '--seed-valid']);
    await valid.waitForEvent('listening', 20_000);
    const resumed = await valid.waitForEvent('resumed', 20_000);
    expect(resumed.verified).toBe(6);
    await valid.stop('SIGINT');
    // A missing file is named.
    await rm(path);
    await expectOneLineFailure(
      kit.harness.spawn([...args, ...state]),
      /no such file or directory: .*photo\.raw/,
    );
  });

  it('share of a symbolic link the user names seeds the file it points to', async () => {
    // Not a finding: the storage refuses links below the directory, so the one you name is
    // followed once, up front.
    const dir = await kit.harness.tempDir();
    await writeFile(join(dir, 'real.bin'), bytes(50_000, 25));
    await symlink(join(dir, 'real.bin'), join(dir, 'link.bin'));
    const p = kit.harness.spawn([
      'share',
      join(dir, 'link.bin'),
      '--no-dht',
      '--host',
      '127.0.0.1',
      '--state-dir',
      join(dir, 'state'),
      '--json',
    ]);
    expect((await p.waitForEvent('torrent', 20_000)).name).toBe('real.bin');
    const resumed = await p.waitForEvent('resumed', 20_000);
    expect(resumed.verified).toBe(resumed.pieces);
    await p.stop('SIGINT');
  });

  it('a seeder re-verifies a piece whose file changed since the check and does not serve it', async () => {
    // Found: keeps serving a file that changed on disk after the check without noticing.
    const dir = await kit.harness.tempDir();
    const path = join(dir, 'live.bin');
    const original = bytes(200_000, 23);
    await writeFile(path, original);
    const seeder = kit.harness.spawn([
      'share',
      path,
      '--piece-length',
      '16k',
      '--no-dht',
      '--host',
      '127.0.0.1',
      '--state-dir',
      join(dir, 'seed-state'),
      '--json',
    ]);
    const listening = await seeder.waitForEvent('listening', 20_000);
    const magnet = String((await seeder.waitForEvent('torrent', 20_000)).magnet);
    const getArgs = (out: string) => [
      'get',
      magnet,
      '--peer',
      `127.0.0.1:${listening.port}`,
      '--no-dht',
      '--host',
      '127.0.0.1',
      '--out',
      join(dir, out),
      '--state-dir',
      join(dir, `${out}-state`),
      '--json',
    ];
    const first = kit.harness.spawn([...getArgs('one'), '--exit-when-done']);
    expect(await exitOf(first), first.stderr).toBe(0);
    // The file is changed in place while the seeder runs.
    const h = await open(path, 'r+');
    await h.write(Buffer.alloc(5000, 0x77), 0, 5000, 1000);
    await h.close();
    const second = kit.harness.spawn(getArgs('two'));
    const warning = await seeder.waitFor(
      (e) => e.event === 'warning' && e.code === 'DATA_CHANGED',
      20_000,
      'a DATA_CHANGED warning',
    );
    expect(String(warning.message)).toMatch(/piece 0 changed on disk/);
    // The connection asking for it is dropped; the getter comes back and is refused again, with
    // no second warning. The changed piece never reaches it (no hash failure downstream).
    const refused = (e: { event: string; action?: unknown; reason?: unknown }) =>
      e.event === 'peer' && e.action === 'disconnect' && /piece 0 changed/.test(String(e.reason));
    await seeder.waitFor((e) => seeder.events.filter(refused).length >= 2 && refused(e), 30_000);
    expect(seeder.events.filter((e) => e.code === 'DATA_CHANGED')).toHaveLength(1);
    expect(second.events.some((e) => e.event === 'piece')).toBe(true);
    expect(second.events.some((e) => e.event === 'hash-failure')).toBe(false);
    expect(second.events.some((e) => e.event === 'done')).toBe(false);
    await second.stop('SIGINT');
    expect((await lstat(path)).size).toBe(200_000);
  });
});
