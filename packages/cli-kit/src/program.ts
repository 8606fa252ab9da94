/**
 * A commander program with the shared conventions: `-V, --version`, the output options
 * (`--json`, `-q`, `-v`), usage errors as one line and exit code 2, help and version exit 0.
 */
import { Command, CommanderError, Option } from 'commander';
import { EXIT_OK, EXIT_USAGE, exitCodeFor, isUsageError } from './exit';
import { Output } from './output';

export interface ProgramInfo {
  name: string;
  version: string;
  description: string;
}

/**
 * The root command. Commander prints nothing on a parse error (the error line comes from
 * `runProgram`) and throws instead of exiting; subcommands added afterwards inherit that.
 */
export function createProgram(info: ProgramInfo): Command {
  return new Command(info.name)
    .description(info.description)
    .version(info.version, '-V, --version', 'print the version and exit')
    .helpOption('-h, --help', 'show help')
    .exitOverride()
    .configureOutput({ outputError: () => undefined })
    .showHelpAfterError(false);
}

/** Adds `--json`, `-q, --quiet` and `-v, --verbose`. */
export function addOutputOptions(command: Command, json = true): Command {
  if (json) command.addOption(new Option('--json', 'print one JSON event per line on stdout'));
  return command
    .addOption(new Option('-q, --quiet', 'print only errors and the result').conflicts('verbose'))
    .addOption(new Option('-v, --verbose', 'print more detail (each peer, each lookup)'));
}

/** The values `addOutputOptions` adds. */
export interface OutputFlags {
  json?: boolean;
  quiet?: boolean;
  verbose?: boolean;
}

/** The subcommand named on the command line, for the "see … --help" hint. */
function commandPath(program: Command, argv: readonly string[]): string {
  const sub = argv.slice(2).find((a) => program.commands.some((c) => c.name() === a));
  return sub === undefined ? program.name() : `${program.name()} ${sub}`;
}

/**
 * Parses `argv` (as in `process.argv`) and runs the chosen action. Resolves with the exit code:
 * the one the action left in `process.exitCode` (default 0), 0 for `--help` / `--version`, or
 * that of the error the action threw, which is reported as one line (and a JSON `error` event
 * when `--json` is on the command line). Never rejects.
 */
export async function runProgram(program: Command, argv: readonly string[]): Promise<number> {
  try {
    await program.parseAsync([...argv]);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT_OK;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.exitCode === 0) return EXIT_OK; // --help, --version
      // No command given: commander has printed the help on stderr.
      if (error.code === 'commander.help') return EXIT_USAGE;
    }
    const out = new Output({ program: program.name(), json: argv.includes('--json') });
    const hint = isUsageError(error) ? ` (see: ${commandPath(program, argv)} --help)` : '';
    return out.error(error, exitCodeFor(error), hint);
  }
}
