/**
 * The command line's own behaviour (issue #16): `/quit` saves once and exits cleanly, `--nick`
 * is saved, a bad room name is refused before the DHT starts, and a one-shot gives up at its
 * `--timeout` with one line saying what it was waiting for.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BootstrapNode } from '@peerkit/kademlia';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBootstrap, until } from './helpers/nodes';
import { ChatProcess, requireBuild, runCli, tempDir } from './helpers/process';

describe('peerkit-chat command line', () => {
  let boot: BootstrapNode;
  let dir: ReturnType<typeof tempDir>;
  const common = (name: string) => [
    '--host',
    '127.0.0.1',
    '--bootstrap',
    `127.0.0.1:${boot.address.port}`,
    '--state-dir',
    join(dir.path, name),
  ];

  beforeAll(async () => {
    requireBuild();
    boot = await startBootstrap();
    dir = tempDir();
  });
  afterAll(async () => {
    await boot?.close();
    dir?.remove();
  });

  it('/quit saves the history once and exits 0 with no error; --nick is saved', async () => {
    const p = new ChatProcess(['join', 'quiet-room', '--json', '--nick', 'ann', ...common('ann')]);
    await p.waitFor((e) => e.event === 'joined', 'joined');
    p.input('a line to save');
    await p.waitFor((e) => e.event === 'message' && e.own === true, 'own message');
    p.input('/quit');
    expect(await p.exited).toBe(0);
    expect(p.stderr).not.toMatch(/ENOENT|error/);
    expect(p.events.at(-1)?.event).toBe('stopped');
    expect(JSON.parse(readFileSync(join(dir.path, 'ann', 'profile.json'), 'utf8'))).toEqual({
      nick: 'ann',
    });
    // Every line is one envelope: event first, then time.
    for (const e of p.events) expect(Object.keys(e).slice(0, 2)).toEqual(['event', 'time']);
  });

  it('join says what it waits for, and prompts before the member lookup is over', async () => {
    const p = new ChatProcess(['join', 'status-room', ...common('cyd')]);
    await until(() => p.stdoutText.includes('joined #status-room'), 'the prompt line');
    expect(p.stderr).toContain(`joining the DHT through 127.0.0.1:${boot.address.port}…`);
    const text = p.stdoutText;
    expect(text.indexOf('looking for members of #status-room in the DHT…')).toBeGreaterThanOrEqual(
      0,
    );
    expect(text.indexOf('looking for members')).toBeLessThan(text.indexOf('joined #status-room'));
    p.input('/quit');
    expect(await p.exited).toBe(0);
  });

  it('a bad room name is refused (exit 2) before any node starts', async () => {
    for (const room of ['', 'x'.repeat(65)]) {
      for (const command of [
        ['send', room, 'hi'],
        ['join', room],
      ]) {
        const r = await runCli([...command, '--json', ...common('bad')]);
        expect(r.code, command.join(' ')).toBe(2);
        expect(r.stderr.trim().split('\n')).toEqual([
          'peerkit-chat: error: a room name is 1-64 characters',
        ]);
        expect(r.events.map((e) => e.event)).toEqual(['error']);
      }
    }
  });

  it('send gives up at --timeout with one line saying what it waited for', async () => {
    const r = await runCli([
      'send',
      'empty-room',
      'anyone?',
      '--timeout',
      '3',
      '--json',
      ...common('bob'),
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
    expect(r.stderr, r.stderr).toMatch(
      /^peerkit-chat: error: no member of room 'empty-room' found within 3 s \(waiting for (the DHT|a member of #empty-room)/,
    );
    const steps = r.events.filter((e) => e.event === 'step').map((e) => e.waitingFor);
    expect(steps[0]).toBe('the DHT (start-up)');
    expect(r.events.at(-1)).toMatchObject({ event: 'error', code: 'TIMEOUT', exitCode: 1 });
  });
});
