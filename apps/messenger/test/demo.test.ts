import { describe, expect, it } from 'vitest';
import { runChatDemo } from '../src/index';
import { startBootstrap } from './helpers';

describe('runChatDemo (the pnpm demo hook)', () => {
  it('runs a three-node conversation with a DM and stops everything', async () => {
    const lines: string[] = [];
    const summary = await runChatDemo({ log: (l) => lines.push(l) });
    expect(summary.messagesDelivered).toBe(summary.messagesExpected);
    expect(summary.messagesExpected).toBe(8);
    expect(summary.dmDelivered).toBe(true);
    expect(summary.dmSeenByOthers).toBe(0);
    expect(lines.some((l) => l.includes('[bob gets a DM]'))).toBe(true);
  });

  it('meets through a given bootstrap node (`host:port`, as the fileshare demo passes it)', async () => {
    const boot = await startBootstrap();
    try {
      const summary = await runChatDemo({
        bootstrap: `127.0.0.1:${boot.address.port}`,
        log: () => {},
      });
      expect(summary.messagesDelivered).toBe(8);
      expect(boot.dht.store.infoHashCount).toBeGreaterThan(0); // they announced through it
    } finally {
      await boot.close();
    }
  });
});
