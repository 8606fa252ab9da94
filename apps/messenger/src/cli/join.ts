/**
 * `peerkit-chat join <room>`: the interactive session. Incoming messages print above the
 * prompt; lines starting with `/` are commands. With `--json` (or without a terminal) there is
 * no prompt: every event is printed as a JSON line and each input line is handled the same way,
 * which is how scripts and tests drive a session.
 */
import { createInterface, type Interface } from 'node:readline';
import { colorEnabled } from '@peerkit/cli-kit';
import { isChatError } from '../errors';
import type { ChatEvent } from '../events';
import { messageView } from '../events';
import { DEFAULT_LIMITS } from '../limits';
import type { MessengerNode } from '../node';
import { checkRoomName } from '../rendezvous';
import { loadProfile, saveProfile } from '../state-dir';
import { type CommonOptions, loadRoomHistory, Output, startNode, stopNode } from './common';
import {
  type Colors,
  colors,
  failure,
  formatDm,
  formatMessage,
  info,
  sanitize,
  who,
} from './format';
import { resolvePeer } from './resolve-peer';

const HELP = [
  '/peers              connected peers (id, nick, score, rooms)',
  '/nick NAME          set your display name',
  '/dm PEER TEXT       direct message (PEER: id, id prefix or nick)',
  '/history [N]        the last N messages of the room (default 20)',
  '/quit               leave (also Ctrl-D / Ctrl-C)',
];

export async function runJoin(room: string, options: CommonOptions): Promise<void> {
  // A bad room name is refused before any socket is opened.
  checkRoomName(room, DEFAULT_LIMITS);
  const out = new Output(options.json, options);
  const interactive =
    !options.json && process.stdin.isTTY === true && process.stdout.isTTY === true;
  const c = colors(!options.json && colorEnabled(process.stdout));
  let rl: Interface | undefined;
  const print = (text: string) => {
    if (options.json) return;
    if (rl && interactive) {
      // Print above the prompt and redraw it with whatever the user was typing.
      process.stdout.write('\r\x1b[2K');
      process.stdout.write(`${text}\n`);
      rl.prompt(true);
    } else process.stdout.write(`${text}\n`);
  };
  let membersFound = 0;
  const node = await startNode(options, out, (event) => {
    out.event(event);
    if (event.type === 'rendezvous') {
      // Said when the number of members found changes, not at every refresh.
      if (event.found !== membersFound && event.found > 0)
        print(info(c, `found ${event.found} member(s) of #${sanitize(event.room)}`));
      membersFound = event.found;
      return;
    }
    const line = render(c, event);
    if (line !== undefined) print(line);
  });
  let stopping: Promise<void> | undefined;
  const stop = (code = 0) => {
    // Set before anything else runs: closing the prompt below emits `close`, which calls stop()
    // again, and a second stop used to save the histories twice at once (ENOENT on /quit).
    if (stopping !== undefined) return stopping;
    let done: () => void = () => undefined;
    stopping = new Promise<void>((resolve) => {
      done = resolve;
    });
    void (async () => {
      rl?.close();
      const pending = node.pendingDms;
      if (pending > 0) print(failure(c, `${pending} direct message(s) were not delivered`));
      try {
        await stopNode(node, options.stateDir);
      } catch (error) {
        out.error(error);
        code = 1;
      }
      out.event({ type: 'stopped' });
      done();
      process.exit(code);
    })();
    return stopping;
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());

  const saved = await loadRoomHistory(node, options.stateDir, room);
  print(info(c, `you are ${node.nick ?? 'anonymous'} (${node.id})`));
  if (saved > 0) {
    print(info(c, `last messages saved from before:`));
    for (const m of node.recentMessages(room, 10)) {
      print(
        formatMessage(
          c,
          messageView(m),
          m.author.every((b, i) => b === node.identity.publicKey[i]),
        ),
      );
    }
  }
  // The room is joined at once (subscribed); finding its members goes on in the background
  // and is reported as it happens, so the prompt never waits on a slow DHT.
  print(info(c, `looking for members of #${sanitize(room)} in the DHT…`));
  void node.join(room).catch((error: unknown) => print(failure(c, String(error))));
  print(info(c, `joined #${sanitize(room)}; type a message, or /help`));

  rl = createInterface({
    input: process.stdin,
    output: interactive ? process.stdout : undefined,
    terminal: interactive,
    prompt: interactive ? c.dim(`#${room}> `) : '',
  });
  rl.on('line', (line) => {
    // Erase the echoed input line: our own message is printed formatted like the others.
    if (interactive && !line.startsWith('/')) process.stdout.write('\x1b[1A\r\x1b[2K');
    void handleLine(node, room, line, { out, c, print, stop, stateDir: options.stateDir }).finally(
      () => interactive && !stopping && rl?.prompt(),
    );
  });
  rl.on('close', () => void stop());
  if (interactive) rl.prompt();
}

