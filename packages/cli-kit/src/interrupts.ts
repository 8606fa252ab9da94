/**
 * Ctrl-C (SIGINT) and SIGTERM, caught from the moment a command starts: the first one aborts
 * `signal` and resolves `next()` (a clean stop: hashing stops between pieces, a node saves its
 * state); a second one, while that stop is under way, exits at once with 130.
 */
import { EXIT_INTERRUPTED } from './exit';

export class Interrupts {
  private readonly controller = new AbortController();
  private received: string | undefined;
  private readonly waiters: ((signal: string) => void)[] = [];
  private readonly handlers: [NodeJS.Signals, () => void][];

  constructor(private readonly exit: (code: number) => void = (code) => process.exit(code)) {
    this.handlers = (['SIGINT', 'SIGTERM'] as const).map((name) => {
      const handler = () => this.on(name);
      process.on(name, handler);
      return [name, handler];
    });
  }

  private on(name: string): void {
    if (this.received !== undefined) {
      this.exit(EXIT_INTERRUPTED);
      return;
    }
    this.received = name;
    this.controller.abort(new InterruptedError(name));
    for (const w of this.waiters.splice(0)) w(name);
  }

  /** Aborted by the first signal (its reason: an `InterruptedError`). */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** The first signal's name, once one came. */
  get interrupted(): string | undefined {
    return this.received;
  }

  /** Resolves with the first signal (at once if one already came). */
  next(): Promise<string> {
    if (this.received !== undefined) return Promise.resolve(this.received);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Stops listening (the process's default handling comes back). */
  close(): void {
    for (const [name, handler] of this.handlers) process.off(name, handler);
  }
}

/** What an interrupted operation rejects with: code `INTERRUPTED`, exit code 130. */
export class InterruptedError extends Error {
  readonly code = 'INTERRUPTED';
  constructor(readonly signal: string) {
    super(`interrupted (${signal})`);
    this.name = 'InterruptedError';
  }
}
