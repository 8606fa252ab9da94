/**
 * The conventions shared by the three peerkit CLIs (docs/cli.md), for peerkit-chat: every
 * command's `--json` output is envelopes only (`{"event","time",...}`), and a table of bad
 * inputs gets the right exit code (2 usage, 1 failure) and exactly one error line.
 */
import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnvelope } from '@peerkit/cli-kit';
import type { BootstrapNode } from '@peerkit/kademlia';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBootstrap } from './helpers/nodes';
import { ChatProcess, type Json, requireBuild, runCli, tempDir } from './helpers/process';

const envelopes = (events: Json[]) => {
  for (const e of events) {
    expect(parseEnvelope(JSON.stringify(e)), JSON.stringify(e)).toBeDefined();
    expect(Object.keys(e).slice(0, 2)).toEqual(['event', 'time']);
  }
};

describe('peerkit-chat conventions', () => {
  let boot: BootstrapNode;
  let dir: ReturnType<typeof tempDir>;
  const common = (name: string) => [
    '--host',
    '127.0.0.1',
    '--bootstrap',
    `127.0.0.1:${boot.address.port}`,
    '--state-dir',
    join(dir.path, name),
    '--json',
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

  it('every command prints only envelopes with --json', async () => {
    const id = await runCli(['id', '--state-dir', join(dir.path, 'member'), '--json']);
    expect(id.code, id.stderr).toBe(0);
    envelopes(id.events);
    expect(id.events.map((e) => e.event)).toEqual(['id']);

    const member = new ChatProcess(['join', 'lobby', ...common('member')]);
    await member.waitFor((e) => e.event === 'joined', 'member joined');
    const send = await runCli(['send', 'lobby', 'hello', ...common('sender')]);
    expect(send.code, send.stderr).toBe(0);
    envelopes(send.events);
    expect(send.events.at(-1)?.event).toBe('sent');
    const dm = await runCli(['dm', String(id.events[0]!.id), 'psst', ...common('sender')]);
    expect(dm.code, dm.stderr).toBe(0);
    envelopes(dm.events);
    expect(dm.events.at(-1)?.event).toBe('dm-sent');
    member.input('/quit');
    expect(await member.exited).toBe(0);
    envelopes(member.events);
    expect(member.events.map((e) => e.event)).toEqual(
      expect.arrayContaining(['ready', 'joined', 'message', 'dm', 'stopped']),
    );
  }, 120_000);

  it('a table of bad inputs: exit code and one error line (and one error event)', async () => {
    const state = join(dir.path, 'bad');
    const keyed = join(dir.path, 'keyed');
    expect((await runCli(['id', '--state-dir', keyed])).code).toBe(0);
    chmodSync(join(keyed, 'identity.key'), 0o644);
    const table: [string[], number, RegExp][] = [
      [['frobnicate'], 2, /unknown command 'frobnicate'/],
      [['send', 'lobby'], 2, /missing required argument 'text'/],
      [['send', '', 'hi', '--state-dir', state], 2, /a room name is 1-64 characters/],
      [['send', 'lobby', '   ', '--state-dir', state], 2, /empty message/],
      [['dm', 'not-a-peer-id', 'hi', '--state-dir', state], 2, /peer id is 55 characters/],
      [['send', 'lobby', 'hi', '--port', 'x'], 2, /--port must be a port number 0-65535/],
      [['send', 'lobby', 'hi', '--bootstrap', 'nope'], 2, /--bootstrap: expected HOST:PORT/],
      [['send', 'lobby', 'hi', '--timeout', '0'], 2, /--timeout must be a number greater than 0/],
      [['join', 'lobby', '--bogus'], 2, /unknown option '--bogus'/],
      [['join', 'lobby', '-q', '-v'], 2, /cannot be used with option/],
      [['id', '--state-dir', keyed], 1, /is readable by others/],
    ];
    for (const [args, code, pattern] of table) {
      for (const json of [false, true]) {
        const r = await runCli([...args, ...(json ? ['--json'] : [])]);
        const what = `${args.join(' ')}${json ? ' --json' : ''}`;
        expect(r.code, `${what}: ${r.stderr}`).toBe(code);
        const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
        expect(lines, what).toHaveLength(1);
        expect(lines[0], what).toMatch(/^peerkit-chat: error: /);
        expect(lines[0], what).toMatch(pattern);
        if (json) {
          expect(r.events, what).toHaveLength(1);
          expect(r.events[0], what).toMatchObject({ event: 'error', exitCode: code });
        } else expect(r.events, what).toHaveLength(0);
      }
    }
  }, 120_000);

  it('--version prints the version and exits 0', async () => {
    const p = new ChatProcess(['--version']);
    expect(await p.exited).toBe(0);
  });
});
