// Runs a guest image in-process on Hyperstep and under QEMU (when installed), for the
// differential tests.
import { readFileSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { Machine, StopInfo } from '../../core/machine';

export interface GuestRun { output: string; stop: StopInfo | null; status: number }

export function runHyperstep(image: string, opts: { memoryMiB?: number; vcpus?: number; seed?: number; cmdline?: string; maxInstructions?: number; x2apic?: boolean } = {}): GuestRun {
  const m = new Machine({ memoryMiB: opts.memoryMiB ?? 64, vcpus: opts.vcpus, seed: opts.seed, x2apic: opts.x2apic, maxInstructions: opts.maxInstructions ?? 200_000_000 });
  m.load(readFileSync(image), { imagePath: image, cmdline: opts.cmdline });
  const bytes: number[] = [];
  m.onSerial = (b) => bytes.push(b);
  const stop = m.run();
  const status = stop?.reason === 'debug-exit' ? (stop.exitCode ?? 0) & 0xff : -1;
  return { output: Buffer.from(bytes).toString('latin1'), stop, status };
}

let qemuPath: string | null | undefined;
export function qemuBinary(): string | null {
  if (qemuPath === undefined) {
    const r = spawnSync('sh', ['-c', 'command -v qemu-system-x86_64'], { encoding: 'utf8' });
    qemuPath = r.status === 0 ? r.stdout.trim() : null;
  }
  return qemuPath;
}

/** The reference command of the issue, with -m and -smp made explicit. */
export function runQemu(image: string, opts: { memoryMiB?: number; vcpus?: number; cmdline?: string; timeoutMs?: number } = {}): GuestRun {
  const args = ['-nodefaults', '-display', 'none', '-serial', 'stdio', '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x4',
    '-accel', 'tcg,thread=single', '-no-reboot', '-m', String(opts.memoryMiB ?? 64), '-smp', String(opts.vcpus ?? 1), '-kernel', image];
  if (opts.cmdline !== undefined) args.push('-append', opts.cmdline);
  const r = spawnSync(qemuBinary()!, args, { timeout: opts.timeoutMs ?? 60_000, encoding: 'latin1' });
  return { output: r.stdout ?? '', stop: null, status: r.status ?? -1 };
}

export function expectedOutput(dir: string): string | null {
  const f = `${dir}/expected.out`;
  return existsSync(f) ? readFileSync(f, 'latin1') : null;
}
