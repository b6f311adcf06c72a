// The vCPUs view's model: what each row and its details say, from the adapter's
// `hyperstep/vcpus` summary. Pure (no `vscode` import); views/vcpusView.ts renders it.
import type { VcpuSummary } from '../../debug-adapter/protocol';

export interface VcpuDetail {
  label: string;
  value: string;
  tooltip?: string;
}

export interface VcpuItem {
  vcpu: number;
  threadId: number;
  /** "vCPU 1" */
  label: string;
  /** "AP · wait-for-SIPI · real · 0x8000" */
  description: string;
  tooltip: string;
  /** Codicon id for the lifecycle state. */
  icon: string;
  /** Theme colour id for the icon (charts.*), or undefined for the default. */
  iconColor?: string;
  details: VcpuDetail[];
}

export function hex(value: number, digits = 0): string {
  const s = (value >= 0 ? value : value >>> 0).toString(16);
  return `0x${s.padStart(digits, '0')}`;
}

/** Vector lists as the SDM writes them: "0x31, 0x40" or "none". */
export function vectorList(vectors: readonly number[]): string {
  return vectors.length === 0 ? 'none' : vectors.map((v) => hex(v, 2)).join(', ');
}

/** Lifecycle state in the words of the SDM / bhyve: what the row leads with. */
export function lifecycle(v: VcpuSummary): string {
  switch (v.activity) {
    case 'wait-for-sipi': return 'wait-for-SIPI';
    case 'hlt': return 'HLT';
    case 'shutdown': return 'shutdown';
    default: return v.runState === 'SLEEPING' ? 'sleeping' : 'running';
  }
}

function iconOf(v: VcpuSummary): { icon: string; iconColor?: string } {
  switch (v.activity) {
    case 'wait-for-sipi': return { icon: 'debug-pause', iconColor: 'charts.yellow' };
    case 'hlt': return { icon: 'debug-stop', iconColor: 'charts.blue' };
    case 'shutdown': return { icon: 'error', iconColor: 'charts.red' };
    default: return { icon: 'play-circle', iconColor: 'charts.green' };
  }
}

export function vcpuItem(v: VcpuSummary): VcpuItem {
  const where = v.symbol ?? hex(v.rip);
  const state = lifecycle(v);
  const description = [v.bsp ? 'BSP' : 'AP', state, v.mode, where].join(' · ');
  const details: VcpuDetail[] = [
    { label: 'state', value: `${state} (run state ${v.runState})` },
    { label: 'mode', value: v.mode },
    { label: 'RIP', value: v.symbol ? `${hex(v.rip)} <${v.symbol}>` : hex(v.rip) },
    { label: 'APIC', value: `ID ${v.apicId} · ${v.apicMode}` },
    { label: 'TPR / PPR', value: `${hex(v.tpr, 2)} / ${hex(v.ppr, 2)}` },
    { label: 'IRR (pending)', value: vectorList(v.irr) },
    { label: 'ISR (in service)', value: vectorList(v.isr) },
    {
      label: 'last exit',
      value: v.lastExit ? (v.lastExit.detail ? `${v.lastExit.reason} · ${v.lastExit.detail}` : v.lastExit.reason) : 'none yet',
    },
  ];
  const tooltip = [v.name, ...details.map((d) => `${d.label}: ${d.value}`)].join('\n');
  return { vcpu: v.vcpu, threadId: v.threadId, label: `vCPU ${v.vcpu}`, description, tooltip, details, ...iconOf(v) };
}

/** The whole view: one item per vCPU, in vCPU order. */
export function vcpuItems(vcpus: readonly VcpuSummary[]): VcpuItem[] {
  return [...vcpus].sort((a, b) => a.vcpu - b.vcpu).map(vcpuItem);
}
