#!/usr/bin/env node
/**
 * peerkit-conform: property-based conformance testing of a live DHT node, BitTorrent peer or
 * gossip node. `peerkit-conform --help` lists the commands and options. The conventions shared
 * with the other peerkit CLIs (docs/cli.md): `--json` envelopes (`result` per rule, then
 * `report`), exit 0 (all passed) / 1 (a rule failed, or the target cannot be tested) / 2 (usage),
 * one-line errors, `-q` / `-v`, `-V` / `--version`.
 */
import { readFile } from 'node:fs/promises';
import {
  addOutputOptions,
  colorEnabled,
  createProgram,
  Output,
  type OutputFlags,
  parseInteger,
  runProgram,
  verbosityFrom,
} from '@peerkit/cli-kit';
import { DEFAULT_RUNS, type RuleResult, type SuiteReport } from '@peerkit/conformance';
import type { Command } from 'commander';
import { formatTable } from './framework/report';
import { parseHostPort } from './host-port';
import {
  DEFAULT_DHT_RATE,
  DEFAULT_TIMEOUT_MS,
  loadTorrent,
  runBtcSuite,
  runDhtSuite,
  runGossipSuite,
  runPeerSuite,
  type SuiteOptions,
} from './suites';

interface CommonFlags extends OutputFlags {
  runs: number;
  seed?: number;
  path?: string;
  only?: string[];
  timeout: number;
  color: boolean;
}

const integer = (name: string, min: number, max: number) => (value: string) =>
  parseInteger(value, name, min, max);

function collect(value: string, previous: string[] = []): string[] {
  return [
    ...previous,
    ...value
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0),
  ];
}

function withCommonOptions(command: Command): Command {
  command
    .option('--runs <n>', 'cases per rule', integer('--runs', 1, 1_000_000), DEFAULT_RUNS)
    .option(
      '--seed <s>',
      'fast-check seed, to replay a run (default: random, printed)',
      integer('--seed', -(2 ** 31), 2 ** 31 - 1),
    )
    .option(
      '--path <path>',
      'fast-check path of a failing case (printed with it; needs --only one rule)',
    )
    .option(
      '--only <rule>',
      'run only this rule id or id prefix (repeatable, or comma separated)',
      collect,
    )
    .option(
      '--timeout <ms>',
      'longest wait for one answer, in ms',
      integer('--timeout', 1, 600_000),
      DEFAULT_TIMEOUT_MS,
    )
    .option('--no-color', 'plain output');
  return addOutputOptions(command);
}

function outputFor(flags: CommonFlags): Output {
  return new Output({
    program: 'peerkit-conform',
    json: flags.json === true,
    verbosity: verbosityFrom(flags),
  });
}

function suiteOptions(flags: CommonFlags, out: Output): SuiteOptions {
  return {
    runs: flags.runs,
    timeoutMs: flags.timeout,
    onResult: progress(flags, out),
    ...(flags.seed === undefined ? {} : { seed: flags.seed }),
    ...(flags.path === undefined ? {} : { path: flags.path }),
    ...(flags.only === undefined ? {} : { only: flags.only }),
  };
}

/** Whether a line of progress marks is open on stderr (to end it before an error line). */
let marksOpen = false;

/** A mark per rule on stderr (`.` passed, `F` failed, `-` n/a), or a `result` event. */
function progress(flags: CommonFlags, out: Output) {
  const c = out.errColors;
  return (r: RuleResult) => {
    marksOpen = true;
    out.event('result', { ...r });
    if (out.json || out.verbosity === 'quiet') return;
    if (out.verbosity === 'verbose') {
      out.detail(`${r.id}: ${r.outcome} (${r.runs} cases, ${(r.durationMs / 1000).toFixed(1)} s)`);
      return;
    }
    const mark =
      r.outcome === 'passed' ? c.green('.') : r.outcome === 'failed' ? c.red('F') : c.dim('-');
    out.stderr.write(
      flags.color ? mark : r.outcome === 'passed' ? '.' : r.outcome === 'failed' ? 'F' : '-',
    );
  };
}

