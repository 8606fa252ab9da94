/**
 * The interactive session in a real pseudo-terminal: `peerkit-chat join` runs inside tmux (its
 * own server socket, `-L`, killed at the end), typed into with send-keys and read with
 * capture-pane, talking to a second node driven through `--json`.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { BootstrapNode } from '@peerkit/kademlia';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBootstrap, until } from './helpers/nodes';
import { ChatProcess, CLI, requireBuild, tempDir } from './helpers/process';

const SOCKET = `peerkit-chat-test-${process.pid}`;
const tmux = (...args: string[]) =>
  execFileSync('tmux', ['-L', SOCKET, ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
const screen = () => tmux('capture-pane', '-p', '-t', 'chat', '-S', '-100');

describe('interactive session in a pseudo-terminal (tmux)', () => {
  let boot: BootstrapNode;
  let dir: ReturnType<typeof tempDir>;
  let bot: ChatProcess | undefined;

  beforeAll(async () => {
    requireBuild();
    boot = await startBootstrap();
    dir = tempDir();
  });

  afterAll(async () => {
    try {
      tmux('kill-server');
    } catch {
      // already gone: the session ended with /quit
    }
    await bot?.stop();
    await boot?.close();
    dir?.remove();
  });

  it('sends what is typed and shows what arrives, with name and time', async () => {
    const common = ['--host', '127.0.0.1', '--bootstrap', `127.0.0.1:${boot.address.port}`];
    bot = new ChatProcess([
      'join',
      'lobby',
      '--json',
      ...common,
      '--state-dir',
      join(dir.path, 'bot'),
      '--nick',
      'bot',
    ]);
    await bot.waitFor((e) => e.event === 'joined', 'bot joined');
    const command = [
      process.execPath,
      CLI,
      'join',
      'lobby',
      ...common,
      '--state-dir',
      join(dir.path, 'tty'),
      '--nick',
      'tty',
    ]
      .map((a) => `'${a}'`)
      .join(' ');
    tmux('new-session', '-d', '-s', 'chat', '-x', '140', '-y', '40', command);
    await until(() => screen().includes('joined #lobby'), 'the session to start');
    await bot.waitFor((e) => e.event === 'peer-joined', 'the terminal node to connect');
    await until(() => screen().includes('connected'), 'the peer to show up');

    tmux('send-keys', '-t', 'chat', 'hello from the terminal', 'Enter');
    const got = await bot.waitFor(
      (e) => e.event === 'message' && e.own === false,
      'the typed message',
    );
    expect(got).toMatchObject({ text: 'hello from the terminal', nick: 'tty' });
    await until(
      () => /\d\d:\d\d:\d\d tty \(you\): hello from the terminal/.test(screen()),
      'own line',
    );

    bot.input('hi terminal');
    await until(
      () => /\d\d:\d\d:\d\d bot \([a-z2-7]{8}\): hi terminal/.test(screen()),
      'incoming line',
    );

    tmux('send-keys', '-t', 'chat', '/peers', 'Enter');
    await until(
      () => screen().includes((bot!.find((e) => e.event === 'ready')?.id as string) ?? '?'),
      '/peers output',
    );
    tmux('send-keys', '-t', 'chat', '/history 5', 'Enter');
    await until(() => screen().split('hi terminal').length > 2, '/history output');

    if (process.env.SHOW_SCREEN) console.log(screen());
    tmux('send-keys', '-t', 'chat', '/nick teletype', 'Enter');
    await until(() => screen().includes('you are now teletype'), '/nick');
    tmux('send-keys', '-t', 'chat', 'renamed', 'Enter');
    await bot.waitFor(
      (e) => e.event === 'message' && e.text === 'renamed' && e.nick === 'teletype',
      'new nick',
    );

    tmux('send-keys', '-t', 'chat', '/quit', 'Enter');
    await until(() => {
      try {
        tmux('has-session', '-t', 'chat');
        return false;
      } catch {
        return true;
      }
    }, 'the session to end after /quit');
  });
});
