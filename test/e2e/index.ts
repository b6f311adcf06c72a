// extensionTestsPath entry: VS Code loads this file in the extension host and calls run().
// The same file serves code-server (scripts/e2e/run.mjs) and @vscode/test-electron.
// The SMP debugging suite first (it fills the open folder with the sample), then the
// assembly language suite on the sample's asm-ipi.S; each runs even if the other failed.
import { smpSuite } from './smp';
import { asmSuite } from './asm';

export async function run(): Promise<void> {
  const log = (line: string) => console.log(line);
  const failures: unknown[] = [];
  for (const suite of [smpSuite, asmSuite]) await suite().run(log).catch((e: unknown) => failures.push(e));
  if (failures.length) throw failures[0];
}