function endMarks(out: Output): void {
  if (marksOpen && !out.json && out.verbosity === 'normal') out.stderr.write('\n');
  marksOpen = false;
}

function finish(report: SuiteReport, flags: CommonFlags, out: Output): void {
  endMarks(out);
  out.event('report', { ...report });
  out.result(formatTable(report, { color: flags.color && colorEnabled(process.stdout) }));
  process.exitCode = report.ok ? 0 : 1;
}

const program = createProgram({
  name: 'peerkit-conform',
  version: '0.1.0',
  description:
    'Property-based conformance tests against a live DHT node, BitTorrent peer or gossip node.',
});

withCommonOptions(
  program
    .command('dht')
    .description(
      'Mainline DHT rules (BEP 5, BEP 44 when supported) against a node at HOST:PORT (UDP)',
    )
    .argument('<host:port>', 'the node', parseHostPort)
    .option(
      '--rate <n>',
      `most datagrams per second to send (nodes rate-limit per IP; peerkit: 20) (default: ${DEFAULT_DHT_RATE})`,
      integer('--rate', 1, 1_000_000),
    ),
).action(async (address, flags: CommonFlags & { rate?: number }) => {
  const out = outputFor(flags);
  const options = { ...suiteOptions(flags, out), rate: flags.rate ?? DEFAULT_DHT_RATE };
  finish(await runDhtSuite(address, options).finally(() => endMarks(out)), flags, out);
});

withCommonOptions(
  program
    .command('peer')
    .description(
      'peer wire rules (BEP 3, 6, 9, 10) against a peer at HOST:PORT (TCP) that seeds --torrent FILE',
    )
    .argument('<host:port>', 'the peer', parseHostPort)
    .requiredOption('--torrent <file>', 'the v1 .torrent the peer seeds')
    .option(
      '--unchoke-timeout <ms>',
      'longest wait to be unchoked, in ms (default 30000)',
      integer('--unchoke-timeout', 1, 600_000),
    ),
).action(async (address, flags: CommonFlags & { torrent: string; unchokeTimeout?: number }) => {
  const out = outputFor(flags);
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(flags.torrent));
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw Object.assign(
      new Error(
        `cannot read --torrent ${flags.torrent}: ${code === 'ENOENT' ? 'no such file' : String(error)}`,
      ),
      { code: 'MISSING_PATH' },
    );
  }
  const torrent = loadTorrent(bytes);
  const options = {
    ...suiteOptions(flags, out),
    torrentLabel: flags.torrent,
    ...(flags.unchokeTimeout === undefined ? {} : { unchokeTimeoutMs: flags.unchokeTimeout }),
  };
  finish(await runPeerSuite(address, torrent, options).finally(() => endMarks(out)), flags, out);
});

withCommonOptions(
  program
    .command('gossip')
    .description(
      "peerkit's gossip wire rules (subscribe, GRAFT/PRUNE, IHAVE/IWANT, validation) against a node at HOST:PORT",
    )
    .argument('<host:port>', 'the node', parseHostPort)
    .option('--topic <topic>', 'a topic the node subscribes to (default: the first it announces)'),
).action(async (address, flags: CommonFlags & { topic?: string }) => {
  const out = outputFor(flags);
  const options = {
    ...suiteOptions(flags, out),
    ...(flags.topic === undefined ? {} : { topic: flags.topic }),
  };
  finish(await runGossipSuite(address, options).finally(() => endMarks(out)), flags, out);
});

withCommonOptions(
  program
    .command('btc')
    .description(
      'Bitcoin P2P rules (handshake, ping, getheaders, getdata/notfound, invalid messages) against a regtest node at HOST:PORT',
    )
    .argument('<host:port>', 'the node', parseHostPort),
).action(async (address, flags: CommonFlags) => {
  const out = outputFor(flags);
  finish(
    await runBtcSuite(address, suiteOptions(flags, out)).finally(() => endMarks(out)),
    flags,
    out,
  );
});

void runProgram(program, process.argv).then((code) => {
  process.exitCode = code;
});
