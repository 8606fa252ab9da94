/**
 * peerkit's one event convention (docs/architecture.md, "Events"):
 *
 * - A node that reports happenings extends (or owns) an `Emitter<Events>`, where `Events` maps
 *   each event name to the type of its single payload: `{ peer: PeerEvent; done: DoneEvent }`.
 * - `on(name, handler)` returns the function that removes the handler; `once` likewise.
 * - A handler that throws is isolated: the other handlers of that event still run, the node goes
 *   on, and the error is reported to the emitter's `onHandlerError` (by default: written to
 *   stderr with the event's name, never swallowed silently and never thrown into the node).
 * - Emitting is synchronous and never throws; a handler that needs to do I/O starts it itself.
 */

/** The shape every event map has: event name → payload (an interface or a type literal). */
export type EventMap<Events> = { [K in keyof Events]: unknown };

/** A handler of one event's payload. */
export type EventHandler<T> = (payload: T) => void;

/** Called with the error of a handler that threw, and the event it was handling. */
export type HandlerErrorReporter = (error: unknown, event: string) => void;

export interface EmitterOptions {
  /** Where a throwing handler's error goes (default: `reportHandlerError`, to stderr). */
  onHandlerError?: HandlerErrorReporter;
}

/** The default reporter: one line on stderr naming the event, then the error. */
export const reportHandlerError: HandlerErrorReporter = (error, event) => {
  console.error(`peerkit: a handler of the "${event}" event threw:`, error);
};

/** A typed event emitter whose handlers cannot break the emitter or each other. */
export class Emitter<Events extends EventMap<Events>> {
  readonly #handlers = new Map<keyof Events, Set<EventHandler<never>>>();
  #onHandlerError: HandlerErrorReporter;

  constructor(options: EmitterOptions = {}) {
    this.#onHandlerError = options.onHandlerError ?? reportHandlerError;
  }

  /** Adds `handler` for `event`; returns the function that removes it. */
  on<K extends keyof Events>(event: K, handler: EventHandler<Events[K]>): () => void {
    let set = this.#handlers.get(event);
    if (!set) {
      set = new Set();
      this.#handlers.set(event, set);
    }
    set.add(handler as EventHandler<never>);
    return () => this.off(event, handler);
  }

  /** Like `on`, for the next emission only. */
  once<K extends keyof Events>(event: K, handler: EventHandler<Events[K]>): () => void {
    const off = this.on(event, (payload) => {
      off();
      handler(payload);
    });
    return off;
  }

  /** Removes `handler` from `event` (no-op when it is not registered). */
  off<K extends keyof Events>(event: K, handler: EventHandler<Events[K]>): void {
    this.#handlers.get(event)?.delete(handler as EventHandler<never>);
  }

  /** How many handlers `event` has. */
  listenerCount(event: keyof Events): number {
    return this.#handlers.get(event)?.size ?? 0;
  }

  /** Replaces where a throwing handler's error goes. */
  setHandlerErrorReporter(reporter: HandlerErrorReporter): void {
    this.#onHandlerError = reporter;
  }

  /**
   * Calls every handler of `event` with `payload`, each isolated from the others: a handler
   * that throws is reported and the rest still run. Never throws.
   */
  protected emit<K extends keyof Events>(event: K, payload: Events[K]): void {
    const set = this.#handlers.get(event);
    if (!set || set.size === 0) return;
    for (const handler of [...set]) {
      try {
        (handler as EventHandler<Events[K]>)(payload);
      } catch (error) {
        try {
          this.#onHandlerError(error, String(event));
        } catch {
          // A reporter that throws has nowhere left to report to.
        }
      }
    }
  }
}

/**
 * An `Emitter` whose `emit` is public: for a node that composes an emitter instead of extending
 * one (`readonly events = new EventChannel<MyEvents>()`).
 */
export class EventChannel<Events extends EventMap<Events>> extends Emitter<Events> {
  override emit<K extends keyof Events>(event: K, payload: Events[K]): void {
    super.emit(event, payload);
  }
}
