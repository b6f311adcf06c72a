// Assembles a VM from a config: memory and buses, platform devices, vCPUs, the loaded
// image; and runs it under the deterministic scheduler until something stops it.
import { EventStream, StopReason, HsEvent } from './trace/events';
import { PortBus, MmioBus, MmioDevice, AccessSize } from './memory/bus';
import { matchesDestination } from './apic/destination';
import { PhysicalMemory } from './memory/physical';
import { DecodeCache } from './cpu/decode-cache';
import { Cpu, CpuHost } from './cpu/cpu';
import './cpu/ops';
import { installPlatform, Platform } from './devices/platform';
import type { TimedDevice } from './devices/types';
import { loadImage, LoadedImage, LoadOptions, BootState } from './loader';
import { SeededRandom, VirtualTime } from './sched/scheduler';
import { CS, DS, ES, FS, GS, SS, CR0_PE, CR0_PG, CR4_PAE, EFER_LMA, EFER_LME, A_DB, A_G, A_L } from './cpu/regs';
import { defaultCpuModel } from './cpu/cpuid';
import { LocalApic } from './apic/lapic';
import { IoApic, IOAPIC_BASE, IOAPIC_SIZE } from './apic/ioapic';
import { LVT_LINT0, LVT_LINT1, LVT_MASKED, DM_EXTINT } from './apic/registers';
import { Vmm } from './vmm/vmm';
import { ApicMmio, apicMsrRead, apicMsrWrite, XAPIC_DEFAULT_BASE } from './vmm/apic-access';
import { Capability, Quirk, isCapability, isQuirk, CAPABILITIES, QUIRKS, ExitReason, ExitQualification } from './vmm/types';
import type { MsrHost } from './cpu/msr';

export interface MachineConfig {
  vcpus?: number;
  memoryMiB?: number;
  seed?: number;
  /** Instructions per scheduling quantum. */
  quantum?: number;
  /** Stop after this many instructions in total (all vCPUs). */
  maxInstructions?: number;
  /** Virtual nanoseconds per retired instruction. */
  nsPerInstruction?: number;
  /** Advertise x2APIC in CPUID (the LAPICs start in xAPIC mode either way, as after firmware). */
  x2apic?: boolean;
  /** VM capabilities (bhyve VM_CAP_*): ipi-exit, hlt-exit, pause-exit. */
  capabilities?: string[];
  /** Named hypervisor bugs to reproduce (see core/vmm/types.ts QUIRKS). */
  quirks?: string[];
  /** Compile hot code to JavaScript (core/cpu/jit); false interprets every instruction. Same results either way. */
  jit?: boolean;
}

export interface StopInfo {
  reason: StopReason;
  message: string;
  vcpu: number;
  /** For 'debug-exit': QEMU's status, (value << 1) | 1. */
  exitCode?: number;
}

/** Why run() returned without a stop: a debugger's breakpoint, step or pause. */
export interface BreakInfo {
  vcpu: number;
  reason: string;
  detail?: unknown;
}

/** One scheduling round: every runnable vCPU gets `slice` instructions, in a seeded order. */
interface Round {
  order: Cpu[];
  /** Next position in `order`. */
  pos: number;
  slice: number;
  /** Most instructions any vCPU retired this round (virtual time advances by it). */
  ran: number;
  /** instret of order[pos] when its turn began (-1: not begun). */
  startInstret: number;
  deadline: number;
}

export const DEFAULTS = { vcpus: 1, memoryMiB: 128, seed: 0, quantum: 10000, nsPerInstruction: 1, jit: true };

export class Machine implements CpuHost, MsrHost {
  readonly events = new EventStream();
  readonly ports: PortBus;
  readonly mmio: MmioBus;
  readonly phys: PhysicalMemory;
  readonly decodeCache: DecodeCache;
  readonly platform: Platform;
  readonly cpus: Cpu[] = [];
  readonly lapics: LocalApic[] = [];
  readonly ioapic: IoApic;
  readonly vmm: Vmm;
  private readonly apicMmio: ApicMmio;
  readonly time: VirtualTime;
  readonly random: SeededRandom;
  readonly config: Required<Omit<MachineConfig, 'maxInstructions' | 'x2apic' | 'capabilities' | 'quirks'>> & { maxInstructions: number };
  image: LoadedImage | null = null;
  stopInfo: StopInfo | null = null;
  /** A break taken (requestBreak) and not yet resumed from. */
  breakInfo: BreakInfo | null = null;
  /** The scheduling round in progress (null between rounds), kept across run() calls. */
  private round: Round | null = null;
  private readonly order: Cpu[];
  private readonly roundRecord: Round;
  /** The platform's timed devices, then the LAPICs: the scheduler's deadlines, in that order. */
  private readonly timed: TimedDevice[];
  /** Guest serial output sink (the CLI writes it to stdout). */
  onSerial: (byte: number) => void = () => {};