interface LineContext {
  out: Output;
  c: Colors;
  print: (text: string) => void;
  stop: (code?: number) => Promise<void>;
  stateDir: string;
}

async function handleLine(node: MessengerNode, room: string, raw: string, ctx: LineContext) {
  const line = raw.replace(/\r$/, '');
  if (line.trim().length === 0) return;
  const { c, print, out } = ctx;
  try {
    if (!line.startsWith('/')) {
      const { recipients } = node.say(room, line);
      if (recipients === 0) {
        print(
          info(c, 'nobody else is connected yet; peers who join later get it with the history'),
        );
      }
      return;
    }
    const [command = '', ...rest] = line.slice(1).split(' ');
    const arg = rest.join(' ');
    switch (command) {
      case 'help':
        for (const h of HELP) print(info(c, h));
        return;
      case 'quit':
      case 'exit':
        await ctx.stop(0);
        return;
      case 'peers': {
        const peers = node.peers();
        out.event({ type: 'peers', peers });
        if (peers.length === 0) print(info(c, 'no peers connected'));
        for (const p of peers) {
          print(
            info(
              c,
              `${who(c, p.id, p.nick)} ${p.id} score ${p.score.toFixed(1)} ${p.address ?? ''} ${p.rooms.map((r) => `#${r}`).join(' ')}`,
            ),
          );
        }
        return;
      }
      case 'nick': {
        const nick = arg.trim();
        if (nick.length === 0 || nick.length > node.limits.maxNickLength) {
          throw new Error(`a nick is 1-${node.limits.maxNickLength} characters`);
        }
        node.nick = nick;
        await saveProfile(ctx.stateDir, { ...(await loadProfile(ctx.stateDir)), nick });
        out.event({ type: 'nick', nick });
        print(info(c, `you are now ${sanitize(nick)}`));
        return;
      }
      case 'dm': {
        const [peer = '', ...words] = rest;
        const text = words.join(' ');
        const known = [
          ...node.peers(),
          ...[...node.knownNicks()].map(([id, nick]) => ({ id, nick })),
        ];
        const to = resolvePeer(peer, known);
        const result = await node.sendDm(to, text);
        if (!result.delivered)
          print(info(c, 'recipient not reachable now; will keep trying while you are here'));
        return;
      }
      case 'history': {
        const n = arg.trim() === '' ? 20 : Number(arg);
        if (!Number.isInteger(n) || n < 1) throw new Error('usage: /history [N] with N >= 1');
        const messages = node.recentMessages(room, n);
        out.event({ type: 'history-list', room, messages: messages.map(messageView) });
        if (messages.length === 0) print(info(c, 'no messages yet'));
        for (const m of messages) {
          const own = m.author.every((b, i) => b === node.identity.publicKey[i]);
          print(formatMessage(c, messageView(m), own));
        }
        return;
      }
      default:
        throw new Error(`unknown command /${command}; /help lists them`);
    }
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    out.event({ type: 'error', code: isChatError(error) ? error.code : 'BAD_INPUT', message });
    print(failure(c, message));
  }
}

function render(c: Colors, event: ChatEvent): string | undefined {
  switch (event.type) {
    case 'message':
      return formatMessage(c, event, event.own);
    case 'history':
      return [
        info(c, `${event.messages.length} earlier message(s) from ${event.source.slice(0, 8)}:`),
        ...event.messages.map((m) => formatMessage(c, m, false)),
      ].join('\n');
    case 'dm':
      return formatDm(c, event);
    case 'dm-delivered':
      return info(c, `DM ${event.id.slice(0, 8)} delivered to ${event.to.slice(0, 8)}`);
    case 'dm-pending':
      return info(
        c,
        `DM ${event.id.slice(0, 8)} to ${event.to.slice(0, 8)} not delivered yet (${event.reason}); retrying in ${Math.round(event.retryInMs / 1000)} s`,
      );
    case 'peer-joined':
      return info(c, `${event.peer.slice(0, 8)} connected`);
    case 'peer-left':
      return info(c, `${event.peer.slice(0, 8)} disconnected`);
    case 'rejected':
      return failure(
        c,
        `rejected a message from ${event.peer.slice(0, 8)}: ${event.reason} (${event.detail})`,
      );
    case 'warning':
      return info(c, event.message);
    default:
      return undefined;
  }
}
