/** Random selection with the injected `Random` (so simulations replay from their seed). */
import type { Random } from '@peerkit/transport';

/** Up to `n` items chosen uniformly at random (shuffles `items` in place). */
export function pick<T>(items: T[], n: number, random: Random): T[] {
  if (n <= 0) return [];
  for (let i = items.length - 1; i > 0; i--) {
    const j = random.int(i + 1);
    const tmp = items[i] as T;
    items[i] = items[j] as T;
    items[j] = tmp;
  }
  return items.slice(0, n);
}