  constructor(config: MachineConfig = {}) {
    const vcpus = config.vcpus ?? DEFAULTS.vcpus;
    const memoryMiB = config.memoryMiB ?? DEFAULTS.memoryMiB;
    if (!Number.isInteger(vcpus) || vcpus < 1 || vcpus > 1024) throw new RangeError(`vcpus must be an integer from 1 to 1024, not ${vcpus}`);
    if (!Number.isInteger(memoryMiB) || memoryMiB < 2 || memoryMiB > 3072) throw new RangeError(`memory must be an integer from 2 to 3072 MiB, not ${memoryMiB}`);
    this.config = {
      vcpus, memoryMiB,
      seed: config.seed ?? DEFAULTS.seed,
      quantum: config.quantum ?? DEFAULTS.quantum,
      nsPerInstruction: config.nsPerInstruction ?? DEFAULTS.nsPerInstruction,
      jit: config.jit ?? DEFAULTS.jit,
      maxInstructions: config.maxInstructions ?? Infinity,
    };
    if (!(this.config.quantum >= 1)) throw new RangeError(`quantum must be at least 1, not ${this.config.quantum}`);
    this.time = new VirtualTime(this.config.nsPerInstruction);
    this.random = new SeededRandom(this.config.seed | 0);
    this.events.clock = () => this.time.nowNs();
    this.ports = new PortBus(this.events);
    this.mmio = new MmioBus(this.events);
    const ramBytes = memoryMiB * 1024 * 1024;
    this.phys = new PhysicalMemory(ramBytes, this.mmio);
    this.decodeCache = new DecodeCache(this.phys);
    this.decodeCache.blocks.enabled = this.config.jit;
    this.platform = installPlatform(this.ports, this.phys, this.events, {
      vcpus, ramBytes,
      clock: this.time,
      onSerialByte: (b) => this.onSerial(b),
      onDebugExit: (status) => this.requestStop(-1, 'debug-exit', `guest wrote ${status >> 1} to isa-debug-exit`, status),
      onReset: () => this.requestStop(-1, 'triple-fault', 'guest requested a reset through port 0x92'),
    });
    // Any change on an ISA IRQ line may raise INTR: make the BSP look at it.
    this.platform.irq.attach({ setIrq: () => { this.cpus[0].attention = true; } });
    const caps = config.capabilities ?? [];
    const quirks = config.quirks ?? [];
    for (const c of caps) if (!isCapability(c)) throw new RangeError(`unknown capability '${c}' (one of: ${CAPABILITIES.join(', ')})`);
    for (const q of quirks) if (!isQuirk(q)) throw new RangeError(`unknown quirk '${q}' (one of: ${Object.keys(QUIRKS).join(', ')})`);
    const model = defaultCpuModel();
    // TSC-deadline timer (CPUID.1:ECX[24]) always; x2APIC (ECX[21]) when asked for.
    model.features1Ecx |= (1 << 24) | (config.x2apic ? 1 << 21 : 0);
    for (let k = 0; k < vcpus; k++) {
      const c = new Cpu(k, this, model);
      // APs wait for INIT-SIPI-SIPI (SDM vol. 3, 9.4); the BSP runs.
      if (k > 0) c.activity = 'wait-for-sipi';
      this.cpus.push(c);
    }
    this.vmm = new Vmm(this.cpus, this, { capabilities: new Set(caps as Capability[]), quirks: new Set(quirks as Quirk[]) });
    for (let k = 0; k < vcpus; k++) {
      const l = new LocalApic(k, k, k === 0, this.time, this.vmm, this.events);
      if (quirks.includes('accept-while-disabled')) l.acceptWhileSoftwareDisabled = true;
      this.lapics.push(l);
    }
    this.vmm.attach(this.lapics);
    this.timed = [...this.platform.timedDevices, ...this.lapics];
    this.order = this.cpus.slice();
    this.roundRecord = { order: this.order, pos: 0, slice: 0, ran: 0, startInstret: -1, deadline: Infinity };
    this.vmm.phys = this.phys;
    // The BSP's LAPIC as SeaBIOS leaves it: software-enabled, LINT0 ExtINT (virtual wire), LINT1 NMI.
    const bsp = this.lapics[0];
    bsp.writeSvr(0x1ff);
    bsp.writeLvt(LVT_LINT0, 0x8700);
    bsp.writeLvt(LVT_LINT1, 0x8400);
    this.ioapic = new IoApic(this.vmm, this.events);
    this.vmm.ioapic = this.ioapic;
    this.mmio.register(IOAPIC_BASE, IOAPIC_SIZE, new IoApicWindow(this.ioapic, this.vmm, () => this.apicMmio.current));
    this.platform.irq.attach(this.ioapic);
    this.apicMmio = new ApicMmio(this.lapics, this.vmm, this.mmio);
    this.mmio.register(XAPIC_DEFAULT_BASE, 0x1000, this.apicMmio);
    this.phys.mapPage32(XAPIC_DEFAULT_BASE, this.apicMmio);
    // The PIC's INTR reaches the vCPUs through LINT0: any ISA line change may raise it.
    this.platform.irq.attach({ setIrq: () => { for (let k = 0; k < vcpus; k++) if (this.lint0ExtInt(k)) this.vmm.kick(this.lapics[k]); } });
  }

