// Launch configurations: what F5 starts when there is no launch.json, the defaults filled in,
// and the checks that catch a mistyped launch.json before the adapter is started. Pure (no
// `vscode` import) so it runs under plain `node --test`; debug/configurationProvider.ts wires it.
import type { HyperstepLaunchArguments } from '../../debug-adapter/protocol';
import { DEBUG_TYPE } from '../../debug-adapter/protocol';
import { basename, join } from 'node:path';

/** A launch configuration as VS Code hands it over: the adapter's arguments plus VS Code's own. */
export type LaunchConfig = Partial<HyperstepLaunchArguments> & {
  type?: string;
  request?: string;
  name?: string;
  [key: string]: unknown;
};

/** Where the sample's images live inside a sample folder (and inside the extension). */
export const SAMPLE_PROGRAM = 'guests/smp-boot/smp-boot.elf';

/** File name endings taken as guest images when F5 is pressed with one open. */
const IMAGE_ENDINGS = ['.elf', '.bin', '.img', '.kernel'];

export function isGuestImage(path: string): boolean {
  const p = path.toLowerCase();
  return IMAGE_ENDINGS.some((e) => p.endsWith(e));
}

/** The configuration launch.json starts with, and the sample's. */
export function initialConfigurations(): LaunchConfig[] {
  return [
    {
      type: DEBUG_TYPE,
      request: 'launch',
      name: 'Hyperstep: SMP boot (4 vCPUs)',
      program: `\${workspaceFolder}/${SAMPLE_PROGRAM}`,
      cwd: '${workspaceFolder}',
      vcpus: 4,
      stopOnEntry: true,
    },
    {
      type: DEBUG_TYPE,
      request: 'launch',
      name: 'Hyperstep: IPIs (4 vCPUs, IPI exits)',
      program: '${workspaceFolder}/guests/ipis/ipis.elf',
      cwd: '${workspaceFolder}',
      vcpus: 4,
      capabilities: ['ipi-exit'],
      stopOnEntry: true,
    },
    {
      type: DEBUG_TYPE,
      request: 'launch',
      name: 'Hyperstep: asm-ipi (4 vCPUs, INIT-SIPI-SIPI in assembly)',
      program: '${workspaceFolder}/guests/asm-ipi/asm-ipi.elf',
      cwd: '${workspaceFolder}',
      vcpus: 4,
      stopOnEntry: true,
    },
  ];
}

/** What the configuration provider knows about the window when F5 is pressed. */
export interface LaunchContext {
  /** The file of the active editor tab, if any (absolute path). */
  activeFile?: string;
  /** The first workspace folder (absolute path), if any. */
  workspaceFolder?: string;
  /** File existence, injected so tests need no file system. */
  exists(path: string): boolean;
  /** Reads a guest's guest.json beside its image (vcpus it is meant for), if there is one. */
  guestVcpus?(program: string): number | undefined;
}

/** Result of resolving: a configuration to launch, or a message saying why not. */
export type Resolved = { config: LaunchConfig } | { error: string; offerSample?: boolean };

/**
 * Fills a configuration. An empty one (F5 without launch.json) becomes a launch of the open
 * guest image, else of the sample's image when the workspace has it.
 */
export function resolveConfiguration(config: LaunchConfig, ctx: LaunchContext): Resolved {
  let c: LaunchConfig = { ...config };
  if (!c.type && !c.request && !c.name) {
    let program: string | undefined;
    if (ctx.activeFile && isGuestImage(ctx.activeFile)) program = ctx.activeFile;
    else if (ctx.workspaceFolder && ctx.exists(join(ctx.workspaceFolder, SAMPLE_PROGRAM))) {
      program = join(ctx.workspaceFolder, SAMPLE_PROGRAM);
    }
    if (!program) {
      return {
        error: 'Hyperstep: open a guest image (.elf, .bin) or the SMP sample to start a VM without launch.json.',
        offerSample: true,
      };
    }
    c = { type: DEBUG_TYPE, request: 'launch', name: `Hyperstep: ${basename(program)}`, program, stopOnEntry: true };
    if (ctx.workspaceFolder) c.cwd = ctx.workspaceFolder;
  }
  if (c.type === undefined) c.type = DEBUG_TYPE;
  if (c.request === undefined) c.request = 'launch';
  if (c.program === undefined || c.program === '') {
    return { error: "Hyperstep: the launch configuration needs 'program', the guest image to run." };
  }
  if (c.vcpus === undefined && ctx.guestVcpus) {
    const n = ctx.guestVcpus(c.program);
    if (n !== undefined) c.vcpus = n;
  }
  return { config: c };
}

