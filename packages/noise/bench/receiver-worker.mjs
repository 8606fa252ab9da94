// Worker entry for noise.bench.ts: workers do not inherit tsx's loader, so register it here,
// then load the TypeScript receiver.
import { register } from 'tsx/esm/api';

register();
await import('./receiver-worker.ts');
