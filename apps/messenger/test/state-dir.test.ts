import { chmodSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatPeerId } from '../src/peer-id';
import {
  createIdentity,
  IDENTITY_FILE,
  loadIdentity,
  loadOrCreateIdentity,
} from '../src/state-dir';
import { runCli, tempDir } from './helpers/process';

const dir = tempDir();
afterAll(() => dir.remove());

describe('identity in the state dir', () => {
  it('is created once with mode 0600 and reused', async () => {
    const a = await loadOrCreateIdentity(join(dir.path, 'a'));
    expect(a.created).toBe(true);
    expect(statSync(join(dir.path, 'a', IDENTITY_FILE)).mode & 0o777).toBe(0o600);
    const again = await loadOrCreateIdentity(join(dir.path, 'a'));
    expect(again.created).toBe(false);
    expect(again.identity.publicKey).toEqual(a.identity.publicKey);
  });

  it('refuses a key file others can read, and keeps the old key on --new', async () => {
    const d = join(dir.path, 'b');
    const first = await createIdentity(d);
    const second = await createIdentity(d);
    expect(second.publicKey).not.toEqual(first.publicKey);
    expect(statSync(join(d, `${IDENTITY_FILE}.old`)).isFile()).toBe(true);
    chmodSync(join(d, IDENTITY_FILE), 0o644);
    await expect(loadIdentity(d)).rejects.toThrow(/readable by others/);
  });

  it('`peerkit-chat id` prints the same copyable id every time; --new makes another', async () => {
    const d = join(dir.path, 'cli');
    const one = await runCli(['id', '--json', '--state-dir', d]);
    const two = await runCli(['id', '--json', '--state-dir', d]);
    const id = one.events[0]?.id as string;
    expect(id).toMatch(/^[a-z2-7]{55}$/);
    expect(two.events[0]).toMatchObject({ id, created: false });
    const fresh = await runCli(['id', '--new', '--json', '--state-dir', d]);
    expect(fresh.events[0]?.id).not.toBe(id);
    const loaded = await loadIdentity(d);
    expect(formatPeerId(loaded!.publicKey)).toBe(fresh.events[0]?.id);
  });
});