/** Shape of each launch argument, as the adapter checks it; used to fail before starting it. */
const ARGUMENT_TYPES: { [K in keyof Required<HyperstepLaunchArguments>]: (v: unknown) => string | undefined } = {
  program: str,
  format: oneOf(['auto', 'multiboot', 'elf', 'flat']),
  vcpus: int(1, 1024),
  memoryMiB: int(2, 3072),
  seed: int(-(2 ** 31), 2 ** 32 - 1),
  quantum: int(1, 2 ** 31 - 1),
  x2apic: bool,
  capabilities: strings(['ipi-exit', 'hlt-exit', 'pause-exit']),
  quirks: strings(),
  cmdline: str,
  stopOnEntry: bool,
  symbols: str,
  trace: str,
  flatAddress: int(0, 2 ** 32 - 1),
  flatMode: oneOf(['real16', 'protected32', 'long64']),
  jit: bool,
  cwd: str,
  noDebug: bool,
};

/** Names of every launch argument of protocol.ts (the schema test checks package.json against it). */
export const LAUNCH_ARGUMENTS = Object.keys(ARGUMENT_TYPES) as (keyof HyperstepLaunchArguments)[];

/** VS Code's own keys in a configuration, never sent on as arguments the adapter must know. */
const VSCODE_KEYS = new Set(['type', 'request', 'name', 'preLaunchTask', 'postDebugTask', 'internalConsoleOptions',
  'debugServer', 'presentation', '__configurationTarget', '__sessionId', '__parentSessionId']);

/**
 * Checks every argument's type and range; `quirks` against `knownQuirks` when given. Returns a
 * message naming the first bad argument, or undefined when the configuration is well formed.
 */
export function validateConfiguration(c: LaunchConfig, knownQuirks?: readonly string[]): string | undefined {
  for (const [key, value] of Object.entries(c)) {
    if (VSCODE_KEYS.has(key) || key.startsWith('__')) continue;
    const check = (ARGUMENT_TYPES as Record<string, (v: unknown) => string | undefined>)[key];
    if (!check) return `Hyperstep: unknown launch argument '${key}' (known: ${LAUNCH_ARGUMENTS.join(', ')}).`;
    if (value === undefined) continue;
    const problem = check(value);
    if (problem) return `Hyperstep: launch argument '${key}' ${problem}.`;
  }
  if (knownQuirks && Array.isArray(c.quirks)) {
    const bad = c.quirks.find((q) => !knownQuirks.includes(q));
    if (bad !== undefined) return `Hyperstep: launch argument 'quirks' names an unknown quirk '${bad}' (known: ${knownQuirks.join(', ')}).`;
  }
  return undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? undefined : `must be a string, not ${describe(v)}`;
}
function bool(v: unknown): string | undefined {
  return typeof v === 'boolean' ? undefined : `must be true or false, not ${describe(v)}`;
}
function int(min: number, max: number) {
  return (v: unknown): string | undefined =>
    typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max ? undefined : `must be an integer from ${min} to ${max}, not ${describe(v)}`;
}
function oneOf(values: string[]) {
  return (v: unknown): string | undefined =>
    typeof v === 'string' && values.includes(v) ? undefined : `must be one of ${values.join(', ')}, not ${describe(v)}`;
}
function strings(values?: string[]) {
  return (v: unknown): string | undefined => {
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) return `must be an array of strings, not ${describe(v)}`;
    const bad = values && v.find((x) => !values.includes(x as string));
    return bad !== undefined ? `must contain only ${values!.join(', ')}, not '${bad}'` : undefined;
  };
}
function describe(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'string' ? `'${v}'` : `${typeof v} ${JSON.stringify(v)}`;
}
