/**
 * Counting the resources a test leaves open, through `process.getActiveResourcesInfo()`
 * (one entry per active handle, request or timer, named by type).
 */
import { createServer } from 'node:net';

/** Resource types a transport opens: sockets, servers, their pending requests, and timers. */
const TRANSPORT_TYPES = new Set([
  'TCPSocketWrap',
  'TCPServerWrap',
  'TCPWrap',
  'TCPConnectWrap',
  'UDPWrap',
  'UDPSendWrap',
  'ShutdownWrap',
  'WriteWrap',
  'Timeout',
]);

export type HandleCounts = Record<string, number>;

export function openHandles(): HandleCounts {
  const counts: HandleCounts = {};
  for (const type of process.getActiveResourcesInfo()) {
    if (TRANSPORT_TYPES.has(type)) counts[type] = (counts[type] ?? 0) + 1;
  }
  return counts;
}

function excess(now: HandleCounts, baseline: HandleCounts): string[] {
  return Object.entries(now)
    .filter(([type, n]) => n > (baseline[type] ?? 0))
    .map(([type, n]) => `${type} ${baseline[type] ?? 0} -> ${n}`);
}

/**
 * Waits (at most `maxMs` of wall time) until no more transport resources are open than in
 * `baseline`; throws the list of leftovers otherwise. Closing a handle completes a turn or two
 * after its `close` promise resolves — longer on a loaded machine — hence the wait. A real leak
 * (a socket never closed, a timer never cancelled) outlives the wait and fails the test.
 */
export async function expectNoLeftovers(baseline: HandleCounts, maxMs = 2000): Promise<void> {
  const deadline = performance.now() + maxMs;
  let left = excess(openHandles(), baseline);
  for (let turn = 0; left.length > 0 && performance.now() < deadline; turn++) {
    // A few immediate turns first (the common case), then short sleeps; the sleep's own timer
    // has fired and is gone by the time the handles are counted again.
    await new Promise((resolve) => (turn < 50 ? setImmediate(resolve) : setTimeout(resolve, 10)));
    left = excess(openHandles(), baseline);
  }
  if (left.length > 0) throw new Error(`resources left open: ${left.join(', ')}`);
}

/** Whether this machine can listen on `::1` (containers often run without IPv6). */
export function hasIPv6Loopback(): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ host: '::1', port: 0 }, () => server.close(() => resolve(true)));
  });
}
