/**
 * Running the built `peerkit-chat` (dist/cli.js) as real processes for the end-to-end tests:
 * JSON events are collected line by line, input lines go to stdin, and every process is
 * stopped by its PID at the end.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

export function requireBuild(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`pnpm build\` first`);
}

export type Json = Record<string, unknown> & { event: string; time: number };

export class ChatProcess {
  readonly child: ChildProcess;
  readonly events: Json[] = [];
  stderr = '';
  /** Everything written to stdout (human lines and JSON alike). */
  stdoutText = '';
  exitCode: number | null | undefined;
  readonly exited: Promise<number | null>;
  private buffer = '';

  constructor(args: string[]) {
    this.child = spawn(process.execPath, [CLI, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout?.setEncoding('utf8');
    this.child.stdout?.on('data', (chunk: string) => {
      this.buffer += chunk;
      this.stdoutText += chunk;
      let i = this.buffer.indexOf('\n');
      while (i >= 0) {
        const line = this.buffer.slice(0, i);
        this.buffer = this.buffer.slice(i + 1);
        if (line.startsWith('{')) this.events.push(JSON.parse(line) as Json);
        i = this.buffer.indexOf('\n');
      }
    });
    this.child.stderr?.setEncoding('utf8');
    this.child.stderr?.on('data', (chunk: string) => {
      this.stderr += chunk;
    });
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code) => {
        this.exitCode = code;
        resolve(code);
      });
    });
  }

  /** Types a line into the session. */
  input(line: string): void {
    this.child.stdin?.write(`${line}\n`);
  }

  find(predicate: (e: Json) => boolean): Json | undefined {
    return this.events.find(predicate);
  }

  /** Waits for an event; fails with the process's stderr after `timeoutMs`. */
  async waitFor(predicate: (e: Json) => boolean, what: string, timeoutMs = 20_000): Promise<Json> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const e = this.find(predicate);
      if (e) return e;
      if (this.exitCode !== undefined) {
        throw new Error(
          `process exited (${this.exitCode}) while waiting for ${what}: ${this.stderr}`,
        );
      }
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${what}; stderr: ${this.stderr}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** Stops the process by its PID (SIGTERM: it saves state and exits), SIGKILL if it hangs. */
  async stop(): Promise<void> {
    if (this.exitCode !== undefined || this.child.pid === undefined) return;
    process.kill(this.child.pid, 'SIGTERM');
    const timer = setTimeout(() => {
      if (this.exitCode === undefined && this.child.pid !== undefined)
        process.kill(this.child.pid, 'SIGKILL');
    }, 5000);
    await this.exited;
    clearTimeout(timer);
  }
}

/** Runs the CLI to completion. */
export async function runCli(args: string[], timeoutMs = 30_000) {
  const p = new ChatProcess(args);
  const timer = setTimeout(() => void p.stop(), timeoutMs);
  const code = await p.exited;
  clearTimeout(timer);
  return { code, events: p.events, stderr: p.stderr };
}

export function tempDir(): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), 'peerkit-chat-'));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}
