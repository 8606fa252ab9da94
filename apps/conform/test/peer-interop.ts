/** Shared by the peer interop tests: run the suite, print the table, return outcome by rule id. */

import type { Outcome } from '@peerkit/conformance';
import { formatTable } from '../src/framework/report';
import { runPeerSuite } from '../src/suites';
import type { TorrentOnDisk } from './fixtures';
import type { Seeder } from './interop-helpers';

/** Cases per rule against other clients: each case costs them a second or two (a new connection). */
export const INTEROP_RUNS = 4;

export async function peerOutcomes(
  seeder: Seeder,
  fixture: TorrentOnDisk,
  timeoutMs: number,
): Promise<Record<string, Outcome>> {
  const report = await runPeerSuite({ host: '127.0.0.1', port: seeder.port }, fixture.metainfo, {
    runs: INTEROP_RUNS,
    seed: 11,
    timeoutMs,
  });
  console.log(formatTable(report));
  return Object.fromEntries(report.results.map((r) => [r.id, r.outcome]));
}

/** Every peer rule passed, except those named. */
export function allPassedExcept(failed: Record<string, Outcome>): Record<string, Outcome> {
  const ids = [
    'peer.handshake.info-hash',
    'peer.handshake.unknown-info-hash',
    'peer.handshake.other-protocol',
    'peer.bitfield.shape',
    'peer.fast.not-negotiated',
    'peer.request.choked',
    'peer.fast.reject-choked',
    'peer.extension.handshake',
    'peer.request.block',
    'peer.request.oversized',
    'peer.request.out-of-range',
    'peer.wire.late-bitfield',
    'peer.ut_metadata.info',
    'peer.wire.garbage',
  ];
  return Object.fromEntries(ids.map((id) => [id, failed[id] ?? 'passed']));
}
