import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runScenario, scenarioArbitrary } from './scenario';

describe('determinism', () => {
  it('same seed and scenario give the same trace hash; another seed gives another', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        scenarioArbitrary,
        async (seed, scenario) => {
          const first = await runScenario(seed, scenario);
          const again = await runScenario(seed, scenario);
          expect(again.hash, `seed ${seed}`).toBe(first.hash);
          expect(again.events).toBe(first.events);
          const other = await runScenario(seed + 1, scenario);
          expect(other.hash, `seeds ${seed} and ${seed + 1}`).not.toBe(first.hash);
        },
      ),
      { numRuns: 1000 },
    );
  }, 120_000);

  it('two simulations interleaved in one process do not influence each other', async () => {
    const scenario = fc.sample(scenarioArbitrary, { seed: 99, numRuns: 1 })[0];
    if (!scenario) throw new Error('no scenario');
    const alone = await runScenario(5, scenario);
    const [x, y] = await Promise.all([runScenario(5, scenario), runScenario(5, scenario)]);
    expect(x.hash).toBe(alone.hash);
    expect(y.hash).toBe(alone.hash);
  });
});
