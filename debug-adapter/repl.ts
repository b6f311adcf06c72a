// Debug Console commands: `lapic [vcpu]`, `ioapic`, `exits [vcpu]`, `trace [n]`, `tlb [vcpu]`,
// `rendezvous`, `vcpus`, `ipi SRC DST VECTOR [mode]`, `help`. Anything else is an expression.
import type { Machine } from '../core/machine';
import { exitTable } from '../core/vmm/exit-table';
import { IOAPIC_PINS } from '../core/apic/ioapic';
import { APIC_ICR_HIGH, APIC_ICR_LOW } from '../core/apic/registers';
import type { HsEvent } from '../core/trace/events';
import { lapicView, hex, hexByte } from './views/lapic';
import { tlbEntries, rendezvousState } from './cpu-state';

export const REPL_HELP = `Hyperstep Debug Console
  lapic [vcpu]                  every LAPIC register of a vCPU, decoded (default: the selected vCPU)
  ioapic                        the IOAPIC's ID, version and 24 redirection entries
  exits [vcpu]                  VM exit counts per reason (all vCPUs, or one)
  trace [n]                     the last n events (default 20)
  tlb [vcpu]                    the software TLB's entries
  rendezvous                    the rendezvous in progress
  vcpus                         every vCPU's state, mode and RIP
  ipi SRC DST VECTOR [mode]     make vCPU SRC's LAPIC send an IPI to vCPU DST (mode: fixed, lowest,
                                nmi, init, startup, smi; default fixed), through its ICR as a guest would
  help                          this text
Anything else is evaluated: registers (rax, eip, cr3, rflags), symbols, numbers,
C operators, memory as *(u32*)0x1000 or [rsp+8] (virtual, through the vCPU's page tables).`;

const COMMANDS = ['lapic', 'ioapic', 'exits', 'trace', 'tlb', 'rendezvous', 'vcpus', 'ipi', 'help'];

export class ReplError extends Error {}

export interface ReplContext {
  machine: Machine;
  /** The selected vCPU (the frame's, or the last stop's). */
  vcpu: number;
  recent(n: number): HsEvent[];
  describe(address: number): string | null;
}

/** True when the line is a REPL command: a command word followed by plain words and numbers. */
export function isCommand(line: string): boolean {
  return new RegExp(`^\\s*(${COMMANDS.join('|')})(\\s+[\\w.-]+)*\\s*$`).test(line);
}

function vcpuArg(ctx: ReplContext, s: string | undefined): number {
  if (s === undefined) return ctx.vcpu;
  const n = Number(s);
  if (!Number.isInteger(n) || n < 0 || n >= ctx.machine.cpus.length) throw new ReplError(`no vCPU '${s}' (0-${ctx.machine.cpus.length - 1})`);
  return n;
}

