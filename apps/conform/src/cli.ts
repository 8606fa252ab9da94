#!/usr/bin/env node
/**
 * peerkit-conform: property-based conformance testing of a live DHT node, BitTorrent peer or
 * gossip node. `peerkit-conform --help` lists the commands and options.
 */
import { readFileSync } from 'node:fs';
import { DEFAULT_RUNS, type RuleResult, type SuiteReport } from '@peerkit/transport/conformance';
import { Command, InvalidArgumentError, Option } from 'commander';
import pc from 'picocolors';
import { formatJson, formatTable } from './framework/report';
import { parseHostPort } from './host-port';
import {
  DEFAULT_TIMEOUT_MS,
  loadTorrent,
  runBtcSuite,
  runDhtSuite,
  runGossipSuite,
  runPeerSuite,
  type SuiteOptions,
} from './suites';

interface CommonFlags {
  runs: number;
  seed?: number;
  path?: string;
  only?: string[];
  json?: boolean;
  timeout: number;
  color: boolean;
}

function integer(name: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new InvalidArgumentError(`${name} must be an integer in ${min}..${max}`);
    return n;
  };
}

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
  return command
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
    .option('--json', 'print the report as JSON')
    .option(
      '--timeout <ms>',
      'longest wait for one answer, in ms',
      integer('--timeout', 1, 600_000),
      DEFAULT_TIMEOUT_MS,
    )
    .option('--no-color', 'plain output');
}

function suiteOptions(flags: CommonFlags, onResult: (r: RuleResult) => void): SuiteOptions {
  return {
    runs: flags.runs,
    timeoutMs: flags.timeout,
    onResult,
    ...(flags.seed === undefined ? {} : { seed: flags.seed }),
    ...(flags.path === undefined ? {} : { path: flags.path }),
    ...(flags.only === undefined ? {} : { only: flags.only }),
  };
}

function progress(flags: CommonFlags) {
  const colors = pc.createColors(flags.color && pc.isColorSupported);
  return (r: RuleResult) => {
    if (flags.json) return;
    const mark =
      r.outcome === 'passed'
        ? colors.green('.')
        : r.outcome === 'failed'
          ? colors.red('F')
          : colors.dim('-');
    process.stderr.write(mark);
  };
}

function finish(report: SuiteReport, flags: CommonFlags): void {
  if (!flags.json) process.stderr.write('\n');
  process.stdout.write(
    `${flags.json ? formatJson(report) : formatTable(report, { color: flags.color && pc.isColorSupported })}\n`,
  );
  process.exitCode = report.ok ? 0 : 1;
}

const program = new Command()
  .name('peerkit-conform')
  .description(
    'Property-based conformance tests against a live DHT node, BitTorrent peer or gossip node.',
  )
  .showHelpAfterError()
  // Usage errors exit with 2 (1 means "a rule failed"); --help and --version with 0.
  .exitOverride((error) => {
    process.exit(error.exitCode === 0 ? 0 : 2);
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
      'most datagrams per second to send (nodes rate-limit per IP; peerkit: 20)',
      integer('--rate', 1, 1_000_000),
    ),
).action(async (address, flags: CommonFlags & { rate?: number }) => {
  const options = {
    ...suiteOptions(flags, progress(flags)),
    ...(flags.rate === undefined ? {} : { rate: flags.rate }),
  };
  finish(await runDhtSuite(address, options), flags);
});

withCommonOptions(
  program
    .command('peer')
    .description(
      'peer wire rules (BEP 3, 6, 9, 10) against a peer at HOST:PORT (TCP) that seeds --torrent FILE',
    )
    .argument('<host:port>', 'the peer', parseHostPort)
    .addOption(
      new Option('--torrent <file>', 'the v1 .torrent the peer seeds').makeOptionMandatory(),
    )
    .option(
      '--unchoke-timeout <ms>',
      'longest wait to be unchoked, in ms (default 30000)',
      integer('--unchoke-timeout', 1, 600_000),
    ),
).action(async (address, flags: CommonFlags & { torrent: string; unchokeTimeout?: number }) => {
  const torrent = loadTorrent(new Uint8Array(readFileSync(flags.torrent)));
  const options = {
    ...suiteOptions(flags, progress(flags)),
    torrentLabel: flags.torrent,
    ...(flags.unchokeTimeout === undefined ? {} : { unchokeTimeoutMs: flags.unchokeTimeout }),
  };
  finish(await runPeerSuite(address, torrent, options), flags);
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
  const options = {
    ...suiteOptions(flags, progress(flags)),
    ...(flags.topic === undefined ? {} : { topic: flags.topic }),
  };
  finish(await runGossipSuite(address, options), flags);
});

withCommonOptions(
  program
    .command('btc')
    .description(
      'Bitcoin P2P rules (handshake, ping, getheaders, getdata/notfound, invalid messages) against a regtest node at HOST:PORT',
    )
    .argument('<host:port>', 'the node', parseHostPort),
).action(async (address, flags: CommonFlags) => {
  finish(await runBtcSuite(address, suiteOptions(flags, progress(flags))), flags);
});

program.parseAsync(process.argv).catch((error: unknown) => {
  process.stderr.write(
    `peerkit-conform: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exitCode = 2;
});
