// VM exit counts per vCPU and reason as a text table (`hyperstep run --stats`, the Debug
// Console's `exits`): one row per vCPU, a column per reason that occurred, and instructions.
import type { Vmm } from './vmm';
import type { Cpu } from '../cpu/cpu';
import { EXIT_REASONS } from './types';

/** The table for `which` vCPUs (all by default), and how many reasons it has columns for. */
export function exitTable(vmm: Vmm, cpus: readonly Cpu[], which: readonly number[] = cpus.map((c) => c.index)): { text: string; reasons: number } {
  const used = EXIT_REASONS.filter((r) => which.some((v) => vmm.exitCount(v, r) > 0));
  const rows = [['vCPU', ...used, 'instructions']];
  for (const v of which) rows.push([String(v), ...used.map((r) => String(vmm.exitCount(v, r))), String(cpus[v].instret)]);
  const w = rows[0].map((_, k) => Math.max(...rows.map((r) => r[k].length)));
  return { text: rows.map((r) => r.map((x, k) => x.padStart(w[k])).join('  ')).join('\n'), reasons: used.length };
}
