#!/usr/bin/env node
/**
 * `peerkit-chat`: the command line of the messenger (README, "Commands").
 */
import { Command, Option } from 'commander';
import { type CommonOptions, Output, withCommonOptions } from './cli/common';
import { runJoin } from './cli/join';
import { type OneShotOptions, runDm, runSend } from './cli/oneshot';
import { isChatError } from './errors';
import { formatPeerId } from './peer-id';
import { createIdentity, loadOrCreateIdentity } from './state-dir';

function fail(json: boolean) {
  return (error: unknown) => {
    new Output(json).error(
      error,
      isChatError(error) && (error.code === 'BAD_INPUT' || error.code === 'BAD_PEER_ID') ? 2 : 1,
    );
    process.exit();
  };
}

const timeout = () =>
  new Option('--timeout <seconds>', 'give up after this many seconds')
    .default(20)
    .argParser((v) => {
      const n = Number(v);
      if (!(n > 0)) throw new Error('--timeout must be a positive number');
      return n;
    });

const program = new Command('peerkit-chat')
  .description(
    'An end-to-end encrypted peer-to-peer messenger: rooms and direct messages over a DHT, Noise and gossip.',
  )
  .showHelpAfterError()
  .version('0.1.0');

withCommonOptions(
  program
    .command('id')
    .description("create or show this node's identity and print its peer id")
    .option('--new', 'create a new identity (the old key is kept as identity.key.old)', false),
  false,
).action(async (opts: { new: boolean; stateDir: string; json: boolean }) => {
  const out = new Output(opts.json);
  try {
    const { identity, created } = opts.new
      ? { identity: await createIdentity(opts.stateDir), created: true }
      : await loadOrCreateIdentity(opts.stateDir);
    const id = formatPeerId(identity.publicKey);
    out.event({ type: 'id', id, created, stateDir: opts.stateDir });
    if (created) out.line(`created a new identity in ${opts.stateDir}`);
    out.line(id);
  } catch (error) {
    fail(opts.json)(error);
  }
});

withCommonOptions(
  program
    .command('join')
    .description('join a room: an interactive session (with --json: JSON events out, lines in)')
    .argument('<room>', 'room name'),
).action((room: string, opts: CommonOptions) => runJoin(room, opts).catch(fail(opts.json)));

withCommonOptions(
  program
    .command('send')
    .description('send one message to a room and exit once a member has it')
    .argument('<room>', 'room name')
    .argument('<text>', 'the message')
    .addOption(timeout()),
).action((room: string, text: string, opts: OneShotOptions) =>
  runSend(room, text, opts).then(() => process.exit(0), fail(opts.json)),
);

withCommonOptions(
  program
    .command('dm')
    .description('send one direct message and exit once the recipient has it')
    .argument('<peer-id>', "the recipient's peer id (see `peerkit-chat id`)")
    .argument('<text>', 'the message')
    .addOption(timeout()),
).action((peer: string, text: string, opts: OneShotOptions) =>
  runDm(peer, text, opts).then(() => process.exit(0), fail(opts.json)),
);

await program.parseAsync(process.argv);
