/**
 * @peerkit/cli-kit: what peerkit-share, peerkit-chat and peerkit-conform have in common
 * (docs/cli.md). Private to the workspace; each app's build bundles it.
 */
export { type ColorStream, type Colors, colorEnabled, colorsFor } from './color';
export { envelope, type JsonEvent, jsonLine, parseEnvelope } from './envelope';
export {
  describeError,
  EXIT_FAILURE,
  EXIT_INTERRUPTED,
  EXIT_OK,
  EXIT_USAGE,
  errorCode,
  errorLine,
  exitCodeFor,
  isHelpOrVersion,
  isUsageError,
  UsageError,
} from './exit';
export { InterruptedError, Interrupts } from './interrupts';
export {
  Output,
  type OutputOptions,
  type Verbosity,
  verbosityFrom,
  type Writable,
} from './output';
export {
  formatBytes,
  formatRate,
  type HostPort,
  parseHostPort,
  parseInteger,
  parsePort,
  parsePositive,
  parseSize,
  resolveHostPort,
} from './parse';
export {
  addOutputOptions,
  createProgram,
  type OutputFlags,
  type ProgramInfo,
  runProgram,
} from './program';