  /** Whether vCPU k takes 8259 interrupts: LINT0 unmasked in ExtINT mode, or its APIC off (LINT0 = INTR). */
  private lint0ExtInt(k: number): boolean {
    const l = this.lapics[k];
    if (l.mode() === 'disabled') return k === 0;
    const e = l.lvt[LVT_LINT0];
    return !(e & LVT_MASKED) && ((e >>> 8) & 7) === DM_EXTINT;
  }

  // ---- CpuHost ----------------------------------------------------------------------------

  nowNs(): number {
    return this.time.nowNs();
  }

  /** A maskable interrupt is ready for vCPU `vcpu`: from its LAPIC, or from the 8259 through LINT0. */
  hasExtInt(vcpu: number): boolean {
    const l = this.lapics[vcpu];
    if (l.pendingVector() >= 0 || l.extIntLatched) return true;
    return this.lint0ExtInt(vcpu) && this.platform.pic.hasInterrupt();
  }

  /** INTA: the LAPIC's vector moves IRR -> ISR now; otherwise the 8259 answers. */
  ackExtInt(vcpu: number): number {
    const l = this.lapics[vcpu];
    const v = l.acknowledge();
    if (v >= 0) { this.vmm.injected(vcpu, v); return v; }
    l.ackExtInt();
    return this.platform.pic.acknowledge();
  }

  vmExit(vcpu: number, reason: ExitReason, qualification: ExitQualification): void {
    this.vmm.exit(vcpu, reason, qualification);
  }

  boundary(c: Cpu): boolean {
    return this.vmm.boundary(c);
  }

  boundaryIdle(): boolean {
    return this.vmm.boundaryIdle();
  }

  readCr8(c: Cpu): number {
    return (this.lapics[c.index].tpr >>> 4) & 0xf;
  }

  /** MOV CR8 writes the TPR through the LAPIC; a lower priority may let a pending interrupt in. */
  writeCr8(c: Cpu, value: number): void {
    this.lapics[c.index].writeTpr((value & 0xf) << 4);
    this.vmm.priorityLowered(c.index);
  }

  msrRead(c: Cpu, msr: number): [number, number] | '#GP' | null {
    return apicMsrRead(this.lapics[c.index], msr, (ns) => ns + c.tscOffset);
  }

  msrWrite(c: Cpu, msr: number, lo: number, hi: number): 'ok' | '#GP' | null {
    const l = this.lapics[c.index];
    if (msr === 0x80b && l.mode() === 'x2apic') this.vmm.checkEoi(c.index);
    // TSC ticks are nanoseconds of virtual time (Cpu.tsc): the deadline converts by the TSC offset.
    const r = apicMsrWrite(l, msr, lo, hi, (tsc) => tsc - c.tscOffset);
    // x2APIC EOI or TPR.
    if (msr === 0x80b || msr === 0x808) this.vmm.priorityLowered(c.index);
    return r;
  }

  requestStop(vcpu: number, reason: StopReason, message: string, exitCode?: number): void {
    if (this.stopInfo) return;
    this.stopInfo = { reason, message, vcpu, exitCode };
    for (const c of this.cpus) { c.stopRequested = true; c.attention = true; }
    this.events.emit(vcpu, 'stop', { reason, message, ...(exitCode !== undefined ? { exitCode } : {}) });
  }

