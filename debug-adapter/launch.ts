// Validation of `launch` arguments: every known argument checked for its type and range,
// unknown ones refused, each error naming the argument (the user typed it in launch.json).
import { isAbsolute, resolve } from 'node:path';
import { CAPABILITIES, QUIRKS } from '../core/vmm/types';
import type { HyperstepLaunchArguments } from './protocol';

export class LaunchError extends Error {}

type Check = (v: unknown, name: string) => void;

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);
const str: Check = (v, n) => { if (typeof v !== 'string') throw new LaunchError(`launch argument '${n}' must be a string, not ${describe(v)}`); };
const bool: Check = (v, n) => { if (typeof v !== 'boolean') throw new LaunchError(`launch argument '${n}' must be true or false, not ${describe(v)}`); };
const int = (min: number, max: number): Check => (v, n) => {
  if (!isInt(v) || v < min || v > max) throw new LaunchError(`launch argument '${n}' must be an integer from ${min} to ${max}, not ${describe(v)}`);
};
const oneOf = (values: readonly string[]): Check => (v, n) => {
  if (typeof v !== 'string' || !values.includes(v)) throw new LaunchError(`launch argument '${n}' must be one of ${values.map((x) => `"${x}"`).join(', ')}, not ${describe(v)}`);
};
const listOf = (values: readonly string[]): Check => (v, n) => {
  if (!Array.isArray(v)) throw new LaunchError(`launch argument '${n}' must be an array of strings, not ${describe(v)}`);
  v.forEach((x, k) => oneOf(values)(x, `${n}[${k}]`));
};

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? v.slice(0, 40) + '...' : v);
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}

const CHECKS: Record<keyof HyperstepLaunchArguments, Check> = {
  program: str,
  format: oneOf(['auto', 'multiboot', 'elf', 'flat']),
  vcpus: int(1, 1024),
  memoryMiB: int(2, 3072),
  seed: int(0, 0xffffffff),
  quantum: int(1, 100_000_000),
  x2apic: bool,
  capabilities: listOf(CAPABILITIES),
  quirks: listOf(Object.keys(QUIRKS)),
  cmdline: str,
  stopOnEntry: bool,
  symbols: str,
  trace: str,
  flatAddress: int(0, 0xffffffff),
  flatMode: oneOf(['real16', 'protected32', 'long64']),
  jit: bool,
  cwd: str,
  noDebug: bool,
};

/** Keys every DAP client may add to a launch configuration (VS Code's own and DAP's). */
const CLIENT_KEYS = new Set(['type', 'request', 'name', '__sessionId', '__configurationTarget', 'preLaunchTask', 'postDebugTask',
  'internalConsoleOptions', 'presentation', 'debugServer', '__restart', 'suppressMultipleSessionWarning', 'console', 'env', 'envFile', '__parentId']);

/** Checks raw `launch` arguments; returns them typed with paths made absolute. */
export function validateLaunchArguments(raw: unknown, adapterCwd: string): HyperstepLaunchArguments {
  raw ??= {};
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new LaunchError('launch arguments must be an object');
  const args = raw as Record<string, unknown>;
  for (const [k, v] of Object.entries(args)) {
    if (CLIENT_KEYS.has(k) || k.startsWith('__')) continue;
    if (!Object.prototype.hasOwnProperty.call(CHECKS, k)) {
      throw new LaunchError(`unknown launch argument '${k}' (known: ${Object.keys(CHECKS).join(', ')})`);
    }
    if (v === undefined) continue;
    CHECKS[k as keyof HyperstepLaunchArguments](v, k);
  }
  if (args.program === undefined) throw new LaunchError(`launch argument 'program' is required: the guest image to run`);
  const a = args as unknown as HyperstepLaunchArguments;
  const cwd = a.cwd ?? adapterCwd;
  const abs = (p: string): string => (isAbsolute(p) ? p : resolve(cwd, p));
  return {
    ...a,
    program: abs(a.program),
    ...(a.symbols !== undefined ? { symbols: abs(a.symbols) } : {}),
    ...(a.trace !== undefined ? { trace: abs(a.trace) } : {}),
  };
}
