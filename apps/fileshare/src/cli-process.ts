/**
 * Driving `peerkit-share ... --json` as a child process: spawn it, read its JSON event lines,
 * wait for an event, stop it by PID. The demo and the end-to-end tests use this.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

/** One `--json` line: `event` names it, the rest are its fields. */
export interface CliEvent {
  readonly event: string;
  readonly [field: string]: unknown;
}

export interface SpawnCliOptions {
  /** Path of the built `dist/cli.js`. */
  cli: string;
  cwd?: string;
  /** Called for every event line, in order. */
  onEvent?: (event: CliEvent) => void;
}

export class CliProcess {
  readonly child: ChildProcess;
  readonly events: CliEvent[] = [];
  /** Everything written to stderr (for error messages and diagnostics). */
  stderr = '';
  /** Lines of stdout that were not JSON. */
  readonly otherLines: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly waiters = new Set<() => void>();

  constructor(args: readonly string[], options: SpawnCliOptions) {
    this.child = spawn(process.execPath, [options.cli, ...args], {
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        // Let the last stdout lines be read first.
        setImmediate(() => {
          resolve({ code, signal });
          this.wake();
        });
      });
    });
    this.child.stderr?.setEncoding('utf8');
    this.child.stderr?.on('data', (text: string) => {
      this.stderr += text;
      if (this.stderr.length > 1 << 20) this.stderr = this.stderr.slice(-(1 << 19));
    });
    const lines = createInterface({ input: this.child.stdout! });
    lines.on('line', (line) => {
      let event: CliEvent | undefined;
      try {
        const parsed: unknown = JSON.parse(line);
        if (
          typeof parsed === 'object' &&
          parsed !== null &&
          typeof (parsed as CliEvent).event === 'string'
        ) {
          event = parsed as CliEvent;
        }
      } catch {
        // not JSON
      }
      if (event === undefined) {
        this.otherLines.push(line);
        return;
      }
      this.events.push(event);
      options.onEvent?.(event);
      this.wake();
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  /**
   * The first event (already seen or still to come) matching `predicate`; rejects when the
   * process exits first or after `timeoutMs`.
   */
  waitFor(
    predicate: (event: CliEvent) => boolean,
    timeoutMs: number,
    what = 'event',
  ): Promise<CliEvent> {
    return new Promise((resolve, reject) => {
      let exited = false;
      void this.exited.then(() => {
        exited = true;
      });
      const check = () => {
        const found = this.events.find(predicate);
        if (found !== undefined) {
          done();
          resolve(found);
        } else if (exited || !this.running) {
          done();
          reject(
            new Error(
              `process ${this.pid} exited before ${what}: ${this.stderr.trim().split('\n').pop() ?? ''}`,
            ),
          );
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  /** Waits for the event named `name`. */
  waitForEvent(name: string, timeoutMs: number): Promise<CliEvent> {
    return this.waitFor((e) => e.event === name, timeoutMs, `"${name}"`);
  }

  /**
   * Stops the process by its PID: `signal` (default SIGINT, a clean shutdown), then SIGKILL if it
   * has not exited after `timeoutMs`. Resolves with how it exited.
   */
  async stop(
    signal: NodeJS.Signals = 'SIGINT',
    timeoutMs = 5_000,
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.running && this.pid !== undefined) {
      process.kill(this.pid, signal);
      const timer = setTimeout(() => {
        if (this.running && this.pid !== undefined) process.kill(this.pid, 'SIGKILL');
      }, timeoutMs);
      const result = await this.exited;
      clearTimeout(timer);
      return result;
    }
    return this.exited;
  }
}

/** Spawns `node <cli> ...args`. */
export function spawnCli(args: readonly string[], options: SpawnCliOptions): CliProcess {
  return new CliProcess(args, options);
}
