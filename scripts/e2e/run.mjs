// `npm run test:e2e`: the end-to-end test in a real VS Code, headless and offline.
//  1. the toolchain in .cache/ (Node 24, @vscode/vsce, code-server; installed on first use),
//  2. the .vsix built from dist/ (run `npm run build` first; `npm test` does),
//  3. code-server with that .vsix installed and an empty folder open, driven by Debian's
//     chromium through playwright-core; VS Code's own test runner loads out/test/e2e/index.js
//     into the extension host (the `payload` that the smoke-test driver option honours),
//  4. the suite asks for screenshots and UI clicks through a control folder (test/e2e/driver.ts);
//     screenshots go to docs/,
//  5. the exit code of the suite's run() is this script's exit code; every process it started
//     is killed as one process group.
// `npm run test:e2e -- --electron` runs the same suite under @vscode/test-electron instead, on a
// machine that can download VS Code (it must be installed: npm i -D @vscode/test-electron).
// See shared notes/vscode-offline.md.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { ROOT, CACHE, ensureCodeServer, node24, node24Env } from './toolchain.mjs';
import { packageVsix } from './package.mjs';

const TIMEOUT_MS = Number(process.env.HYPERSTEP_E2E_TIMEOUT_MS ?? 300_000);
const CHROMIUM = process.env.HYPERSTEP_E2E_CHROMIUM ?? '/usr/bin/chromium';
const VIEWPORT = { width: 1600, height: 1000 };
const TESTS = join(ROOT, 'out/test/e2e/index.js');
const DOCS = join(ROOT, 'docs');
const t0 = Date.now();

