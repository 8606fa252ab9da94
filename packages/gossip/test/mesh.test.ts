import { expect, test } from 'vitest';
import { DEFAULT_MESH_PARAMS, Mesh, type MeshView } from '../src/index';
import { seededRandom } from './helpers/router';

function view(scores: Map<string, number>, outbound = new Set<string>()): MeshView {
  return {
    topicPeers: () => [...scores.keys()],
    score: (p) => scores.get(p) ?? 0,
    isOutbound: (p) => outbound.has(p),
  };
}

test('opportunistic grafting: a mesh of poor peers grafts better ones every N heartbeats', () => {
  const scores = new Map<string, number>();
  for (let i = 0; i < 5; i++) scores.set(`poor${i}`, 0);
  const mesh = new Mesh({ ...DEFAULT_MESH_PARAMS, opportunisticGraftTicks: 3 }, seededRandom(3));
  const v = view(scores);
  mesh.join('t', v, 0);
  expect(mesh.peers('t').size).toBe(5);
  for (let i = 0; i < 4; i++) scores.set(`good${i}`, 10);
  const grafted: string[] = [];
  for (let tick = 1; tick <= 3; tick++) {
    for (const [peer] of mesh.heartbeat(v, tick * 1000).graft) grafted.push(peer);
  }
  expect(grafted).toHaveLength(DEFAULT_MESH_PARAMS.opportunisticGraftPeers);
  for (const peer of grafted) expect(peer.startsWith('good')).toBe(true);
});

test('no opportunistic grafting when the median score is above the threshold', () => {
  const scores = new Map<string, number>();
  for (let i = 0; i < 5; i++) scores.set(`ok${i}`, 50);
  const mesh = new Mesh({ ...DEFAULT_MESH_PARAMS, opportunisticGraftTicks: 1 }, seededRandom(3));
  const v = view(scores);
  mesh.join('t', v, 0);
  for (let i = 0; i < 4; i++) scores.set(`better${i}`, 100);
  expect(mesh.heartbeat(v, 1000).graft).toHaveLength(0);
});

test('pruning an oversized mesh keeps Dout outbound peers', () => {
  const scores = new Map<string, number>();
  const outbound = new Set<string>();
  for (let i = 0; i < 12; i++) scores.set(`p${i}`, 0);
  const mesh = new Mesh(DEFAULT_MESH_PARAMS, seededRandom(9));
  const v = view(scores, outbound);
  mesh.join('t', v, 0);
  for (const p of scores.keys()) mesh.handleGraft('t', p, v, 0);
  expect(mesh.peers('t').size).toBe(DEFAULT_MESH_PARAMS.Dhi);
  for (const p of ['p12', 'p13']) {
    scores.set(p, 0);
    outbound.add(p);
    expect(mesh.handleGraft('t', p, v, 0)).toEqual({ accept: true });
  }
  expect(mesh.handleGraft('t', 'p99', v, 0)).toMatchObject({ accept: false, reason: 'full' });
  expect(mesh.peers('t').size).toBe(14); // outbound peers are accepted above Dhi
  const actions = mesh.heartbeat(v, 1000);
  expect(mesh.peers('t').size).toBe(DEFAULT_MESH_PARAMS.D);
  expect(mesh.peers('t').has('p12') && mesh.peers('t').has('p13')).toBe(true);
  expect(
    actions.prune.every((p) => p.px && p.backoffMs === DEFAULT_MESH_PARAMS.pruneBackoffMs),
  ).toBe(true);
});
