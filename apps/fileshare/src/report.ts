/**
 * Showing node events. `--json`: one envelope per event on stdout (docs/cli.md). Otherwise, on a
 * terminal, a progress bar on stderr (hashing, then %, rate, peers, ETA) with every log line
 * printed above it the moment it comes (none is buffered, so none is lost when the bar stops,
 * and long lines wrap instead of being cut); when stderr is not a terminal, plain lines.
 * Colour is decided on stderr itself (cli-kit's `Output`).
 */

import type { Output } from '@peerkit/cli-kit';
import * as kit from '@peerkit/cli-kit';
import * as cliProgress from 'cli-progress';
import type { NodeEvent } from './events';

const TRANSPORT_NAMES = { utp: 'uTP', tcp: 'TCP' } as const;

/** Bytes as `12.3 MiB` (cli-kit's format, the same in every peerkit CLI). */
export function formatBytes(bytes: number): string {
  return kit.formatBytes(bytes);
}

/** Bytes per second as `1.2 MiB/s`. */
export function formatRate(bytesPerSecond: number): string {
  return kit.formatRate(bytesPerSecond);
}

export interface Reporter {
  event(event: NodeEvent): void;
  /** A line for people (above the bar, or a plain stderr line). */
  log(line: string): void;
  close(): void;
}

function formatEta(seconds: number | undefined): string {
  if (seconds === undefined) return '--';
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600)
    return `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(seconds / 3600)}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}m`;
}

/**
 * One envelope per event on stdout. `hashing` progress is sent at most every 250 ms (and at its
 * end), `status` once a second as the node emits it. `piece` events are all sent, in order, but
 * those of one turn of the event loop go out in one write (issue #22: with 16 KiB pieces a
 * download verifies thousands of pieces a second, and stdout on a pipe or a file is written
 * synchronously); any other event, and `close()`, writes them first.
 */
export function jsonReporter(out: Output): Reporter {
  let lastHashing = 0;
  let pieces: string[] = [];
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (pieces.length === 0) return;
    const text = pieces.join('');
    pieces = [];
    out.stdout.write(text);
  };
  return {
    event(event) {
      const { type, ...fields } = event;
      if (type === 'piece') {
        pieces.push(kit.jsonLine(type, fields));
        if (!scheduled) {
          scheduled = true;
          setImmediate(flush);
        }
        return;
      }
      if (type === 'hashing' && event.hashed < event.length) {
        const now = Date.now();
        if (now - lastHashing < 250 && event.hashed > 0) return;
        lastHashing = now;
      }
      flush();
      out.event(type, fields);
    },
    log(line) {
      out.info(line);
    },
    close() {
      flush();
    },
  };
}

/** Escape codes to turn the terminal's line wrap on and off (the bar runs with it off). */
const WRAP_ON = '\x1b[?7h';
const WRAP_OFF = '\x1b[?7l';

/**
 * One cli-progress bar at a time on stderr, with log lines written above it at once: each goes
 * into the bar's log buffer and the bar is redrawn there and then, which flushes it.
 */
class BarDisplay {
  private multibar: cliProgress.MultiBar | undefined;
  private bar: cliProgress.SingleBar | undefined;

  constructor(private readonly stream: NodeJS.WriteStream) {}

  get active(): boolean {
    return this.bar !== undefined;
  }

  show(format: string, total: number, value: number, payload: object): void {
    this.finish();
    this.multibar = new cliProgress.MultiBar(
      {
        format,
        hideCursor: true,
        clearOnComplete: false,
        // Redraw even when nothing changed: a log line written above clears the bar's line.
        forceRedraw: true,
        barsize: 30,
        fps: 5,
        stream: this.stream,
      },
      cliProgress.Presets.shades_classic,
    );
    this.bar = this.multibar.create(Math.max(1, total), value, payload);
  }

  update(value: number, payload: object, total?: number): void {
    if (total !== undefined && total > 0) this.bar?.setTotal(total);
    this.bar?.update(value, payload);
  }

  log(line: string): void {
    if (this.multibar === undefined) {
      this.stream.write(`${line}\n`);
      return;
    }
    this.multibar.log(`${WRAP_ON}${line}\n${WRAP_OFF}`);
    this.multibar.update();
  }

