#!/usr/bin/env node
/**
 * `peerkit-chat`: the command line of the messenger (README, "Commands"). Conventions shared
 * with the other peerkit CLIs (docs/cli.md, @peerkit/cli-kit): `{"event","time",...}` JSON
 * lines, exit codes 0 / 1 / 2 (usage), one-line errors, `-q` / `-v`, `-V` / `--version`.
 */
import { createProgram, parsePositive, runProgram } from '@peerkit/cli-kit';
import { Option } from 'commander';
import { type CommonOptions, Output, withCommonOptions } from './cli/common';
import { runJoin } from './cli/join';
import { type OneShotOptions, runDm, runSend } from './cli/oneshot';
import { formatPeerId } from './peer-id';
import { createIdentity, loadOrCreateIdentity } from './state-dir';

/** Reports the error as one line (and a JSON event) and exits with 2 (usage) or 1. */
function fail(options: CommonOptions) {
  return (error: unknown) => {
    new Output(options.json, options).error(error);
    process.exit();
  };
}

const timeout = () =>
  new Option(
    '--timeout <seconds>',
    'give up after this many seconds, counted from the start (start-up included)',
  )
    .default(20)
    .argParser((v) => parsePositive(v, '--timeout'));

const program = createProgram({
  name: 'peerkit-chat',
  version: '0.1.0',
  description:
    'An end-to-end encrypted peer-to-peer messenger: rooms and direct messages over a DHT, Noise and gossip.',
});

withCommonOptions(
  program
    .command('id')
    .description("create or show this node's identity and print its peer id")
    .option('--new', 'create a new identity (the old key is kept as identity.key.old)', false),
  false,
).action(async (opts: CommonOptions & { new: boolean }) => {
  const out = new Output(opts.json, opts);
  try {
    const { identity, created } = opts.new
      ? { identity: await createIdentity(opts.stateDir), created: true }
      : await loadOrCreateIdentity(opts.stateDir);
    const id = formatPeerId(identity.publicKey);
    out.event({ type: 'id', id, created, stateDir: opts.stateDir });
    if (created) out.status(`created a new identity in ${opts.stateDir}`);
    out.line(id);
  } catch (error) {
    fail(opts)(error);
  }
});

withCommonOptions(
  program
    .command('join')
    .description('join a room: an interactive session (with --json: JSON events out, lines in)')
    .argument('<room>', 'room name'),
).action((room: string, opts: CommonOptions) => runJoin(room, opts).catch(fail(opts)));

withCommonOptions(
  program
    .command('send')
    .description('send one message to a room and exit once a member has it')
    .argument('<room>', 'room name')
    .argument('<text>', 'the message')
    .addOption(timeout()),
).action((room: string, text: string, opts: OneShotOptions) =>
  runSend(room, text, opts).then(() => process.exit(0), fail(opts)),
);

withCommonOptions(
  program
    .command('dm')
    .description('send one direct message and exit once the recipient has it')
    .argument('<peer-id>', "the recipient's peer id (see `peerkit-chat id`)")
    .argument('<text>', 'the message')
    .addOption(timeout()),
).action((peer: string, text: string, opts: OneShotOptions) =>
  runDm(peer, text, opts).then(() => process.exit(0), fail(opts)),
);

const code = await runProgram(program, process.argv);
// `join` keeps running (its prompt and node hold the event loop); the others end here.
if (code !== 0) process.exit(code);
