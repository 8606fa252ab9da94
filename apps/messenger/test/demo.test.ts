import { describe, expect, it } from 'vitest';
import { runChatDemo } from '../src/index';
import { startBootstrap } from './helpers/nodes';

// The demo's own 20 s limit is for people watching it; on a loaded CI machine the test allows
// more, since it checks what is delivered, not how fast.
const timeoutMs = 45_000;

describe('runChatDemo (the pnpm demo hook)', () => {
  it('runs a three-node conversation with a DM and stops everything', async () => {
    const lines: string[] = [];
    const summary = await runChatDemo({ log: (l) => lines.push(l), timeoutMs });
    expect(summary.messagesDelivered).toBe(summary.messagesExpected);
    expect(summary.messagesExpected).toBe(8);
    expect(summary.dmDelivered).toBe(true);
    expect(summary.dmSeenByOthers).toBe(0);
    expect(lines.some((l) => l.includes('[bob gets a DM]'))).toBe(true);
  }, 60_000);

  it('meets through a given bootstrap node (`host:port`, as the fileshare demo passes it)', async () => {
    const boot = await startBootstrap();
    try {
      const summary = await runChatDemo({
        bootstrap: `127.0.0.1:${boot.address.port}`,
        log: () => {},
        timeoutMs,
      });
      expect(summary.messagesDelivered).toBe(8);
      expect(boot.dht.store.infoHashCount).toBeGreaterThan(0); // they announced through it
    } finally {
      await boot.close();
    }
  }, 60_000);
});
