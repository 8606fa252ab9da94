/**
 * Proves that a package is publish-ready on its own: `pnpm pack` it (and the workspace packages
 * it depends on), install the tarballs into an empty project with npm, then import it there from
 * ESM and from CommonJS and check the named exports. Used by each package's `test/pack.test.ts`.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

interface Manifest {
  name: string;
  dependencies?: Record<string, string>;
  exports?: Record<string, unknown>;
}

function readManifest(dir: string): Manifest {
  return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest;
}

function workspaceDirs(): Map<string, string> {
  const byName = new Map<string, string>();
  for (const group of ['packages', 'apps']) {
    const base = join(repoRoot, group);
    if (!existsSync(base)) continue;
    for (const d of readdirSync(base)) {
      const dir = join(base, d);
      if (existsSync(join(dir, 'package.json'))) byName.set(readManifest(dir).name, dir);
    }
  }
  return byName;
}

/** The package and every workspace package it depends on, transitively. */
function closure(pkgDir: string): string[] {
  const all = workspaceDirs();
  const seen = new Set<string>();
  const visit = (dir: string) => {
    if (seen.has(dir)) return;
    seen.add(dir);
    for (const [dep, range] of Object.entries(readManifest(dir).dependencies ?? {})) {
      const depDir = all.get(dep);
      if (range.startsWith('workspace:') && depDir) visit(depDir);
    }
  };
  visit(pkgDir);
  return [...seen];
}

function pnpmCommand(): { cmd: string; args: string[] } {
  const execPath = process.env.npm_execpath;
  if (execPath?.includes('pnpm')) {
    return execPath.endsWith('.cjs') || execPath.endsWith('.js')
      ? { cmd: process.execPath, args: [execPath] }
      : { cmd: execPath, args: [] };
  }
  return { cmd: 'pnpm', args: [] };
}

export interface PackSmokeResult {
  esmExports: string[];
  cjsExports: string[];
}

export interface PackSmokeOptions {
  /**
   * Registry packages to install next to the tarballs, e.g. `['fast-check@4.10.2']` for an
   * entry that needs an optional peer dependency (a user of that entry installs it too).
   */
  alsoInstall?: string[];
}

/**
 * Packs `pkgDir` with its workspace dependencies, installs them into a fresh project and
 * returns the export names seen from `import` and from `require` of `specifier`
 * (default: the package name itself; pass e.g. `@peerkit/x/testing` for a subpath).
 */
export function packAndImport(
  pkgDir: string,
  specifiers?: string[],
  options: PackSmokeOptions = {},
): Record<string, PackSmokeResult> {
  const work = mkdtempSync(join(tmpdir(), 'peerkit-pack-'));
  try {
    const tarDir = join(work, 'tarballs');
    const pnpm = pnpmCommand();
    for (const dir of closure(pkgDir)) {
      execFileSync(pnpm.cmd, [...pnpm.args, 'pack', '--pack-destination', tarDir], {
        cwd: dir,
        stdio: 'pipe',
      });
    }
    const project = join(work, 'project');
    execFileSync('mkdir', ['-p', project]);
    writeFileSync(join(project, 'package.json'), '{"name":"pack-smoke","private":true}\n');
    const tarballs = readdirSync(tarDir).map((f) => join(tarDir, f));
    execFileSync(
      'npm',
      [
        'install',
        '--no-audit',
        '--no-fund',
        '--prefer-offline',
        '--loglevel=error',
        ...tarballs,
        ...(options.alsoInstall ?? []),
      ],
      { cwd: project, stdio: 'pipe' },
    );
    const name = readManifest(pkgDir).name;
    const out: Record<string, PackSmokeResult> = {};
    for (const spec of specifiers ?? [name]) {
      const esm = execFileSync(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `const m = await import(${JSON.stringify(spec)}); console.log(JSON.stringify(Object.keys(m).filter((k) => k !== 'default').sort()));`,
        ],
        { cwd: project, encoding: 'utf8' },
      );
      const cjs = execFileSync(
        process.execPath,
        [
          '-e',
          `const m = require(${JSON.stringify(spec)}); console.log(JSON.stringify(Object.keys(m).sort()));`,
        ],
        { cwd: project, encoding: 'utf8' },
      );
      out[spec] = {
        esmExports: JSON.parse(esm) as string[],
        cjsExports: JSON.parse(cjs) as string[],
      };
    }
    return out;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
