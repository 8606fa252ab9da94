export { allocatedAddress, canonicalAddress, type HostFamily } from './addresses';
export type { StreamSettings } from './core';
export { SimulationError, type SimulationErrorCode } from './errors';
export {
  type ChurnOptions,
  churnSchedule,
  type Fault,
  type FaultSchedule,
  type ScheduledFault,
} from './faults';
export { SimHost, SimNetwork } from './host';
export {
  constant,
  DEFAULT_LATENCY_MS,
  type Distribution,
  exponential,
  type LinkOptions,
  normal,
  uniform,
} from './link';
export { Prng } from './prng';
export { CI_SEED, replayHint, SEED_ENV, seedFromEnv } from './seed';
export {
  type HostOptions,
  type OpenResources,
  type RunOptions,
  type RunUntilOptions,
  Simulation,
  type SimulationOptions,
} from './simulation';
export {
  type DropReason,
  formatTraceEvent,
  Trace,
  type TraceEvent,
  type TraceEventType,
} from './trace';
