/**
 * Seeds for reproducible runs. A scenario test takes its seed from `seedFromEnv()`, prints it
 * when it fails, and is replayed with `NETSIM_SEED=<seed> pnpm vitest run <file>`.
 */
import { randomInt } from 'node:crypto';
import { SimulationError } from './errors';

/** The environment variable that overrides seeds. */
export const SEED_ENV = 'NETSIM_SEED';

/**
 * The seed CI uses when `NETSIM_SEED` is not set: CI must be repeatable, while a developer's
 * local runs explore a fresh seed each time.
 */
export const CI_SEED = 0x5eed;

/**
 * The seed in `NETSIM_SEED` when set; otherwise `fallback` when given; otherwise, under CI
 * (environment variable `CI` set and not `false`/`0`), the fixed {@link CI_SEED}; otherwise a
 * fresh random seed (print it, so a failure can be replayed).
 */
export function seedFromEnv(fallback?: number): number {
  const text = process.env[SEED_ENV];
  if (text !== undefined && text.trim() !== '') {
    const seed = Number(text.trim());
    if (!Number.isSafeInteger(seed)) {
      throw new SimulationError('INVALID_ARGUMENT', `${SEED_ENV}=${text} is not a safe integer`);
    }
    return seed;
  }
  if (fallback !== undefined) return fallback;
  const ci = process.env.CI;
  if (ci !== undefined && ci !== '' && ci !== 'false' && ci !== '0') return CI_SEED;
  return randomInt(0, 2 ** 32);
}

/** How to replay a run with `seed`: `NETSIM_SEED=1234`. */
export function replayHint(seed: number): string {
  return `${SEED_ENV}=${seed}`;
}
