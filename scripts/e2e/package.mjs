// `npm run package`: builds the .vsix with @vscode/vsce, which needs Node >= 22, so it runs
// under the Node 24 the toolchain keeps in .cache/ (installed on first use). The build
// (tsc + esbuild) must have run before: `npm run package` does both.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, ensureVsce, node24, node24Env } from './toolchain.mjs';

/** Builds the .vsix into `out` (default: NAME-VERSION.vsix at the root); returns its path. */
export function packageVsix(out) {
  const vsce = ensureVsce();
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  const target = out ?? join(ROOT, `${pkg.name}-${pkg.version}.vsix`);
  // --skip-license: the repository has no LICENSE file yet (package.json says MIT).
  // --no-rewrite-relative-links: README images stay relative (no repository URL to point at).
  const r = spawnSync(node24, [vsce, 'package', '--out', target, '--skip-license', '--allow-missing-repository', '--no-rewrite-relative-links'], {
    cwd: ROOT, env: node24Env(), stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (r.status !== 0) throw new Error(`vsce package failed (status ${r.status})`);
  return target;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    const path = packageVsix(process.argv[2]);
    console.log(`packaged ${path}`);
  } catch (e) {
    console.error(e instanceof Error ? e.message : String(e));
    process.exit(1);
  }
}