  // ---- loading ----------------------------------------------------------------------------

  load(bytes: Uint8Array, opts: LoadOptions = {}): LoadedImage {
    const img = loadImage(bytes, this.phys, opts);
    this.image = img;
    applyBootState(this.cpus[0], img.boot);
    return img;
  }

  // ---- running ----------------------------------------------------------------------------

  /** Total instructions retired by all vCPUs. */
  instructions(): number {
    let n = 0;
    for (const c of this.cpus) n += c.instret;
    return n;
  }

  /**
   * Runs until the VM stops, a break is requested (see requestBreak), or `budget` more
   * instructions (all vCPUs together) have been retired. Returns the stop, or null when the
   * budget ran out or a break was taken first. The scheduling round is kept across calls,
   * so running in slices, or breaking and resuming, interleaves the vCPUs exactly as one
   * uninterrupted run would: same seed, same trace.
   */
  run(budget = Infinity): StopInfo | null {
    if (this.breakInfo !== null) this.resume();
    let left = budget;
    let idleRounds = 0;
    while (!this.stopInfo && left > 0) {
      // A slice-running caller (the debugger) gets control back even from a VM that only idles.
      if (budget !== Infinity && idleRounds > 10_000) return null;
      const r = this.round ?? this.beginRound();
      if (r === null) break;
      while (r.pos < r.order.length) {
        const c = r.order[r.pos];
        if (c.activity !== 'active' || this.vmm.frozen(c.index)) {
          // A vCPU interrupted by the budget exactly as it halted still counts what it ran.
          if (r.startInstret >= 0) r.ran = Math.max(r.ran, c.instret - r.startInstret);
          r.pos++;
          r.startInstret = -1;
          continue;
        }
        if (r.startInstret < 0) r.startInstret = c.instret;
        const done = c.instret - r.startInstret;
        const n = Math.min(r.slice - done, left);
        const ran = this.enter(c, n, r.startInstret);
        left -= ran;
        if (this.stopInfo) return this.stopInfo;
        // A break, or the caller's budget, interrupts the round: the same vCPU continues its slice next time.
        if (this.breakInfo !== null || (ran === n && n < r.slice - done)) return null;
        r.ran = Math.max(r.ran, c.instret - r.startInstret);
        r.pos++;
        r.startInstret = -1;
      }
      if (r.ran === 0) idleRounds++;
      this.endRound(r);
    }
    return this.stopInfo;
  }

  /**
   * Runs vCPU `c` for up to `n` instructions as the one executing guest code: its memory and
   * LAPIC accesses are its own, and the time it sees advances from `runningStart` with its own
   * instructions. Returns the instructions it retired.
   */
  private enter(c: Cpu, n: number, runningStart: number): number {
    this.phys.vcpu = c.index;
    this.apicMmio.current = c.index;
    this.time.running = c;
    this.time.runningStart = runningStart;
    this.vmm.running = c.index;
    const ran = c.run(n);
    this.vmm.running = -1;
    this.time.running = null;
    return ran;
  }

  /** A new scheduling round: a fresh order and a slice that ends at the next timer deadline. */
  private beginRound(): Round | null {
    const max = this.config.maxInstructions;
    const limit = max === Infinity ? Infinity : max - this.instructions();
    if (limit <= 0) {
      this.requestStop(-1, 'instruction-limit', `stopped after ${this.instructions()} instructions (--max-instructions)`);
      return null;
    }
    const deadline = this.nextDeadline();
    const ns = this.config.nsPerInstruction;
    const q = this.config.quantum;
    const untilDeadline = deadline === Infinity ? q : Math.max(1, Math.ceil((deadline - this.time.roundStartNs) / ns));
    if (this.cpus.length > 1) this.random.shuffle(this.order);
    // One record, reused: a round is begun for every IPI or two.
    const r = this.roundRecord;
    r.pos = 0;
    r.slice = Math.min(q, untilDeadline, limit);
    r.ran = 0;
    r.startInstret = -1;
    r.deadline = deadline;
    this.round = r;
    return r;
  }

  private endRound(r: Round): void {
    this.round = null;
    if (r.ran > 0) {
      this.time.roundStartNs += r.ran * this.config.nsPerInstruction;
    } else if (!this.stopInfo) {
      if (!this.idle(r.deadline)) return;
    }
    this.fireTimers();
  }

