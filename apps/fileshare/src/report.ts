/**
 * Showing node events: `--json` prints one JSON object per line on stdout (for scripts, tests
 * and the demo); otherwise a progress bar (%, rate, peers, ETA) on a terminal, with a few log
 * lines above it, or plain log lines when stdout is not a terminal.
 */
import * as cliProgress from 'cli-progress';
import pc from 'picocolors';
import type { NodeEvent } from './events';

export interface Reporter {
  event(event: NodeEvent): void;
  /** A line for people (stderr in `--json` mode, above the bar otherwise). */
  log(line: string): void;
  close(): void;
}

/** Bytes as `12.3 MiB`. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}

export function formatRate(bytesPerSecond: number): string {
  return `${formatBytes(Math.round(bytesPerSecond))}/s`;
}

function formatEta(seconds: number | undefined): string {
  if (seconds === undefined) return '--';
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600)
    return `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(seconds / 3600)}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}m`;
}

/** One JSON object per line: `{"event":"piece","index":3,...}`. */
export function jsonReporter(
  write: (line: string) => void = (l) => process.stdout.write(l),
): Reporter {
  return {
    event(event) {
      const { type, ...fields } = event;
      write(`${JSON.stringify({ event: type, time: Date.now(), ...fields })}\n`);
    },
    log(line) {
      process.stderr.write(`${line}\n`);
    },
    close() {},
  };
}

/** A progress bar on a terminal; plain lines otherwise. `mode` picks what the bar shows. */
export function humanReporter(mode: 'get' | 'share'): Reporter {
  const tty = process.stderr.isTTY === true;
  let multibar = tty
    ? new cliProgress.MultiBar(
        {
          format:
            mode === 'get'
              ? `${pc.cyan('{bar}')} {percentage}% | {rate} | peers {peers} | ETA {etaText} | {name}`
              : `${pc.green('seeding')} {name} | peers {peers} | up {upRate} | uploaded {uploaded}`,
          hideCursor: true,
          clearOnComplete: false,
          barsize: 30,
          fps: 5,
          stream: process.stderr,
        },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  let bar: cliProgress.SingleBar | undefined;
  let name = '';
  let seeding = mode === 'share';
  let statusCount = 0;
  const log = (line: string) => {
    if (multibar !== undefined) multibar.log(`${line}\n`);
    else process.stderr.write(`${line}\n`);
  };
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
        case 'listening':
          log(
            `listening on TCP ${event.host}:${event.port}${event.dhtPort !== undefined ? `, DHT on UDP ${event.dhtPort}` : ' (DHT off)'}`,
          );
          return;
        case 'torrent':
          name = event.name ?? event.infoHash.slice(0, 8);
          if (mode === 'share') {
            // The magnet link goes to stdout alone, so that `$(peerkit-share share ...)`-style use works.
            process.stdout.write(`${event.magnet}\n`);
            if (event.torrentFile) log(`torrent file: ${event.torrentFile}`);
          } else {
            log(`fetching ${pc.bold(name)} (${event.infoHash})`);
          }
          return;
        case 'metadata':
          name = event.name;
          log(
            `${event.fetched ? 'metadata fetched: ' : ''}${event.name}: ${formatBytes(event.length)} in ${event.pieces} pieces of ${formatBytes(event.pieceLength)}, ${event.files} file(s)`,
          );
          return;
        case 'resumed':
          if (event.verified > 0 && mode === 'get')
            log(`resuming: ${event.verified}/${event.pieces} pieces already verified`);
          return;
        case 'dht-ready':
          log(`DHT: ${event.nodes} node(s) in the routing table`);
          return;
        case 'announced':
          log(`announced to ${event.nodes} DHT node(s)`);
          return;
        case 'warning':
          log(pc.yellow(`warning: ${event.message}`));
          return;
        case 'storage-error':
          log(pc.red(`error: ${event.message} (retrying in ${event.retryInMs / 1000} s)`));
          return;
        case 'hash-failure':
          log(
            pc.yellow(
              `piece ${event.index} failed its hash check (from ${event.peers.join(', ')})`,
            ),
          );
          return;
        case 'status': {
          if (multibar === undefined) {
            // No bar (not a terminal, or the download is over): a plain line every 30 s.
            if (statusCount++ % 30 !== 29) return;
            const p = payload(event);
            const percent =
              event.pieces > 0 ? Math.floor((100 * event.verified) / event.pieces) : 0;
            log(
              seeding
                ? `seeding ${name}: peers ${p.peers}, up ${p.upRate}, uploaded ${p.uploaded}`
                : `${name}: ${percent}%, ${p.rate}, peers ${p.peers}, ETA ${p.etaText}`,
            );
            return;
          }
          if (bar === undefined)
            bar = multibar.create(Math.max(1, event.pieces), event.verified, payload(event));
          if (event.pieces > 0) bar.setTotal(event.pieces);
          bar.update(event.verified, payload(event));
          return;
        }
        case 'done':
          if (!seeding) {
            seeding = true;
            // The bar's job is over: show it full, stop it, and print plainly from now on.
            if (bar !== undefined) bar.update(bar.getTotal());
            multibar?.stop();
            multibar = undefined;
            log(
              pc.green(
                `done: ${event.path} verified (${formatBytes(event.downloaded)} downloaded in ${(event.elapsedMs / 1000).toFixed(1)} s)`,
              ),
            );
          }
          return;
        case 'stopping':
          log('stopping: closing connections, saving resume data and the DHT table');
          return;
        case 'stopped':
          multibar?.stop();
          return;
        default:
          return;
      }
    },
    log,
    close() {
      multibar?.stop();
    },
  };
}
