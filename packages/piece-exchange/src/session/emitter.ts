/** A minimal typed event emitter (no dependency on node:events' untyped API). */
export class Emitter<Events extends { [K in keyof Events]: (...args: never[]) => void }> {
  private readonly handlers = new Map<keyof Events, Set<Events[keyof Events]>>();

  on<K extends keyof Events>(event: K, handler: Events[K]): () => void {
    let set = this.handlers.get(event);
    if (!set) {
      set = new Set();
      this.handlers.set(event, set);
    }
    set.add(handler);
    return () => this.off(event, handler);
  }

  once<K extends keyof Events>(event: K, handler: Events[K]): () => void {
    const wrapped = ((...args: Parameters<Events[K]>) => {
      off();
      (handler as (...a: Parameters<Events[K]>) => void)(...args);
    }) as unknown as Events[K];
    const off = this.on(event, wrapped);
    return off;
  }

  off<K extends keyof Events>(event: K, handler: Events[K]): void {
    this.handlers.get(event)?.delete(handler);
  }

  protected emit<K extends keyof Events>(event: K, ...args: Parameters<Events[K]>): void {
    for (const handler of [...(this.handlers.get(event) ?? [])]) {
      (handler as (...a: Parameters<Events[K]>) => void)(...args);
    }
  }
}
