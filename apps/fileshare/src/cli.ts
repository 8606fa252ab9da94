#!/usr/bin/env node
/** The `peerkit-share` executable: see ./program.ts. */
import { main } from './program';

void main(process.argv).then(() => {
  // Every socket and timer is closed by now; exit even if a stray handle lingers.
  process.exit(process.exitCode ?? 0);
});
