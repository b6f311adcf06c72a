// The channel to whatever drives the browser around this VS Code (scripts/e2e/run.mjs with
// Playwright): the suite asks for screenshots and UI clicks by writing a request file into
// HYPERSTEP_E2E_CONTROL and waits for the answer file. Without a driver (e.g. under
// @vscode/test-electron) `available` is false and the suite does the same through the API.
import { existsSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { until } from './harness';

const dir = process.env.HYPERSTEP_E2E_CONTROL;
let next = 0;

export const driver = {
  available: dir !== undefined && dir !== '' && existsSync(dir),

  /** Asks the driver to act; resolves with its answer ({ok, ...}). */
  async request(action: Record<string, unknown>, timeoutMs = 30_000): Promise<{ ok: boolean; error?: string; [k: string]: unknown }> {
    if (!this.available) return { ok: false, error: 'no driver' };
    const id = next++;
    const tmp = join(dir!, `request-${id}.tmp`);
    writeFileSync(tmp, JSON.stringify({ id, ...action }));
    renameSync(tmp, join(dir!, `request-${id}.json`));
    const answer = join(dir!, `answer-${id}.json`);
    await until(() => existsSync(answer), `the driver to do ${JSON.stringify(action)}`, timeoutMs);
    return JSON.parse(readFileSync(answer, 'utf8'));
  },

  async screenshot(name: string): Promise<void> {
    const r = await this.request({ action: 'screenshot', name });
    if (!r.ok) throw new Error(`screenshot ${name}: ${r.error}`);
  },
};
