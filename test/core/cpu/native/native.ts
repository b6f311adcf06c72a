// The native side: compiles harness.c with gcc (once per source version, cached in the temp
// directory) and runs a batch of cases through it on this machine's CPU.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Case, Outcome } from './cases';
import { HostFeatures } from './gen-common';

const IN_SIZE = 160;
const OUT_SIZE = 144;

export interface NativeHarness {
  binary: string;
  features: HostFeatures & { vendor: string };
}

/** Why the native side cannot run here, or null if it can. */
export function nativeUnavailable(): string | null {
  if (process.arch !== 'x64' || process.platform !== 'linux') return `needs x86-64 Linux (this is ${process.platform}/${process.arch})`;
  try {
    execFileSync('gcc', ['--version'], { stdio: 'ignore' });
  } catch {
    return 'gcc not found on PATH';
  }
  return null;
}

/** harness.c is not compiled by tsc; find it next to this file's source, from out/ or from the tree. */
function harnessSource(): string {
  const candidates = [path.join(__dirname, 'harness.c')];
  for (let dir = __dirname; path.dirname(dir) !== dir; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) {
      candidates.push(path.join(dir, 'test', 'core', 'cpu', 'native', 'harness.c'));
      break;
    }
  }
  const found = candidates.find((p) => fs.existsSync(p));
  if (!found) throw new Error(`harness.c not found (looked in ${candidates.join(', ')})`);
  return found;
}

let cached: NativeHarness | undefined;

/** Builds (or reuses) the harness binary and asks it which CPU features the host has. */
export function buildHarness(): NativeHarness {
  if (cached) return cached;
  const src = harnessSource();
  const text = fs.readFileSync(src);
  const hash = createHash('sha256').update(text).digest('hex').slice(0, 16);
  const dir = path.join(os.tmpdir(), 'hyperstep-native');
  fs.mkdirSync(dir, { recursive: true });
  const binary = path.join(dir, `harness-${hash}`);
  if (!fs.existsSync(binary)) {
    // Build under a private name and rename, so concurrent test processes never run a half-written file.
    const tmp = `${binary}.${process.pid}.tmp`;
    const r = spawnSync('gcc', ['-O1', '-Wall', '-o', tmp, src], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`gcc failed building ${src}:\n${r.stderr}`);
    fs.renameSync(tmp, binary);
  }
  const features = JSON.parse(execFileSync(binary, ['--features'], { encoding: 'utf8' })) as Record<string, number | string>;
  const h: NativeHarness = {
    binary,
    features: {
      vendor: String(features.vendor), lzcnt: !!features.lzcnt, tzcnt: !!features.tzcnt, popcnt: !!features.popcnt, lahf64: !!features.lahf64,
    },
  };
  h.features.compat32 = probeCompat32(h);
  cached = h;
  return cached;
}

/**
 * Whether 32-bit code runs here: kernels without IA-32 emulation refuse the far jump to the 32-bit
 * code selector (#GP), which the harness reports as a fault instead of crashing.
 */
function probeCompat32(h: NativeHarness): boolean {
  const gpr = Array.from({ length: 16 }, () => 0n);
  // 40 is INC EAX in 32-bit mode (a REX prefix in 64-bit mode).
  const probe: Case = { family: 'probe', form: 'inc eax', text: 'inc eax', code: Uint8Array.of(0x40), bits: 32,
    input: { gpr, rflags: 2n }, undefinedFlags: 0, regs: [0] };
  const [r] = runNative(h, [probe]);
  return r.fault === null && (r.state.gpr[0] & 0xffffffffn) === 1n;
}

export function encodeCases(cases: readonly Case[]): Buffer {
  const buf = Buffer.alloc(cases.length * IN_SIZE);
  cases.forEach((c, i) => {
    const o = i * IN_SIZE;
    buf.set(c.code, o);
    buf[o + 16] = c.code.length;
    buf[o + 17] = c.bits;
    for (let r = 0; r < 16; r++) buf.writeBigUInt64LE(c.input.gpr[r], o + 24 + r * 8);
    buf.writeBigUInt64LE(c.input.rflags, o + 152);
  });
  return buf;
}

/** Runs every case natively, in one harness process. */
export function runNative(h: NativeHarness, cases: readonly Case[]): Outcome[] {
  const r = spawnSync(h.binary, [], { input: encodeCases(cases), maxBuffer: cases.length * OUT_SIZE + 1024 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`native harness exited with ${r.status ?? r.signal}: ${r.stderr.toString()}`);
  const out = r.stdout;
  if (out.length !== cases.length * OUT_SIZE) throw new Error(`native harness wrote ${out.length} bytes for ${cases.length} cases`);
  const results: Outcome[] = [];
  for (let i = 0; i < cases.length; i++) {
    const o = i * OUT_SIZE;
    const gpr: bigint[] = [];
    for (let r2 = 0; r2 < 16; r2++) gpr.push(out.readBigUInt64LE(o + r2 * 8));
    const fault = out.readInt32LE(o + 136);
    results.push({ state: { gpr, rflags: out.readBigUInt64LE(o + 128) }, fault: fault < 0 ? null : fault });
  }
  return results;
}