function log(msg) {
  process.stderr.write(`[e2e ${((Date.now() - t0) / 1000).toFixed(1).padStart(5)} s] ${msg}\n`);
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function waitForServer(url, ms) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    try {
      const r = await fetch(url);
      if (r.ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`code-server did not answer at ${url} within ${ms} ms`);
}

function runElectron() {
  // A contributor's machine with internet access: the same suite under @vscode/test-electron.
  return import('@vscode/test-electron').then(async ({ runTests }) => {
    const work = join(CACHE, 'e2e-electron');
    rmSync(work, { recursive: true, force: true });
    mkdirSync(join(work, 'workspace'), { recursive: true });
    await runTests({ extensionDevelopmentPath: ROOT, extensionTestsPath: TESTS, launchArgs: [join(work, 'workspace'), '--disable-extensions'] });
  });
}

async function main() {
  if (process.argv.includes('--electron')) return runElectron();
  if (!existsSync(TESTS) || !existsSync(join(ROOT, 'dist/extension.js'))) {
    throw new Error('build first: npm run build (out/test/e2e/index.js and dist/extension.js are missing)');
  }
  const codeServer = ensureCodeServer();
  log('toolchain ready');

  const work = join(CACHE, 'e2e');
  rmSync(work, { recursive: true, force: true });
  const dirs = Object.fromEntries(['userData', 'extensions', 'xdgConfig', 'xdgData', 'workspace', 'control', 'tmp'].map((d) => [d, join(work, d)]));
  for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true });

  // A quiet, dark workbench for the screenshots: no chat side bar, no welcome page.
  mkdirSync(join(dirs.userData, 'User'), { recursive: true });
  writeFileSync(join(dirs.userData, 'User', 'settings.json'), JSON.stringify({
    'workbench.colorTheme': 'Default Dark Modern',
    'workbench.startupEditor': 'none',
    'workbench.secondarySideBar.defaultVisibility': 'hidden',
    'chat.disableAIFeatures': true,
    'workbench.tips.enabled': false,
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    'extensions.ignoreRecommendations': true,
    'debug.toolBarLocation': 'docked',
  }, null, 2));

  const vsix = packageVsix(join(work, 'hyperstep.vsix'));
  log(`packaged ${vsix}`);

  const env = node24Env({
    XDG_CONFIG_HOME: dirs.xdgConfig,
    XDG_DATA_HOME: dirs.xdgData,
    TMPDIR: dirs.tmp,
    HYPERSTEP_E2E_CONTROL: dirs.control,
    HYPERSTEP_E2E_EXTENSIONS_DIR: dirs.extensions,
  });
  const common = ['--user-data-dir', dirs.userData, '--extensions-dir', dirs.extensions, '--disable-telemetry', '--disable-update-check'];
  const install = spawnSync(node24, [codeServer, ...common, '--install-extension', vsix], { env, encoding: 'utf8' });
  if (install.status !== 0) throw new Error(`installing the .vsix failed:\n${install.stdout}\n${install.stderr}`);
  const installed = readdirSync(dirs.extensions).find((d) => d.startsWith('hyperstep.hyperstep-'));
  if (!installed) throw new Error(`the .vsix did not install into ${dirs.extensions}: ${install.stdout}`);
  log(`installed ${installed}`);

  const port = await freePort();
  const server = spawn(node24, [codeServer, ...common, '--bind-addr', `127.0.0.1:${port}`, '--auth', 'none',
    '--disable-workspace-trust', '--vscode-option', 'enable-smoke-test-driver', dirs.workspace], {
    env, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
  });
  const serverLog = [];
  server.stdout.on('data', (d) => serverLog.push(String(d)));
  server.stderr.on('data', (d) => serverLog.push(String(d)));
  let browser;
  let exitCode = 1;
  try {
    await waitForServer(`http://127.0.0.1:${port}/healthz`, 30_000);
    log(`code-server listening on port ${port}`);
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    const page = await browser.newPage({ viewport: VIEWPORT, deviceScaleFactor: 1 });
    let finish;
    const finished = new Promise((resolve) => {
      finish = resolve;
    });
    await page.exposeFunction('codeAutomationLog', (type, args) => {
      const text = Array.isArray(args) ? args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ') : String(args);
      process.stdout.write(`${text}\n`);
    });
    await page.exposeFunction('codeAutomationExit', (code) => finish(code));
    page.on('pageerror', (e) => log(`page error: ${e.message}`));

    const remote = (p) => `vscode-remote://127.0.0.1:${port}${p}`;
    const payload = [
      ['extensionDevelopmentPath', remote(join(dirs.extensions, installed))],
      ['extensionTestsPath', remote(TESTS)],
    ];
    const url = `http://127.0.0.1:${port}/?folder=${encodeURIComponent(dirs.workspace)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
    await page.goto(url);
    log('workbench loading; the suite runs in the extension host');

    const stopControl = serveControl(page, dirs.control);
    const timeout = new Promise((resolve) => setTimeout(() => resolve('timeout'), TIMEOUT_MS));
    const result = await Promise.race([finished, timeout]);
    stopControl();
    if (result === 'timeout') {
      log(`the suite did not finish within ${TIMEOUT_MS / 1000} s`);
      await page.screenshot({ path: join(work, 'timeout.png') }).catch(() => {});
      exitCode = 1;
    } else {
      exitCode = Number(result);
    }
  } finally {
    await browser?.close().catch(() => {});
    // The extension host and the adapter outlive the browser: end code-server's whole group.
    try {
      process.kill(-server.pid, 'SIGKILL');
    } catch {
      // already gone
    }
    if (exitCode !== 0) {
      log(`code-server output:\n${serverLog.join('').split('\n').slice(-40).join('\n')}`);
    }
  }
  log(`end-to-end suite exited with ${exitCode}`);
  return exitCode;
}

/** Answers the suite's requests (test/e2e/driver.ts): screenshots and clicks in the workbench. */
function serveControl(page, dir) {
  let busy = false;
  let stopped = false;
  const answer = (id, body) => {
    const tmp = join(dir, `answer-${id}.tmp`);
    writeFileSync(tmp, JSON.stringify(body));
    renameSync(tmp, join(dir, `answer-${id}.json`));
  };
  const timer = setInterval(async () => {
    if (busy || stopped) return;
    const requests = readdirSync(dir).filter((f) => /^request-\d+\.json$/.test(f) && !existsSync(join(dir, f.replace('request', 'answer'))));
    if (requests.length === 0) return;
    busy = true;
    for (const f of requests) {
      const req = JSON.parse(readFileSync(join(dir, f), 'utf8'));
      try {
        answer(req.id, { ok: true, ...(await act(page, req)) });
      } catch (e) {
        await page.screenshot({ path: join(dir, `failed-${req.id}-${req.action}.png`) }).catch(() => {});
        answer(req.id, { ok: false, error: e instanceof Error ? e.message : String(e) });
      }
    }
    busy = false;
  }, 100);
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}

async function act(page, req) {
  switch (req.action) {
    case 'screenshot': {
      mkdirSync(DOCS, { recursive: true });
      const path = join(DOCS, `${req.name}.png`);
      await page.mouse.move(VIEWPORT.width - 2, VIEWPORT.height - 2);
      await page.screenshot({ path });
      log(`screenshot ${path}`);
      return { path };
    }
    case 'enableFilter': {
      // The event breakpoints (the adapter's exception filters) are rows in the Breakpoints view.
      const row = page.locator('.debug-breakpoints .monaco-list-row').filter({ hasText: req.label }).first();
      await row.waitFor({ timeout: 10_000 });
      const box = row.locator('input[type=checkbox], [role=checkbox]').first();
      try {
        await box.waitFor({ timeout: 5_000 });
      } catch {
        throw new Error(`no checkbox in the '${req.label}' row: ${(await row.innerHTML()).slice(0, 1500)}`);
      }
      if (!(await box.isChecked({ timeout: 5_000 }))) await box.click({ timeout: 5_000 });
      return { checked: await box.isChecked({ timeout: 5_000 }) };
    }
    case 'widenSideBar': {
      // Drag the sash on the side bar's right edge, as a user widening it would.
      const box = await page.locator('#workbench\\.parts\\.sidebar').boundingBox();
      if (!box) throw new Error('no side bar');
      const x = box.x + box.width + 1;
      const y = box.y + box.height / 2;
      await page.mouse.move(x, y);
      await page.mouse.down();
      await page.mouse.move(x + req.by / 2, y, { steps: 4 });
      await page.mouse.move(x + req.by, y, { steps: 4 });
      await page.mouse.up();
      return {};
    }
    case 'collapseViews': {
      // Collapse the named panes of the side bar (their headers toggle them).
      for (const title of req.titles) {
        const header = page.locator('.pane-header[aria-expanded="true"]').filter({ hasText: new RegExp(`^${title}`, 'i') }).first();
        if (await header.count()) await header.click({ timeout: 5_000 });
      }
      return {};
    }
    case 'clickFrame': {
      // Focus a stack frame as a user would: open its thread in the Call Stack view, click the frame.
      const rows = page.locator('.debug-call-stack .monaco-list-row');
      const thread = rows.filter({ hasText: req.thread }).first();
      await thread.waitFor({ timeout: 10_000 });
      if ((await thread.getAttribute('aria-expanded')) === 'false') await thread.locator('.monaco-tl-twistie').click({ timeout: 5_000 });
      const row = rows.filter({ hasText: req.text }).first();
      await row.waitFor({ timeout: 10_000 });
      await row.click({ timeout: 5_000 });
      return {};
    }
    case 'expandVariables': {
      // Show one scope of the Variables view: collapse the others (the list only renders the
      // rows in view), then expand it.
      const rows = page.locator('.debug-variables .monaco-list-row[aria-level="1"]');
      await rows.first().waitFor({ timeout: 10_000 });
      for (const row of await rows.all()) {
        const text = await row.textContent();
        const expanded = await row.getAttribute('aria-expanded');
        if (expanded === 'true' && !text.includes(req.scope)) await row.click({ timeout: 5_000 });
      }
      const row = rows.filter({ hasText: req.scope }).first();
      await row.waitFor({ timeout: 10_000 });
      if ((await row.getAttribute('aria-expanded')) === 'false') await row.click({ timeout: 5_000 });
      return {};
    }
    default:
      throw new Error(`unknown action ${req.action}`);
  }
}

main().then((code) => process.exit(code ?? 0), (e) => {
  log(e instanceof Error ? e.stack ?? e.message : String(e));
  process.exit(1);
});
