/**
 * The one-shot commands for scripts: `send <room> <text>` and `dm <peer-id> <text>`. Each
 * starts a node, delivers, and exits 0 once at least one peer has the message (exit 1 with a
 * clear error at the deadline; exit 2 for bad input).
 */
import { sleep } from '@peerkit/transport';
import { ChatError } from '../errors';
import { checkText } from '../limits';
import type { MessengerNode } from '../node';
import { formatPeerId, parsePeerId } from '../peer-id';
import { type CommonOptions, Output, startNode, stopNode } from './common';

export interface OneShotOptions extends CommonOptions {
  timeout: number;
}

async function withNode(
  options: OneShotOptions,
  out: Output,
  body: (node: MessengerNode, deadline: number) => Promise<void>,
): Promise<void> {
  const node = await startNode(options, out, undefined, true);
  const deadline = Date.now() + options.timeout * 1000;
  try {
    await body(node, deadline);
  } finally {
    await stopNode(node, options.stateDir);
  }
}

export async function runSend(room: string, text: string, options: OneShotOptions) {
  const out = new Output(options.json);
  checkText(text);
  await withNode(options, out, async (node, deadline) => {
    await node.join(room);
    while (node.roomPeers(room).length === 0) {
      if (Date.now() > deadline) {
        throw new ChatError(
          'TIMEOUT',
          `no member of room '${room}' found within ${options.timeout} s; message not sent`,
        );
      }
      await sleep(node.network.clock, 100);
    }
    const { message, recipients } = node.say(room, text);
    // Delivered = a member shows our message in its history (asked over a control connection).
    const confirmed = new Set<string>();
    while (confirmed.size === 0) {
      for (const address of node.roomAddresses(room)) {
        try {
          if (await node.hasMessage(address, message))
            confirmed.add(`${address.host}:${address.port}`);
        } catch {
          // that member did not answer; try the others
        }
      }
      if (confirmed.size > 0) break;
      if (Date.now() > deadline) {
        throw new ChatError(
          'TIMEOUT',
          `published to ${recipients} peer(s) but no member confirmed it within ${options.timeout} s`,
        );
      }
      await sleep(node.network.clock, 200);
    }
    out.event({ type: 'sent', room, seq: message.seq, recipients, confirmedBy: confirmed.size });
    out.line(`sent to #${room} (delivered to ${Math.max(recipients, confirmed.size)} peer(s))`);
  });
}

export async function runDm(peer: string, text: string, options: OneShotOptions) {
  const out = new Output(options.json);
  const to = parsePeerId(peer); // BAD_PEER_ID before any socket is opened
  checkText(text);
  await withNode(options, out, async (node, deadline) => {
    let lastReason = 'not found';
    let delivered = false;
    const off = node.on((e) => {
      if (e.type === 'dm-pending') lastReason = e.reason;
      if (e.type === 'dm-delivered') delivered = true;
    });
    try {
      const result = await node.sendDm(to, text);
      delivered ||= result.delivered;
      while (!delivered) {
        if (Date.now() > deadline) {
          throw new ChatError(
            'TIMEOUT',
            `could not deliver to ${formatPeerId(to)} within ${options.timeout} s (${lastReason})`,
          );
        }
        await sleep(node.network.clock, 100);
      }
      out.event({ type: 'dm-sent', id: result.id, to: formatPeerId(to) });
      out.line(`delivered to ${formatPeerId(to)}`);
    } finally {
      off();
    }
  });
}
