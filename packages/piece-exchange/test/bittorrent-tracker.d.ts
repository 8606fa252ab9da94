/** The part of `bittorrent-tracker` (npm, no bundled types) the interop tests use. */
declare module 'bittorrent-tracker/server' {
  import type { Socket } from 'node:dgram';
  import type { Server as HttpServer } from 'node:http';

  export interface ServerOptions {
    http?: boolean;
    udp?: boolean;
    ws?: boolean;
    stats?: boolean;
    /** Announce interval, ms. */
    interval?: number;
  }

  export default class Server {
    constructor(options?: ServerOptions);
    readonly http: HttpServer | null;
    readonly udp: Socket | null;
    on(event: 'error' | 'warning', handler: (error: unknown) => void): this;
    once(event: 'listening', handler: () => void): this;
    once(event: 'error', handler: (error: unknown) => void): this;
    listen(
      port: number | { http?: number; udp?: number },
      hostname?: string | { http?: string; udp?: string; udp6?: string },
    ): void;
    close(callback?: () => void): void;
  }
}
