// "Open SMP Sample": a folder with the bundled SMP guests (images and the sources their debug
// info names) and a launch.json, laid out as in the repository (guests/NAME/..., guests/common)
// because the images' DWARF names sources relative to that root. Node only, no `vscode`.
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { initialConfigurations, LaunchConfig } from '../debug/configuration';

/** The guests the extension ships (see .vscodeignore) and the sample holds. */
export const SAMPLE_GUESTS = ['smp-boot', 'asm-ipi', 'ipis', 'ipi-pingpong', 'tlb-shootdown'];
/** Shared runtime sources (trampoline.S, smp.c, ...) that the images' line info points into. */
const SHARED = 'common';

const README = `# Hyperstep SMP sample

Guest programs that bring up several vCPUs, with their sources:

- guests/smp-boot: the BSP wakes each AP with INIT-SIPI-SIPI (trampoline in guests/common/trampoline.S).
- guests/asm-ipi: the same in assembly, each ICR write by hand, and its own real-mode trampoline
  (asm-ipi.S). Hover over an ICR value or register to see it decoded; one value the SDM rules
  out is marked as a problem (the guest writes it on purpose, and nothing happens).
- guests/ipis: fixed, broadcast, logical, lowest-priority and NMI IPIs.
- guests/ipi-pingpong: IPIs back and forth between two vCPUs.
- guests/tlb-shootdown: a TLB shootdown with IPIs.

Press F5 to start "Hyperstep: SMP boot (4 vCPUs)", stopped on entry. Tick "INIT" under
Breakpoints (the event breakpoints of the VM), continue, and the VM stops when vCPU 0 sends the
INIT IPI; "Hyperstep: Step to Next Event" goes on to the SIPI and the AP's first instruction.
The vCPUs view and "Hyperstep: Show IPI Timeline" show every vCPU's state and IPIs.
`;

function copyDir(from: string, to: string, written: string[]): void {
  mkdirSync(to, { recursive: true });
  for (const name of readdirSync(from)) {
    const src = join(from, name);
    if (statSync(src).isDirectory() || name.endsWith('.o')) continue;
    copyFileSync(src, join(to, name));
    written.push(join(to, name));
  }
}

/** Launch configurations of the sample, merged into an existing launch.json by name. */
export function sampleLaunchJson(existing?: string): string {
  let json: { version: string; configurations: LaunchConfig[] } = { version: '0.2.0', configurations: [] };
  if (existing) {
    try {
      json = JSON.parse(existing) as typeof json;
      if (!Array.isArray(json.configurations)) json.configurations = [];
    } catch {
      // Not plain JSON (comments): leave the user's file alone.
      return existing;
    }
  }
  for (const c of initialConfigurations()) {
    if (!json.configurations.some((x) => x.name === c.name)) json.configurations.push(c);
  }
  return `${JSON.stringify(json, null, 2)}\n`;
}

/**
 * Fills `target` with the sample (creating it), leaving other files there alone. Returns the
 * files written. `guestsRoot` is the extension's guests/ folder.
 */
export function createSample(guestsRoot: string, target: string): string[] {
  const written: string[] = [];
  for (const name of [...SAMPLE_GUESTS, SHARED]) {
    const from = join(guestsRoot, name);
    if (!existsSync(from)) throw new Error(`the extension's guest folder ${from} is missing`);
    copyDir(from, join(target, 'guests', name), written);
  }
  const vscodeDir = join(target, '.vscode');
  mkdirSync(vscodeDir, { recursive: true });
  const launch = join(vscodeDir, 'launch.json');
  writeFileSync(launch, sampleLaunchJson(existsSync(launch) ? readFileSync(launch, 'utf8') : undefined));
  written.push(launch);
  const readme = join(target, 'README.md');
  if (!existsSync(readme)) {
    writeFileSync(readme, README);
    written.push(readme);
  }
  return written;
}
