import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import {
  freePort,
  haveClient,
  startProcess,
  tempDir,
  transmissionSettings,
  waitFor,
} from '../src/interop';

describe('interop kit', () => {
  const required = process.env.INTEROP_REQUIRED;
  afterEach(() => {
    if (required === undefined) delete process.env.INTEROP_REQUIRED;
    else process.env.INTEROP_REQUIRED = required;
  });

  it('finds installed programs; a missing one is false, or an error under INTEROP_REQUIRED=1', () => {
    expect(haveClient('node')).toBe(true);
    delete process.env.INTEROP_REQUIRED;
    expect(haveClient('peerkit-no-such-program')).toBe(false);
    process.env.INTEROP_REQUIRED = '1';
    expect(() => haveClient('peerkit-no-such-program')).toThrow(/INTEROP_REQUIRED=1/);
  });

  it('runs a process by PID with its output in a log file, and stops it', async () => {
    const dir = await tempDir('dev-kit');
    try {
      const done = startProcess(
        process.execPath,
        ['-e', 'console.log("hello"); process.exit(3)'],
        `${dir.path}/a.log`,
      );
      expect(await done.exited).toBe(3);
      expect(done.running).toBe(false);
      expect(done.output()).toBe('hello\n');

      const sleeper = startProcess(
        process.execPath,
        ['-e', 'setTimeout(() => {}, 60_000)'],
        `${dir.path}/b.log`,
      );
      expect(sleeper.running).toBe(true);
      await sleeper.stop();
      expect(sleeper.running).toBe(false);
      expect(await sleeper.exited).toBeNull(); // ended by SIGTERM
    } finally {
      await dir.remove();
    }
    expect(existsSync(dir.path)).toBe(false);
  });

  it('hands out a loopback port, and waitFor names what it waited for', async () => {
    const port = await freePort();
    expect(port).toBeGreaterThan(0);
    await expect(waitFor(() => false, 10, 'nothing')).rejects.toThrow(
      'timed out waiting for nothing',
    );
    let n = 0;
    await waitFor(() => ++n === 2, 5_000, 'the second call');
    expect(n).toBe(2);
  });

  it('configures transmission-daemon on loopback only, without DHT, LPD or PEX', () => {
    const settings = JSON.parse(transmissionSettings(9091, 51413, '/tmp/x', { encryption: 2 }));
    expect(settings['bind-address-ipv4']).toBe('127.0.0.1');
    expect(settings['rpc-bind-address']).toBe('127.0.0.1');
    expect([settings['dht-enabled'], settings['lpd-enabled'], settings['pex-enabled']]).toEqual([
      false,
      false,
      false,
    ]);
    expect(settings.encryption).toBe(2);
    expect(settings['peer-port']).toBe(51413);
  });
});
