// extensionTestsPath entry: VS Code loads this file in the extension host and calls run().
// The same file serves code-server (scripts/e2e/run.mjs) and @vscode/test-electron.
import { smpSuite } from './smp';

export async function run(): Promise<void> {
  await smpSuite().run((line) => console.log(line));
}
