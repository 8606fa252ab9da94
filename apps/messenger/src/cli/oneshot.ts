/**
 * The one-shot commands for scripts: `send <room> <text>` and `dm <peer-id> <text>`. Each
 * starts a node, delivers, and exits 0 once at least one peer has the message; exit 1 with one
 * line saying what it was still waiting for when `--timeout` runs out (counted from the start,
 * start-up and DHT included, and the command ends at that moment); exit 2 for bad input, found
 * before any socket is opened. Each step is reported (stderr, or `step` events with `--json`).
 */
import { sleep } from '@peerkit/transport';
import { ChatError } from '../errors';
import { checkText, DEFAULT_LIMITS } from '../limits';
import type { MessengerNode } from '../node';
import { formatPeerId, parsePeerId } from '../peer-id';
import { checkRoomName } from '../rendezvous';
import { type CommonOptions, Output, startNode, stopNode } from './common';

export interface OneShotOptions extends CommonOptions {
  timeout: number;
}

/** What a one-shot command is waiting for now, for the progress lines and the timeout error. */
class Steps {
  private readonly started = Date.now();
  private last = this.started;
  current = 'the node to start';

  constructor(private readonly out: Output) {}

  step(waitingFor: string): void {
    const now = Date.now();
    this.out.detail(`  (${now - this.last} ms)`);
    this.last = now;
    this.current = waitingFor;
    this.out.event({ type: 'step', waitingFor, elapsedMs: now - this.started });
    this.out.status(`waiting for ${waitingFor}…`);
  }
}

/**
 * Runs `body` with a started node, all of it within `timeout` seconds: at the deadline the
 * command fails with `TIMEOUT` whatever it was doing (saving state is then skipped: nothing a
 * one-shot node learnt is worth overshooting the deadline for).
 */
async function withNode(
  options: OneShotOptions,
  out: Output,
  body: (node: MessengerNode, steps: Steps) => Promise<void>,
  onTimeout: (waitingFor: string) => string,
): Promise<void> {
  const steps = new Steps(out);
  let timer: NodeJS.Timeout | undefined;
  // Counted from the start of the process (`performance.now()`: ms since then), module loading
  // included, so that `--timeout 5` means five seconds of the user's time.
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new ChatError('TIMEOUT', onTimeout(steps.current))),
      Math.max(0, options.timeout * 1000 - performance.now()),
    );
  });
  let node: MessengerNode | undefined;
  let ok = false;
  try {
    steps.step('the DHT (start-up)');
    node = await Promise.race([startNode(options, out, undefined, true), deadline]);
    await Promise.race([body(node, steps), deadline]);
    ok = true;
  } finally {
    clearTimeout(timer);
    // Saving and closing cleanly after a success; after a failure, closing without waiting.
    if (node !== undefined) {
      if (ok) await stopNode(node, options.stateDir);
      else void node.close().catch(() => undefined);
    }
  }
}

export async function runSend(room: string, text: string, options: OneShotOptions) {
  const out = new Output(options.json, options);
  checkRoomName(room, DEFAULT_LIMITS);
  checkText(text);
  let recipients = 0;
  await withNode(
    options,
    out,
    async (node, steps) => {
      steps.step(`a member of #${room} (DHT lookup)`);
      await node.join(room);
      steps.step(`a member of #${room} to connect`);
      while (node.roomPeers(room).length === 0) await sleep(node.network.clock, 100);
      const said = node.say(room, text);
      recipients = said.recipients;
      // Delivered = a member shows our message in its history (asked over a control connection).
      steps.step('a member to confirm it has the message');
      const confirmed = new Set<string>();
      while (confirmed.size === 0) {
        for (const address of node.roomAddresses(room)) {
          try {
            if (await node.hasMessage(address, said.message))
              confirmed.add(`${address.host}:${address.port}`);
          } catch {
            // that member did not answer; try the others
          }
        }
        if (confirmed.size > 0) break;
        await sleep(node.network.clock, 200);
      }
      out.event({
        type: 'sent',
        room,
        seq: said.message.seq,
        recipients,
        confirmedBy: confirmed.size,
      });
      out.line(`sent to #${room} (delivered to ${Math.max(recipients, confirmed.size)} peer(s))`);
    },
    (waitingFor) =>
      recipients > 0
        ? `published to ${recipients} peer(s) but no member confirmed it within ${options.timeout} s; message not confirmed`
        : `no member of room '${room}' found within ${options.timeout} s (waiting for ${waitingFor}); message not sent`,
  );
}

export async function runDm(peer: string, text: string, options: OneShotOptions) {
  const out = new Output(options.json, options);
  const to = parsePeerId(peer); // BAD_PEER_ID before any socket is opened
  checkText(text);
  let lastReason = 'not found';
  await withNode(
    options,
    out,
    async (node, steps) => {
      let delivered = false;
      const off = node.on((e) => {
        if (e.type === 'dm-pending') lastReason = e.reason;
        if (e.type === 'dm-delivered') delivered = true;
      });
      try {
        steps.step(`${formatPeerId(to).slice(0, 8)}… to be found and take the message`);
        const result = await node.sendDm(to, text);
        delivered ||= result.delivered;
        while (!delivered) await sleep(node.network.clock, 100);
        out.event({ type: 'dm-sent', id: result.id, to: formatPeerId(to) });
        out.line(`delivered to ${formatPeerId(to)}`);
      } finally {
        off();
      }
    },
    () => `could not deliver to ${formatPeerId(to)} within ${options.timeout} s (${lastReason})`,
  );
}