  /**
   * Asks every vCPU to leave its loop at the next instruction boundary without ending the
   * VM (a debugger's breakpoint, step or pause): run() returns null, `breakInfo` says why,
   * and the next run() carries on where this one stopped. The first request wins.
   */
  requestBreak(vcpu: number, reason: string, detail?: unknown): void {
    if (this.breakInfo !== null || this.stopInfo !== null) return;
    this.breakInfo = { vcpu, reason, detail };
    for (const c of this.cpus) { c.stopRequested = true; c.attention = true; }
  }

  /** Clears a taken break so that run() continues (run() does it itself). */
  resume(): void {
    if (this.breakInfo === null || this.stopInfo !== null) return;
    this.breakInfo = null;
    for (const c of this.cpus) c.stopRequested = false;
  }

  /**
   * Runs vCPU `k` alone for up to `budget` instructions while the others stay where they are
   * (a debugger's single-thread step). Virtual time advances by what it ran, as if the host
   * had descheduled the others; the scheduling round resumes afterwards.
   */
  runVcpu(k: number, budget: number): StopInfo | null {
    if (this.breakInfo !== null) this.resume();
    const c = this.cpus[k];
    const r = this.round;
    const inTurn = r !== null && r.pos < r.order.length && r.order[r.pos] === c && r.startInstret >= 0;
    if (this.stopInfo || c.activity !== 'active' || this.vmm.frozen(k)) return this.stopInfo;
    const ran = this.enter(c, budget, inTurn ? r!.startInstret : c.instret);
    // Outside its turn the vCPU's instructions are extra time for everyone.
    if (!inTurn && ran > 0) this.time.roundStartNs += ran * this.config.nsPerInstruction;
    if (!this.stopInfo) this.fireTimers();
    return this.stopInfo;
  }

  /** The vCPU that executes next when the VM resumes (-1 between rounds), for a debugger's all-stop stepping. */
  currentVcpu(): number {
    const r = this.round;
    return r !== null && r.pos < r.order.length ? r.order[r.pos].index : -1;
  }

  private nextDeadline(): number {
    const timed = this.timed;
    let d = Infinity;
    for (let k = 0; k < timed.length; k++) d = Math.min(d, timed[k].nextDeadlineNs());
    return d;
  }

  private fireTimers(): void {
    const now = this.time.nowNs();
    const timed = this.timed;
    for (let k = 0; k < timed.length; k++) {
      const t = timed[k];
      if (t.nextDeadlineNs() <= now) t.fire(now);
    }
  }

  /**
   * No vCPU ran: every one is halted (or waiting for SIPI). Wake those with a deliverable
   * interrupt, else jump to the next timer deadline; if nothing can ever wake them, stop.
   */
  private idle(deadline: number): boolean {
    let woke = false;
    for (const c of this.cpus) {
      if (c.activity === 'hlt' && (c.nmiPending || ((c.flags & (1 << 9)) && this.hasExtInt(c.index)))) {
        c.wake();
        woke = true;
      }
    }
    if (woke) return true;
    const canWake = this.cpus.some((c) => c.activity === 'hlt' && (c.flags & (1 << 9)) !== 0);
    if (deadline !== Infinity && canWake) {
      this.time.roundStartNs = Math.max(this.time.roundStartNs, deadline);
      return true;
    }
    const halted = this.cpus.filter((c) => c.activity === 'hlt').map((c) => c.index);
    const why = canWake ? 'with interrupts enabled but no timer or device that could interrupt them' : 'with interrupts disabled';
    this.requestStop(halted[0] ?? 0, 'halted', `all vCPUs halted (${halted.map((n) => `vCPU ${n} at ${this.cpus[n].csIpString()}`).join(', ') || 'none running'}) ${why}`);
    return false;
  }

  /**
   * Host-side write of a general register (the debugger's setVariable). A register written
   * while its vCPU executes guest code would race with it on real hardware: that breaks the
   * register-write invariant instead of silently changing a running vCPU.
   */
  writeRegister(vcpu: number, gpr: number, lo: number, hi = 0): boolean {
    if (this.vmm.runState(vcpu) === 'RUNNING') {
      this.vmm.invariant(vcpu, 'register-write-while-running', `register ${gpr} of vCPU ${vcpu} written by the host while the vCPU is running guest code`);
      return false;
    }
    this.cpus[vcpu].setReg(gpr, 8, lo, hi);
    return true;
  }

