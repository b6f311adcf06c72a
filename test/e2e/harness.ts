// A minimal sequential test runner for the extension host: the end-to-end steps depend on one
// another (one VM, one session), so they run in order and stop at the first failure. No test
// framework to install; any host that calls index.ts's run() (VS Code's extensionTestsPath
// under code-server or @vscode/test-electron) runs it the same way.

export type Step = { name: string; fn: () => Promise<void>; timeoutMs: number };

export class Suite {
  private readonly steps: Step[] = [];

  step(name: string, fn: () => Promise<void>, timeoutMs = 60_000): void {
    this.steps.push({ name, fn, timeoutMs });
  }

  /** Runs the steps in order; prints `N passed, N failed`; rejects if any failed. */
  async run(log: (line: string) => void = (l) => console.log(l)): Promise<void> {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const s of this.steps) {
      if (failed > 0) {
        skipped++;
        log(`- ${s.name} (skipped after a failure)`);
        continue;
      }
      const t0 = Date.now();
      try {
        await withTimeout(s.fn(), s.timeoutMs, s.name);
        passed++;
        log(`✔ ${s.name} (${Date.now() - t0} ms)`);
      } catch (e) {
        failed++;
        log(`✖ ${s.name} (${Date.now() - t0} ms)\n${e instanceof Error ? e.stack ?? e.message : String(e)}`);
      }
    }
    log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
    if (failed > 0) throw new Error(`${failed} end-to-end step(s) failed`);
  }
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
    }),
  ]);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `probe` until it returns a value other than undefined/false. */
export async function until<T>(probe: () => T | undefined | false | Promise<T | undefined | false>, what: string, timeoutMs = 20_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v as T;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}
