// A Cpu on bare memory for unit tests of instruction families: no firmware, no devices, just
// RAM, a port bus, and (for protected and long mode) a GDT, an IDT whose every vector lands on
// a HLT stub, and identity page tables. Tests write machine code, set registers and run.
import { Cpu, CpuHost } from '../../../core/cpu/cpu';
import '../../../core/cpu/ops';
import { DecodeCache } from '../../../core/cpu/decode-cache';
import { flushTlb } from '../../../core/cpu/mmu';
import { CS, DS, ES, FS, GS, SS, CR0_PE, CR0_PG, CR0_ET, CR0_NE, CR4_PAE, CR4_PSE, CR4_OSFXSR, EFER_LME, EFER_LMA, EFER_NXE } from '../../../core/cpu/regs';
import { MmioBus, PortBus, PortDevice } from '../../../core/memory/bus';
import { PhysicalMemory } from '../../../core/memory/physical';
import { EventStream } from '../../../core/trace/events';

export type BareMode = 'real' | 32 | '32paged' | 64;

export const RAM = 8 << 20;
export const GDT = 0x500;
export const IDT = 0x8000;
/** Vector v's handler: a HLT at HANDLERS + 16 * v. */
export const HANDLERS = 0x9000;
export const CODE = 0x10000;
export const STACK_TOP = 0x80000;
/** Tests put data here: mapped with 4 KiB pages (0..4 MiB), so unmap() can punch holes. */
export const DATA = 0x200000;
export const TSS = 0x30000;

const PML4 = 0x1000, PDPT = 0x2000, PD = 0x3000, PT = 0x4000; // PT: 0x4000..0x5fff (64-bit), 0x4000 (32-bit)

export interface Bare {
  cpu: Cpu;
  phys: PhysicalMemory;
  ports: PortBus;
  events: EventStream;
  /** Messages of requestStop (unsupported instructions, triple faults). */
  stops: string[];
  mode: BareMode;
  /** Writes bytes at a physical (= identity-mapped linear) address. */
  poke(pa: number, bytes: ArrayLike<number>): void;
  peek(pa: number, len: number): Uint8Array;
  /** Places code at CODE and points rip at it. */
  load(code: ArrayLike<number>, at?: number): void;
  /** Marks a 4 KiB page in 0..4 MiB not present (paged modes). */
  unmap(lin: number): void;
  /** Runs until rip reaches `rip` or `max` executions pass; returns executions. */
  runTo(rip: number, max?: number): number;
}

function gdtEntry(base: number, limit: number, access: number, flags: number): number[] {
  const b = [limit & 0xff, (limit >> 8) & 0xff, base & 0xff, (base >> 8) & 0xff, (base >> 16) & 0xff, access,
    ((flags & 0xf) << 4) | ((limit >> 16) & 0xf), (base >>> 24) & 0xff];
  return b;
}