export function runCommand(line: string, ctx: ReplContext): string {
  const [cmd, ...args] = line.trim().split(/\s+/);
  const m = ctx.machine;
  switch (cmd) {
    case 'help': return REPL_HELP;
    case 'lapic': return lapicView(m.lapics[vcpuArg(ctx, args[0])], m.time.nowNs()).text;
    case 'ioapic': {
      const io = m.ioapic;
      const rows = [`IOAPIC at 0xfec00000: ID ${io.id}, version ${hexByte(io.readRegister(1) & 0xff)}, ${IOAPIC_PINS} pins, pin levels ${hex(io.pinLevels, 6)}`];
      for (let p = 0; p < IOAPIC_PINS; p++) {
        const lo = io.redir[2 * p], hi = io.redir[2 * p + 1];
        const modes = ['fixed', 'lowest', 'SMI', 'reserved', 'NMI', 'INIT', 'reserved', 'ExtINT'];
        rows.push(`  pin ${String(p).padStart(2)}: ${hex(hi, 8)}:${hex(lo, 8)} vector=${hexByte(lo & 0xff)} ${modes[(lo >>> 8) & 7]} ${lo & (1 << 11) ? 'logical' : 'physical'} dest=${hexByte(hi >>> 24)} ${lo & (1 << 15) ? 'level' : 'edge'} ${lo & (1 << 13) ? 'active-low' : 'active-high'}${lo & (1 << 14) ? ' remoteIRR' : ''}${lo & (1 << 12) ? ' pending' : ''} ${lo & (1 << 16) ? 'masked' : 'unmasked'}`);
      }
      return rows.join('\n');
    }
    case 'exits': {
      const which = args[0] !== undefined ? [vcpuArg(ctx, args[0])] : undefined;
      const t = exitTable(m.vmm, m.cpus, which);
      return t.reasons === 0 ? 'no VM exits yet' : t.text;
    }
    case 'trace': {
      const n = args[0] === undefined ? 20 : Number(args[0]);
      if (!Number.isInteger(n) || n < 1) throw new ReplError(`trace takes a count, not '${args[0]}'`);
      const ev = ctx.recent(n);
      if (ev.length === 0) return 'no events recorded yet';
      return ev.map((e) => `#${e.seq} t=${e.time}ns ${e.vcpu >= 0 ? `vCPU ${e.vcpu}` : 'VM'} ${e.type} ${JSON.stringify(e.data)}`).join('\n');
    }
    case 'tlb': {
      const c = m.cpus[vcpuArg(ctx, args[0])];
      const rows = tlbEntries(c).map((t) => `  ${t.lin} -> ${t.pa} ${t.rights}${t.largeKiB ? ` (${t.largeKiB} KiB page)` : ''}`);
      return `vCPU ${c.index} TLB: ${rows.length} entr${rows.length === 1 ? 'y' : 'ies'}${rows.length ? '\n' + rows.join('\n') : ''}`;
    }
    case 'rendezvous': {
      const r = rendezvousState(m);
      if (r === null) return 'no rendezvous in progress';
      return `rendezvous "${r.name}": initiator ${r.initiator}, requested [${r.requested.join(', ')}], done [${r.done.join(', ')}], blocking [${r.blocking.join(', ')}]`;
    }
    case 'vcpus':
      return m.cpus.map((c) => `vCPU ${c.index}${c.index === 0 ? ' (BSP)' : ''}: ${c.activity}, ${m.vmm.runState(c.index)}, ${c.mode}, ${c.csIpString()}${ctx.describe(c.mode64 ? c.rip : c.segBase[1] + c.rip) ? ` <${ctx.describe(c.mode64 ? c.rip : c.segBase[1] + c.rip)}>` : ''}`).join('\n');
    case 'ipi': return injectIpi(ctx, args);
  }
  throw new ReplError(`unknown command '${cmd}' (try help)`);
}

const IPI_MODES: Record<string, number> = { fixed: 0, lowest: 1, smi: 2, nmi: 4, init: 5, startup: 6, sipi: 6 };

function injectIpi(ctx: ReplContext, args: string[]): string {
  if (args.length < 3) throw new ReplError('usage: ipi SRC DST VECTOR [fixed|lowest|nmi|init|startup|smi]');
  const m = ctx.machine;
  const src = vcpuArg(ctx, args[0]), dst = vcpuArg(ctx, args[1]);
  const vector = Number(args[2]);
  if (!Number.isInteger(vector) || vector < 0 || vector > 255) throw new ReplError(`vector must be 0-255, not '${args[2]}'`);
  const modeName = (args[3] ?? 'fixed').toLowerCase();
  const mode = IPI_MODES[modeName];
  if (mode === undefined) throw new ReplError(`unknown delivery mode '${args[3]}' (fixed, lowest, nmi, init, startup, smi)`);
  const l = m.lapics[src];
  const target = m.lapics[dst];
  const low = (vector | (mode << 8) | (1 << 14)) >>> 0;
  const before = ctx.recent(1)[0]?.seq ?? -1;
  if (l.mode() === 'x2apic') {
    const r = l.writeMsr(0x830, low, target.apicId >>> 0);
    if (r !== 'ok') throw new ReplError(`the x2APIC ICR write faulted (${String(r)})`);
  } else if (l.mode() === 'xapic') {
    l.writeMmio(APIC_ICR_HIGH, 4, ((target.apicId & 0xff) << 24) >>> 0);
    l.writeMmio(APIC_ICR_LOW, 4, low);
  } else {
    throw new ReplError(`vCPU ${src}'s LAPIC is disabled (IA32_APIC_BASE.EN = 0): it cannot send IPIs`);
  }
  const after = ctx.recent(20).filter((e) => e.seq > before && (e.type.startsWith('ipi.') || e.type === 'apic.reject' || e.type === 'apic.illegal' || e.type === 'exit'));
  return `vCPU ${src} wrote ICR ${hex(low, 8)} (dest APIC ID ${target.apicId}): ${after.map((e) => `${e.type}@vCPU ${e.vcpu} ${JSON.stringify(e.data)}`).join('; ') || 'no delivery (see the LAPIC state)'}`;
}

export function completions(prefix: string): string[] {
  return COMMANDS.filter((c) => c.startsWith(prefix));
}