  /** Host-side remap of one guest-physical page to new contents (EPT); see Vmm.remapGuestPage. */
  remapGuestPage(gpa: number, contents: Uint8Array): void {
    this.vmm.remapGuestPage(gpa, contents);
  }

  /** Subscribes to the event stream. */
  onEvent(listener: (e: HsEvent) => void): () => void {
    return this.events.on(listener);
  }
}

/**
 * The IOAPIC's MMIO window as the vmm sees it: a redirection entry whose trigger mode
 * changes makes the destination vCPUs update their TMRs in a rendezvous, as bhyve's
 * vioapic does (vioapic_update_tmr through vm_smp_rendezvous).
 */
class IoApicWindow implements MmioDevice {
  readonly name = 'IOAPIC';
  constructor(private readonly io: IoApic, private readonly vmm: Vmm, private readonly current: () => number) {}
  mmioRead(offset: number, size: AccessSize): number {
    this.vmm.exit(this.current(), 'MMIO', { address: IOAPIC_BASE + offset, size, direction: 'read', region: 'ioapic' });
    return this.io.mmioRead(offset, size);
  }
  mmioWrite(offset: number, size: AccessSize, value: number): void {
    this.vmm.exit(this.current(), 'MMIO', { address: IOAPIC_BASE + offset, size, direction: 'write', value: value >>> 0, region: 'ioapic' });
    const before = Uint32Array.from(this.io.redir);
    this.io.mmioWrite(offset, size, value);
    for (let pin = 0; pin < 24; pin++) {
      const lo = this.io.redir[pin * 2];
      if (((lo ^ before[pin * 2]) & (1 << 15)) === 0) continue;
      const dest = this.io.redir[pin * 2 + 1] >>> 24;
      const logical = (lo & (1 << 11)) !== 0;
      const targets = this.vmm.lapics.filter((l) => matchesDestination(l, dest, logical ? 'logical' : 'physical', false)).map((l) => l.vcpuIndex);
      this.vmm.beginRendezvous(`ioapic pin ${pin} trigger mode -> TMR update`, this.current(), targets, () => {
        // Our LAPICs latch TMR when they accept a vector, so there is nothing stale to rewrite;
        // the rendezvous is kept for what it costs and shows, as on bhyve.
      });
    }
  }
}

/** Puts a vCPU in the state a loader describes (SDM-consistent hidden segment parts). */
export function applyBootState(c: Cpu, b: BootState): void {
  const r = b.regs;
  const set = (id: number, v: number | undefined) => { if (v !== undefined) c.setReg(id, 4, v | 0); };
  set(0, r.eax); set(1, r.ecx); set(2, r.edx ?? 0); set(3, r.ebx); set(4, r.esp); set(5, r.ebp); set(6, r.esi); set(7, r.edi);
  c.flags = (r.eflags ?? 2) | 2;
  if (b.mode === 'real16') {
    const cs = b.cs ?? 0;
    c.cr0 = 0x60000010;
    for (const s of [DS, ES, FS, GS, SS]) c.setSegment(s, 0, 0, 0xffff, 0x93);
    c.setSegment(CS, cs, cs * 16, 0xffff, 0x9b);
    c.rip = b.rip & 0xffff;
    c.updateMode();
    return;
  }
  c.gdtBase = b.gdtBase ?? 0;
  c.gdtLimit = b.gdtLimit ?? 0;
  const code = b.codeSelector ?? 0x10, data = b.dataSelector ?? 0x18;
  const flat = (attr: number) => attr | A_G | 0x80;
  if (b.mode === 'protected32') {
    c.cr0 = CR0_PE | 0x10;
    c.setSegment(CS, code, 0, 0xffffffff, flat(0x1b | A_DB));
    for (const s of [DS, ES, FS, GS, SS]) c.setSegment(s, data, 0, 0xffffffff, flat(0x13 | A_DB));
    c.rip = b.rip >>> 0;
  } else {
    c.cr4 = CR4_PAE;
    c.cr3 = b.cr3 ?? 0;
    c.efer = EFER_LME | EFER_LMA;
    c.cr0 = (CR0_PE | CR0_PG | 0x10) | 0;
    c.setSegment(CS, code, 0, 0xffffffff, flat(0x1b | A_L));
    for (const s of [DS, ES, FS, GS, SS]) c.setSegment(s, data, 0, 0xffffffff, flat(0x13 | A_DB));
    c.rip = b.rip;
  }
  c.updateMode();
}