export function bareCpu(mode: BareMode): Bare {
  const events = new EventStream();
  const mmio = new MmioBus(events);
  const phys = new PhysicalMemory(RAM, mmio);
  const ports = new PortBus(events);
  const decodeCache = new DecodeCache(phys);
  const stops: string[] = [];
  const host: CpuHost = {
    phys, ports, events, decodeCache,
    nowNs: () => 0,
    hasExtInt: () => false,
    ackExtInt: () => 0,
    requestStop: (_v, _reason, message) => { stops.push(message); },
  };
  const cpu = new Cpu(0, host);
  const poke = (pa: number, bytes: ArrayLike<number>) => phys.writeBytes(pa, Uint8Array.from(bytes));
  const le = (v: number, n: number) => Array.from({ length: n }, (_, k) => Math.floor(v / 2 ** (8 * k)) & 0xff);

  if (mode === 'real') {
    for (const s of [CS, DS, ES, SS, FS, GS]) cpu.setSegReal(s, 0);
    cpu.setSegment(CS, 0, 0, 0xffff, 0x9b);
  } else {
    const long = mode === 64;
    // GDT: 0x08 ring-0 code, 0x10 ring-0 data, 0x18 ring-3 code, 0x20 ring-3 data, 0x28 TSS.
    const codeFlags = long ? 0xa : 0xc;
    poke(GDT, [
      ...new Array(8).fill(0),
      ...gdtEntry(0, 0xfffff, 0x9a, codeFlags), ...gdtEntry(0, 0xfffff, 0x92, 0xc),
      ...gdtEntry(0, 0xfffff, 0xfa, codeFlags), ...gdtEntry(0, 0xfffff, 0xf2, 0xc),
      ...gdtEntry(TSS, 0x2068, 0x89, 0),
    ]);
    cpu.gdtBase = GDT; cpu.gdtLimit = 0x2f;
    // IDT: every vector to its HLT stub, ring-0 interrupt gates.
    for (let v = 0; v < 256; v++) {
      const h = HANDLERS + 16 * v;
      poke(h, [0xf4]);
      if (long) poke(IDT + 16 * v, [h & 0xff, (h >> 8) & 0xff, 0x08, 0, 0, 0x8e, (h >> 16) & 0xff, (h >> 24) & 0xff, 0, 0, 0, 0, 0, 0, 0, 0]);
      else poke(IDT + 8 * v, [h & 0xff, (h >> 8) & 0xff, 0x08, 0, 0, 0x8e, (h >> 16) & 0xff, (h >> 24) & 0xff]);
    }
    cpu.idtBase = IDT; cpu.idtLimit = long ? 0xfff : 0x7ff;
    // TSS: ring-0 stack for interrupts from ring 3; I/O bitmap at offset 0x68, all ports allowed,
    // followed by the 0xFF byte the SDM asks for (vol. 1, 19.5.2).
    poke(TSS + 0x68 + 0x2000, [0xff]);
    poke(TSS + 4, le(STACK_TOP, 4)); poke(TSS + 8, le(0x10, 2));
    if (long) poke(TSS + 4, le(STACK_TOP, 8));
    poke(TSS + 0x66, le(0x68, 2));
    cpu.trSel = 0x28; cpu.trBase = TSS; cpu.trLimit = 0x2068; cpu.trAttr = 0x8b;
    cpu.cr0 = CR0_PE | CR0_ET | CR0_NE;
    cpu.cr4 = CR4_OSFXSR;
    if (mode === '32paged') {
      // 32-bit paging: PDE 0 -> a page table of 4 KiB pages for 0..4 MiB, PDE 1 a 4 MiB page.
      poke(PD, [...le(PT | 3, 4), ...le(0x400000 | 0x83, 4)]);
      for (let p = 0; p < 1024; p++) poke(PT + 4 * p, le(p * 4096 + 3, 4));
      cpu.cr3 = PD;
      cpu.cr4 |= CR4_PSE;
      cpu.cr0 |= CR0_PG;
    } else if (long) {
      // 4-level paging: PML4[0] and PML4[511] -> one PDPT, so 0xffffff80_00000000 aliases 0.
      poke(PML4, le(PDPT | 3, 8)); poke(PML4 + 511 * 8, le(PDPT | 3, 8));
      poke(PDPT, le(PD | 3, 8));
      poke(PD, [...le(PT | 3, 8), ...le((PT + 0x1000) | 3, 8), ...le(0x400000 | 0x83, 8), ...le(0x600000 | 0x83, 8)]);
      for (let p = 0; p < 1024; p++) poke(PT + 8 * p, le(p * 4096 + 3, 8));
      cpu.cr3 = PML4;
      cpu.cr4 |= CR4_PAE;
      cpu.efer = EFER_LME | EFER_LMA | EFER_NXE;
      cpu.cr0 |= CR0_PG;
    }
    flushTlb(cpu, true);
    const codeAttr = long ? 0xa09b : 0xc09b;
    cpu.setSegment(CS, 0x08, 0, 0xffffffff, codeAttr);
    for (const s of [DS, ES, SS, FS, GS]) cpu.setSegment(s, 0x10, 0, 0xffffffff, 0xc093);
  }
  cpu.gpr[4] = STACK_TOP;
  cpu.rip = CODE;
  cpu.updateMode();

  const bare: Bare = {
    cpu, phys, ports, events, stops, mode,
    poke,
    peek: (pa, len) => phys.readBytes(pa, len),
    load(code, at = CODE) { poke(at, code); cpu.rip = at; },
    unmap(lin) {
      if (mode === 64) poke(PT + 8 * Math.floor(lin / 4096), le(0, 8));
      else if (mode === '32paged') poke(PT + 4 * Math.floor(lin / 4096), le(0, 4));
      else throw new Error('unmap needs a paged mode');
      flushTlb(cpu, true);
    },
    runTo(rip, max = 1000) {
      let n = 0;
      while (cpu.rip !== rip && n < max && stops.length === 0) { cpu.run(1); n++; }
      return n;
    },
  };
  return bare;
}

/** A port device that records writes and serves reads from a queue. */
export class RecordingPort implements PortDevice {
  readonly writes: { port: number; size: number; value: number }[] = [];
  readonly reads: number[] = [];
  constructor(readonly name: string, private readonly input: number[] = []) {}
  portRead(port: number, size: 1 | 2 | 4): number {
    const v = this.input.shift() ?? 0;
    this.reads.push(port);
    return v & (size === 4 ? 0xffffffff : (1 << (8 * size)) - 1);
  }
  portWrite(port: number, size: 1 | 2 | 4, value: number): void {
    this.writes.push({ port, size, value });
  }
}

/**
 * Runs one step expected to raise an exception: the exception is delivered to its HLT stub,
 * then the vCPU is made runnable again (the stub's HLT may halt it or, while HLT is not
 * implemented, stop as unsupported) so the test can go on.
 */
export function faultOnce(b: Bare): void {
  b.cpu.lastException = -1;
  b.cpu.run(1);
  b.stops.length = 0;
  b.cpu.activity = 'active';
}
