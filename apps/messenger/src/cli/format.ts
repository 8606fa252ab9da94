/**
 * How the interactive session prints things: one line per message, with time, name and short
 * id, coloured when the terminal supports it (picocolors honours NO_COLOR / FORCE_COLOR).
 */
import pc from 'picocolors';
import type { DmView, MessageView } from '../events';
import { shortPeerId } from '../peer-id';

export type Colors = ReturnType<typeof pc.createColors>;

export function colors(enabled: boolean): Colors {
  return pc.createColors(enabled);
}

const PALETTE = ['cyan', 'magenta', 'yellow', 'blue', 'green', 'red'] as const;

function colorFor(c: Colors, id: string): (s: string) => string {
  let h = 0;
  for (let i = 0; i < id.length; i++) h = (h * 31 + id.charCodeAt(i)) >>> 0;
  return c[PALETTE[h % PALETTE.length] as (typeof PALETTE)[number]];
}

export function clock(ts: number): string {
  const d = new Date(ts);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** Removes terminal control characters from peer-supplied text (no escape-sequence injection). */
export function sanitize(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping them is the point
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '\uFFFD');
}

export function who(c: Colors, id: string, nick: string | undefined): string {
  const name =
    nick === undefined ? shortPeerId(id) : `${sanitize(nick)} ${c.dim(`(${shortPeerId(id)})`)}`;
  return c.bold(colorFor(c, id)(name));
}

export function formatMessage(c: Colors, m: MessageView, own: boolean): string {
  const body = sanitize(m.text).replace(/\n/g, '\n    ');
  const name = own
    ? c.bold(c.green(m.nick === undefined ? 'you' : `${sanitize(m.nick)} (you)`))
    : who(c, m.from, m.nick);
  return `${c.dim(clock(m.ts))} ${name}: ${body}`;
}

export function formatDm(c: Colors, m: DmView): string {
  return `${c.dim(clock(m.ts))} ${c.magenta(c.bold('[DM]'))} ${who(c, m.from, m.nick)}: ${sanitize(m.text)}`;
}

export function info(c: Colors, text: string): string {
  return c.yellow(`*** ${text}`);
}

export function failure(c: Colors, text: string): string {
  return c.red(`!!! ${text}`);
}
