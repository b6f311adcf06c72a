// The process exit status of a finished VM, shared by the CLI and the debug adapter (whose
// session ends with the same code): isa-debug-exit's (value << 1) | 1 as QEMU, even numbers
// for Hyperstep's own stops.
import type { StopInfo } from './machine';

export const EXIT = {
  halted: 2,
  'triple-fault': 4,
  unsupported: 6,
  'instruction-limit': 8,
  'init-bsp': 10,
  invariant: 18,
  badImage: 12,
  usage: 14,
  error: 16,
} as const;

export function exitStatusOf(stop: StopInfo | null): number {
  if (!stop) return 0;
  if (stop.reason === 'debug-exit') return stop.exitCode ?? 1;
  return EXIT[stop.reason as keyof typeof EXIT] ?? EXIT.error;
}