  /** Shows the bar full (the download is complete), then `finish`. */
  complete(): void {
    if (this.bar !== undefined) this.bar.update(this.bar.getTotal());
    this.finish();
  }

  /** Draws the bar one last time and leaves it on screen as an ordinary line. */
  finish(): void {
    this.multibar?.stop();
    this.multibar = undefined;
    this.bar = undefined;
  }
}

export interface HumanReporterOptions {
  /** What `get` does once every piece is verified, for the `done:` line ("seeding until Ctrl-C"). */
  afterDone?: string;
}

/** A progress bar on a terminal, plain lines otherwise. `mode` picks what the bar shows. */
export function humanReporter(
  mode: 'get' | 'share' | 'create',
  out: Output,
  options: HumanReporterOptions = {},
): Reporter {
  const stream = process.stderr;
  const c = out.errColors;
  const display =
    stream.isTTY === true && out.verbosity !== 'quiet' ? new BarDisplay(stream) : undefined;
  if (display !== undefined) out.setLineSink((line) => display.log(line));
  let name = '';
  let seeding = mode === 'share';
  let statusCount = 0;
  let hashStarted = 0;
  let hashAnnounced = false;
  const failedOnce = new Set<string>();
  const payload = (e: Extract<NodeEvent, { type: 'status' }>) => ({
    name,
    rate: formatRate(e.downloadRate),
    upRate: formatRate(e.uploadRate),
    uploaded: formatBytes(e.uploaded),
    peers: e.peers,
    etaText: formatEta(e.eta),
  });
  return {
    event(event) {
      switch (event.type) {
        case 'hashing': {
          if (event.hashed === 0 || hashStarted === 0) {
            hashStarted = Date.now();
            hashAnnounced = false;
            display?.show(
              `hashing {name} ${c.cyan('{bar}')} {percentage}% | {hashedText} of {lengthText} | {rateText}`,
              event.length,
              event.hashed,
              {
                name: event.name,
                hashedText: '0 B',
                lengthText: formatBytes(event.length),
                rateText: '--',
              },
            );
          }
          const seconds = Math.max(0.001, (Date.now() - hashStarted) / 1000);
          // Without a bar, hashing is mentioned once it has taken a second (a small file is
          // hashed before anyone could read the line; a big one says what the wait is).
          if (display === undefined && !hashAnnounced && seconds >= 1) {
            hashAnnounced = true;
            out.info(`hashing ${event.name} (${formatBytes(event.length)})…`);
          }
          display?.update(event.hashed, {
            name: event.name,
            hashedText: formatBytes(event.hashed),
            lengthText: formatBytes(event.length),
            rateText: formatRate(event.hashed / seconds),
          });
          if (event.hashed >= event.length) {
            const shown = display !== undefined || hashAnnounced;
            display?.finish();
            if (shown) out.info(`hashed ${event.name} in ${seconds.toFixed(1)} s`);
          }
          return;
        }
        case 'listening': {
          // "listening on TCP 0.0.0.0:6881 and uTP (UDP 6881), DHT on the same UDP port"
          const over = { both: 'TCP', utp: 'uTP', tcp: 'TCP' }[event.transport];
          const utp = event.transport === 'both' ? ` and uTP (UDP ${event.port})` : '';
          const dht =
            event.dhtPort === undefined
              ? ' (DHT off)'
              : event.dhtPort === event.port && event.transport !== 'tcp'
                ? ', DHT on the same UDP port'
                : `, DHT on UDP ${event.dhtPort}`;
          out.info(`listening on ${over} ${event.host}:${event.port}${utp}${dht}`);
          return;
        }
        case 'torrent':
          name = event.name ?? event.infoHash.slice(0, 8);
          if (mode === 'share') {
            // The magnet link goes to stdout alone, so that `$(peerkit-share share ...)`-style use works.
            out.result(event.magnet);
            if (event.torrentFile) out.info(`torrent file: ${event.torrentFile}`);
          } else {
            out.info(`fetching ${c.bold(name)} (${event.infoHash})`);
          }
          return;
        case 'metadata':
          name = event.name;
          out.info(
            `${event.fetched ? 'metadata fetched: ' : ''}${event.name}: ${formatBytes(event.length)} in ${event.pieces} pieces of ${formatBytes(event.pieceLength)}, ${event.files} file(s)`,
          );
          return;
        case 'resumed':
          if (event.verified > 0 && mode === 'get')
            out.info(`resuming: ${event.verified}/${event.pieces} pieces already verified`);
          return;
        case 'dht-ready':
          out.info(`DHT: ${event.nodes} node(s) in the routing table`);
          return;
        case 'announced':
          out.detail(`announced to ${event.nodes} DHT node(s)`);
          return;
        case 'lookup':
          out.detail(`DHT lookup: ${event.peers} peer(s)`);
          return;
        case 'tracker':
          out.detail(`tracker ${event.url}: ${event.peers} peer(s)`);
          if (event.warning !== undefined) out.info(`tracker ${event.url} warns: ${event.warning}`);
          return;
        case 'peer':
          if (event.action === 'rejected') {
            // A dead or refusing address is retried with backoff: say it once, every time with -v.
            const line = `peer ${event.address}: ${event.reason ?? 'rejected'}`;
            if (failedOnce.has(event.address)) out.detail(line);
            else {
              failedOnce.add(event.address);
              // The first dial failure of a download says what happens next.
              const dial = /refused|timed out|unreachable/.test(event.reason ?? '');
              const hint =
                mode === 'get' && dial && failedOnce.size === 1
                  ? ' (retried with backoff; --timeout gives up)'
                  : '';
              out.info(c.yellow(`${line}${hint}`));
            }
          } else {
            const over =
              event.transport === undefined ? '' : ` over ${TRANSPORT_NAMES[event.transport]}`;
            out.detail(
              `peer ${event.address} ${event.action === 'connect' ? `connected${over}` : `disconnected${event.reason ? ` (${event.reason})` : ''}`}`,
            );
          }
          return;
        case 'warning':
          out.warn(event.message);
          return;
        case 'storage-error':
          out.info(c.red(`error: ${event.message} (retrying in ${event.retryInMs / 1000} s)`));
          return;
        case 'hash-failure':
          out.info(
            c.yellow(`piece ${event.index} failed its hash check (from ${event.peers.join(', ')})`),
          );
          return;
        case 'status': {
          if (display === undefined) {
            // No bar (not a terminal): a plain line every 30 s.
            if (statusCount++ % 30 !== 29) return;
            const p = payload(event);
            const percent =
              event.pieces > 0 ? Math.floor((100 * event.verified) / event.pieces) : 0;
            out.info(
              seeding
                ? `seeding ${name}: peers ${p.peers}, up ${p.upRate}, uploaded ${p.uploaded}`
                : `${name}: ${percent}%, ${p.rate}, peers ${p.peers}, ETA ${p.etaText}`,
            );
            return;
          }
          if (!display.active) {
            display.show(
              seeding
                ? `${c.green('seeding')} {name} | peers {peers} | up {upRate} | uploaded {uploaded}`
                : `${c.cyan('{bar}')} {percentage}% | {rate} | peers {peers} | ETA {etaText} | {name}`,
              event.pieces,
              event.verified,
              payload(event),
            );
          }
          display.update(event.verified, payload(event), event.pieces);
          return;
        }
        case 'done':
          if (!seeding) {
            seeding = true;
            // The download bar's job is over: leave it full on screen; the seeding bar follows.
            if (display?.active) display.complete();
            out.info(
              c.green(
                `done: ${event.path} verified (${formatBytes(event.downloaded)} downloaded in ${(event.elapsedMs / 1000).toFixed(1)} s)${options.afterDone ? `; ${options.afterDone}` : ''}`,
              ),
            );
          }
          return;
        case 'hook':
          out.info(
            event.exitCode === 0
              ? `--on-complete command finished`
              : c.yellow(`--on-complete command failed (${event.exitCode ?? event.signal})`),
          );
          return;
        case 'stopping':
          out.info('stopping: closing connections, saving resume data and the DHT table');
          return;
        case 'stopped':
          display?.finish();
          out.setLineSink(undefined);
          out.info(
            `stopped: ${event.verified}/${event.pieces} pieces verified${event.verified > 0 && event.verified < event.pieces ? ' (kept; the next run resumes from there)' : ''}`,
          );
          return;
        default:
          return;
      }
    },
    log(line) {
      out.info(line);
    },
    close() {
      display?.finish();
      out.setLineSink(undefined);
    },
  };
}
