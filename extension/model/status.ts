// The status bar item's text: virtual time, instructions retired, seed. Pure.
import type { StatusEventBody } from '../../debug-adapter/protocol';

/** Virtual time in the largest unit that keeps it readable: "812 ns", "3.402 ms", "1.250000 s". */
export function formatTime(ns: number): string {
  if (ns < 1_000) return `${ns} ns`;
  if (ns < 1_000_000) return `${(ns / 1_000).toFixed(3)} µs`;
  if (ns < 1_000_000_000) return `${(ns / 1_000_000).toFixed(3)} ms`;
  return `${(ns / 1_000_000_000).toFixed(6)} s`;
}

/** Instruction counts with thousands separators that do not depend on the locale. */
export function formatCount(n: number): string {
  return Math.trunc(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

export function statusText(s: StatusEventBody): string {
  const icon = s.running ? '$(sync~spin)' : '$(debug-pause)';
  return `${icon} ${formatTime(s.timeNs)} · ${formatCount(s.instructions)} instr · seed ${s.seed}`;
}

export function statusTooltip(s: StatusEventBody): string {
  return [
    `Hyperstep VM: ${s.vcpus} vCPU${s.vcpus === 1 ? '' : 's'}, ${s.running ? 'running' : 'stopped'}`,
    `virtual time ${formatTime(s.timeNs)} (${s.timeNs} ns)`,
    `instructions retired ${formatCount(s.instructions)}`,
    `scheduler seed ${s.seed} (same image, configuration and seed: the same run)`,
  ].join('\n');
}
