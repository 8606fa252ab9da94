/** Counting the UDP sockets and timers a test leaves open (`process.getActiveResourcesInfo()`). */
const TYPES = new Set(['UDPWrap', 'UDPSendWrap', 'Timeout']);

export type HandleCounts = Record<string, number>;

export function openHandles(): HandleCounts {
  const counts: HandleCounts = {};
  for (const type of process.getActiveResourcesInfo()) {
    if (TYPES.has(type)) counts[type] = (counts[type] ?? 0) + 1;
  }
  return counts;
}

/** Waits up to `maxMs` for the open handles to fall back to `baseline`; throws otherwise. */
export async function expectNoLeftovers(baseline: HandleCounts, maxMs = 2000): Promise<void> {
  const excess = (): string[] =>
    Object.entries(openHandles())
      .filter(([type, n]) => n > (baseline[type] ?? 0))
      .map(([type, n]) => `${type} ${baseline[type] ?? 0} -> ${n}`);
  const deadline = performance.now() + maxMs;
  let left = excess();
  for (let turn = 0; left.length > 0 && performance.now() < deadline; turn++) {
    await new Promise((resolve) => (turn < 50 ? setImmediate(resolve) : setTimeout(resolve, 10)));
    left = excess();
  }
  if (left.length > 0) throw new Error(`resources left open: ${left.join(', ')}`);
}
