// One virtual CPU: architectural state, memory access through segmentation and the
// TLB, and the interpreter loop (which runs blocks compiled by jit/ where hot code has
// them). Instruction semantics live in ops/, paging in mmu.ts, descriptor loads in
// segments.ts, exception delivery in interrupts.ts.
import { Insn } from './insn';
import { decodeInsn, disassemble } from './decode';
import { CpuFault, CpuStop, fault } from './fault';
import { L_NONE, materialize } from './flags';
import { tlbFill, TLB_SIZE, NO_KEY, P_RSUP, P_RUSER, P_WSUP, P_WUSER, P_XSUP, P_XUSER, P_DIRTY, flushTlb } from './mmu';
import { deliverEvent, EventKind } from './interrupts';
import {
  CS, SS, FS, GP, SS_VEC, UD, A_DB, A_L, A_P, A_S, A_UNUSABLE, CR0_PE, EFER_LMA, VM, IF, ARITH_FLAGS,
  SEG_NAMES, K_REG, K_MEM, K_IMM, AH,
} from './regs';
import { PAGE_RAM, PAGE_SPECIAL } from '../memory/physical';
import type { PhysicalMemory } from '../memory/physical';
import type { PortBus } from '../memory/bus';
import type { EventStream, CpuMode } from '../trace/events';
import type { DecodeCache } from './decode-cache';
import type { BlockPage } from './jit/cache';
import type { Block } from './jit/block';
import type { CpuModel } from './cpuid';
import type { ExitReason, ExitQualification } from '../vmm/types';
import { defaultCpuModel } from './cpuid';

/** What a vCPU needs from its VM. */
export interface CpuHost {
  readonly phys: PhysicalMemory;
  readonly ports: PortBus;
  readonly events: EventStream;
  readonly decodeCache: DecodeCache;
  /** Virtual time in nanoseconds (TSC and timers derive from it). */
  nowNs(): number;
  /** External interrupt controller output (the PIC's INTR line for now). */
  hasExtInt(vcpu: number): boolean;
  ackExtInt(vcpu: number): number;
  /** Asks the VM to stop (debug exit, triple fault, unsupported instruction...). */
  requestStop(vcpu: number, reason: import('../trace/events').StopReason, message: string, exitCode?: number): void;
  /** The hypervisor layer: records a VM exit (bhyve's VM_EXITCODE_* names). Optional for bare CPUs. */
  vmExit?(vcpu: number, reason: ExitReason, qualification: ExitQualification): void;
  /**
   * Called at an instruction boundary when the vCPU's attention is set: the hypervisor's
   * pending work for this vCPU (rendezvous, a deferred INIT). True = leave the run loop.
   */
  boundary?(cpu: Cpu): boolean;
  /** Whether boundary(cpu) would now return false and do nothing (compiled code asks: Cpu.blockBoundary). */
  boundaryIdle?(cpu: Cpu): boolean;
  /**
   * CR8 is the local APIC's TPR in 64-bit mode (SDM vol. 3, "Task Priority in IA-32e Mode"):
   * CR8[3:0] reads TPR[7:4]; a write sets TPR[7:4] and clears TPR[3:0]. Absent: a bare CPU keeps CR8 itself.
   */
  readCr8?(cpu: Cpu): number;
  writeCr8?(cpu: Cpu, value: number): void;
}

/** Architectural activity state (SDM vol. 3, 24.4.2). */
export type Activity = 'active' | 'hlt' | 'wait-for-sipi' | 'shutdown';

// Segment check bits, recomputed on every segment load.
export const SC_USABLE = 1, SC_READ = 2, SC_WRITE = 4, SC_DOWN = 8, SC_FLAT = 16;

const TWO32 = 4294967296;
/** Code pages remembered by refillFetch (a power of two). */
const FETCH_PAGES = 8;
const NO_INSNS: (Insn | undefined)[] = [];

export class Cpu {
  // General registers: low halves at [0..15], high halves at [16..31].
  readonly gpr = new Int32Array(32);
  /** RIP/EIP/IP of the current instruction (a canonical signed number in 64-bit mode). */
  rip = 0;
  /** Where execution continues after the current instruction; branches set it. */
  nextRip = 0;
  /** High half returned by 64-bit reads (readOp, readLin64...). */
  hi = 0;

  // EFLAGS: non-arithmetic bits always live here; arithmetic bits when lop === L_NONE.
  flags = 2;
  lop = L_NONE; lsz = 4; la = 0; lb = 0; lres = 0; laH = 0; lbH = 0; lresH = 0;

  // Segment registers, visible selector and hidden part.
  readonly segSel = new Uint16Array(6);
  readonly segBase = new Float64Array(6);
  readonly segLimit = new Float64Array(6);
  readonly segAttr = new Int32Array(6);
  readonly segChk = new Uint8Array(6);

  gdtBase = 0; gdtLimit = 0xffff;
  idtBase = 0; idtLimit = 0x3ff;
  ldtSel = 0; ldtBase = 0; ldtLimit = 0xffff; ldtAttr = 0x82;
  trSel = 0; trBase = 0; trLimit = 0xffff; trAttr = 0x8b;

  cr0 = 0x60000010; cr2 = 0; cr3 = 0; cr4 = 0; cr8 = 0; efer = 0;
  readonly dr = new Float64Array(8);
  /** XMM0-15 as 4 dwords each, and MXCSR. */
  readonly xmm = new Int32Array(64);
  mxcsr = 0x1f80;
  // Minimal x87 control state (FNINIT/FLDCW/FNSTCW/FNSTSW and FXSAVE images).
  fcw = 0x37f; fsw = 0; ftw = 0;

  /** MSRs without a dedicated field, as [lo, hi]. */
  readonly msrs = new Map<number, [number, number]>();
  kernelGsBase = 0;
  tscOffset = 0;
  /** IA32_APIC_BASE low half: base 0xFEE00000, global enable (bit 11), BSP flag (bit 8) on vCPU 0. */
  apicBaseLo = 0;

  // Cached mode (recomputed by updateMode): decoder bitness, CPL, long-mode 64-bit.
  bits: 16 | 32 | 64 = 16;
  cpl = 0;
  mode64 = false;
  mode: CpuMode = 'real';

  // Software TLB, direct-mapped: tag = linear page number, pa = physical page address.
  readonly tlbTag = new Float64Array(TLB_SIZE).fill(NaN);
  /**
   * The tag again, as an int32 the JIT's fast paths compare without doubles: the page
   * number without its slot bits (vpn >> 10, which for a canonical address fits in 26
   * bits; computed from an address's 32-bit halves as (hi << 10) | (lo >>> 22)), NO_KEY
   * when the entry is empty.
   */
  readonly tlbKey = new Int32Array(TLB_SIZE).fill(NO_KEY);
  readonly tlbPa = new Float64Array(TLB_SIZE);
  readonly tlbPerm = new Uint8Array(TLB_SIZE);
  /**
   * tlbPa again, as an int32 where the page is wholly inside guest RAM below 2 GiB, else
   * NOT_RAM (negative, so that adding an offset stays negative): the JIT's memory fast
   * paths compute addresses from it on integers, with no bounds check against RAM's size.
   */
  readonly tlbRam = new Int32Array(TLB_SIZE);
  /** Size in 4 KiB pages of the large page an entry came from (0 for a 4 KiB page), for INVLPG. */
  readonly tlbLarge = new Int32Array(TLB_SIZE);
  /** PAE PDPTE registers, loaded on CR3 writes (SDM vol. 3, 4.4.1). */
  readonly pdpte = new Float64Array(4);
  // Permission masks for the current CPL/WP (see mmu.ts).
  needR = P_RSUP; needW = P_WSUP | P_DIRTY; needX = P_XSUP;
  /** Treat the next accesses as supervisor (descriptor tables, TSS): set by system code. */
  sysAccess = false;

  // Fetch cache: the current code page's linear base (NaN: none), physical base, decoded instructions.
  private fetchLin = NaN;
  private fetchPa = 0;
  private fetchArr: (Insn | undefined)[] | null = null;
  /** Compiled blocks of the current code page (null: not RAM). */
  private fetchBlocks: BlockPage | null = null;
  /** RIP starts a block (after a block end, a compiled block, an event): counts towards compiling. */
  private leader = true;

  activity: Activity = 'active';
  /** Instructions retired. */
  instret = 0;
  /** Interrupts are inhibited until instret passes this value (STI, MOV SS). */
  shadowUntil = -1;
  /** NMI pending / blocked (blocked from NMI delivery until IRET). */
  nmiPending = false;
  nmiBlocked = false;
  /** Set when something outside the instruction stream wants the loop's attention. */
  attention = true;
  /** Exception being delivered (for #DF / triple fault classification), -1 none. */
  delivering = -1;
  /** Vector of the last exception delivered (for the debugger). */
  lastException = -1;

  readonly model: CpuModel;

  constructor(readonly index: number, readonly host: CpuHost, model?: CpuModel) {
    this.model = model ?? defaultCpuModel();
    this.reset();
  }

  // ---- reset and mode -------------------------------------------------------------------

  /** Power-on/INIT state (SDM vol. 3, 9.1.1, table 9-1). */
  reset(): void {
    this.gpr.fill(0);
    this.gpr[2] = this.model.resetEdx;
    this.flags = 2;
    this.lop = L_NONE;
    for (let s = 0; s < 6; s++) this.setSegReal(s, 0);
    this.setSegment(CS, 0xf000, 0xffff0000, 0xffff, 0x9b);
    this.rip = 0xfff0;
    this.gdtBase = 0; this.gdtLimit = 0xffff; this.idtBase = 0; this.idtLimit = 0xffff;
    this.ldtSel = 0; this.ldtBase = 0; this.ldtLimit = 0xffff; this.ldtAttr = 0x82;
    this.trSel = 0; this.trBase = 0; this.trLimit = 0xffff; this.trAttr = 0x8b;
    this.cr0 = 0x60000010; this.cr2 = 0; this.cr3 = 0; this.cr4 = 0; this.cr8 = 0; this.efer = 0;
    this.dr.fill(0); this.dr[6] = 0xffff0ff0; this.dr[7] = 0x400;
    this.xmm.fill(0); this.mxcsr = 0x1f80; this.fcw = 0x40; this.fsw = 0; this.ftw = 0;
    this.kernelGsBase = 0;
    this.apicBaseLo = (0xfee00000 | 0x800 | (this.index === 0 ? 0x100 : 0)) | 0;
    this.msrs.clear();
    this.shadowUntil = -1; this.nmiPending = false; this.nmiBlocked = false; this.delivering = -1;
    flushTlb(this, true);
    this.updateMode();
    this.attention = true;
  }

  setSegReal(seg: number, sel: number): void {
    this.setSegment(seg, sel, sel * 16, this.segLimit[seg] || 0xffff, seg === CS ? 0x9b : 0x93);
  }

  /** Loads a segment register's visible and hidden parts directly (loaders, reset, descriptor loads). */
  setSegment(seg: number, sel: number, base: number, limit: number, attr: number): void {
    this.setSegmentKeepingMode(seg, sel, base, limit, attr);
    if (seg === CS || seg === SS) this.updateMode();
  }

  /**
   * setSegment for a load that leaves the mode and the CPL as they are, as the caller has
   * checked (a 64-bit CPL-0 code segment loaded in 64-bit mode at CPL 0): updateMode would
   * change nothing.
   */
  setSegmentKeepingMode(seg: number, sel: number, base: number, limit: number, attr: number): void {
    // Reloading what the register holds (a kernel's CS and SS at every interrupt and IRET) changes
    // nothing: segChk always follows the other parts (only this method and setSegmentBase write them).
    if (this.segSel[seg] === sel && this.segAttr[seg] === attr && this.segBase[seg] === base && this.segLimit[seg] === limit) return;
    this.segSel[seg] = sel;
    this.segBase[seg] = base;
    this.segLimit[seg] = limit;
    this.segAttr[seg] = attr;
    // The flat test here, not in segmentChecks: a limit of 4 GiB - 1 passed to a call not inlined is a boxed number.
    this.segChk[seg] = segmentChecks(attr, base === 0 && limit === 0xffffffff);
  }

  /**
   * Sets a segment's base alone (WRMSR IA32_FS_BASE/IA32_GS_BASE, SWAPGS), its check bits with it:
   * the base applies outside 64-bit mode too (SDM vol. 3, 3.4.4), so a flat FS or GS stops being flat.
   */
  setSegmentBase(seg: number, base: number): void {
    this.segBase[seg] = base;
    this.segChk[seg] = segmentChecks(this.segAttr[seg], base === 0 && this.segLimit[seg] === 0xffffffff);
  }

  /** Recomputes bitness, CPL and the mode name after CR0/EFER/CS/SS/EFLAGS.VM changes. */
  updateMode(): void {
    const old = this.mode;
    const pe = (this.cr0 & CR0_PE) !== 0;
    const lma = (this.efer & EFER_LMA) !== 0;
    const csAttr = this.segAttr[CS];
    if (!pe) {
      this.mode = 'real'; this.bits = 16; this.cpl = 0; this.mode64 = false;
    } else if (this.flags & VM) {
      this.mode = 'vm86'; this.bits = 16; this.cpl = 3; this.mode64 = false;
    } else if (lma && (csAttr & A_L)) {
      this.mode = 'long64'; this.bits = 64; this.mode64 = true;
    } else {
      this.mode64 = false;
      this.bits = csAttr & A_DB ? 32 : 16;
      this.mode = lma ? (this.bits === 32 ? 'compat32' : 'compat16') : this.bits === 32 ? 'protected32' : 'protected16';
    }
    if (pe && !(this.flags & VM)) this.cpl = this.segSel[CS] & 3;
    // SDM vol. 3, 5.2.1: the CPL is the DPL of SS in protected mode (CS.RPL normally equals it).
    if (pe && !(this.flags & VM) && !(this.segAttr[SS] & A_UNUSABLE)) this.cpl = (this.segAttr[SS] >> 5) & 3;
    const user = this.cpl === 3;
    this.needR = user ? P_RUSER : P_RSUP;
    this.needW = (user ? P_WUSER : P_WSUP) | P_DIRTY;
    const needX = user ? P_XUSER : P_XSUP;
    // The cached code page was checked for the old CPL's execute right: look again when that
    // right changes. Nothing else here changes a translation (paging, CR0.WP and EFER.NXE
    // changes flush the TLB, which drops the code page; fetchLin is linear, so a CS base
    // or bitness change keeps it), so interrupt delivery and IRET at one CPL keep their page.
    if (needX !== this.needX) { this.needX = needX; this.fetchLin = NaN; }
    if (old !== this.mode && this.host.events.active) {
      this.host.events.emit(this.index, 'mode.change', { from: old, to: this.mode, rip: this.rip });
    }
  }

  /** Forgets the cached code page (TLB flushes, paging changes). */
  dropFetchCache(): void {
    this.fetchLin = NaN;
  }

  // ---- the interpreter loop -------------------------------------------------------------

  /**
   * Runs up to `budget` instructions. Returns early when the vCPU halts, shuts down,
   * or the VM is asked to stop. Returns the number of instructions retired.
   */
  run(budget: number): number {
    const start = this.instret;
    const end = start + budget;
    while (this.instret < end && this.activity === 'active' && !this.stopRequested) {
      try {
        this.loop(end);
        break; // the loop returns when the budget is spent or something asks the vCPU to leave
      } catch (e) {
        if (!(e instanceof CpuFault)) {
          if (e instanceof CpuStop) break;
          throw e;
        }
        this.leader = true;
        try {
          this.raise(e.vector, e.errorCode, EventKind.Exception);
        } catch (e2) {
          if (e2 instanceof CpuStop) break; // triple fault
          throw e2;
        }
      }
    }
    return this.instret - start;
  }

  /** Set by the VM when it wants every vCPU out of its loop. */
  stopRequested = false;

  /**
   * A debugger's check before each instruction (breakpoints, stepping): true = do not execute
   * it, leave the loop (the hook has asked the VM to break). While set, the vCPU interprets
   * every instruction, so no compiled block runs past a breakpoint; null costs nothing.
   */
  debugHook: ((c: Cpu) => boolean) | null = null;

  private loop(end: number): void {
    if (this.debugHook !== null) { this.loopDebug(end, this.debugHook); return; }
    const jit = this.host.decodeCache.blocks.enabled;
    while (this.instret < end) {
      if (this.attention) {
        if (this.checkEvents()) return;
        // Still set: an interrupt shadow, checked again at the next boundary, so one at a time.
        if (this.attention) { this.step(); continue; }
      }
      if (jit && this.runBlock(end)) continue;
      this.step();
    }
  }

  /** loop() with the debugger's hook before every instruction (after interrupt delivery, so a handler's first instruction can break). */
  private loopDebug(end: number, hook: (c: Cpu) => boolean): void {
    while (this.instret < end) {
      if (this.attention && this.checkEvents()) return;
      if (hook(this)) return;
      this.step();
    }
  }

  /** Interprets one instruction. */
  private step(): void {
    // Stepped because attention is set (the first instruction of an interrupt handler, an
    // interrupt shadow): the loop looks again after it, so the next instruction starts a
    // block. Without this an interrupt stub's second instruction never counts towards one.
    const forced = this.attention;
    const i = this.fetch();
    this.nextRip = this.rip + i.len;
    i.exec(this, i);
    this.rip = this.nextRip;
    this.instret++;
    this.leader = i.endsBlock || forced;
  }

  /**
   * Runs the compiled block at RIP if there is one that fits the budget and the CS limit;
   * otherwise counts the execution towards compiling one. Returns false to interpret.
   */
  private runBlock(end: number): boolean {
    const rip = this.rip;
    let lin: number;
    if (this.mode64) lin = rip;
    else {
      if (rip > this.segLimit[CS]) return false;
      lin = (this.segBase[CS] + rip) >>> 0;
    }
    let off = lin - this.fetchLin;
    if (!(off >= 0 && off < 4096)) {
      this.refillFetch(lin);
      off = lin & 0xfff;
    }
    const page = this.fetchBlocks;
    if (page === null) return false;
    const found = page.blocks[off];
    const fits = found !== undefined && found.bits === this.bits && found.rip === rip;
    let b = found!;
    // A trace that asks to be rebuilt (Block.rebuild) is hot: built again now.
    if (!fits || found.rebuild) {
      if (!fits) {
        if (!this.leader || ++page.heat[off] < page.threshold) return false;
        // The code here compiled for another RIP (one physical page at two linear addresses):
        // compiling again replaces it, so wait longer each time rather than alternate.
        if (found !== undefined && found.bits === this.bits && page.threshold < 0x4000) page.threshold *= 2;
      }
      this.host.decodeCache.blocks.build(page, this.fetchPa, off, this.bits, this.fetchArr!, rip, this, lin);
      // Run it now: interpreting on would heat (and compile) the starts it covers, which
      // every start of code run equally often reaches at the same time.
      b = page.blocks[off]!;
    }
    const fn = b.fn;
    if (fn === null || this.instret + b.n > end) return false;
    if (!this.mode64 && rip + (b.endPa - b.startPa) - 1 > this.segLimit[CS]) return false;
    this.leader = true;
    let next = fn(this, end, b);
    // Chaining: a block may name its successor in the same page (direct branch or fall-through).
    while (next !== undefined && next.fn !== null && next.bits === this.bits && next.rip === this.rip && !next.rebuild && !this.attention && this.instret + next.n <= end
      && (this.mode64 || this.rip + (next.endPa - next.startPa) - 1 <= this.segLimit[CS])) {
      next = next.fn(this, end, next);
    }
    return true;
  }

  /**
   * For a compiled block that leaves its page (a branch, call or return elsewhere): the
   * block runBlock would find at RIP, so that runBlock's chain runs it without a trip
   * through the loop. runBlock's lookup exactly, except that it gives up (undefined: the
   * loop does the lookup) where that lookup could fault or walk the page tables: a CS limit
   * violation, or a code page whose translation is not in the TLB.
   */
  nextBlock(): Block | undefined {
    const rip = this.rip;
    let lin: number;
    if (this.mode64) lin = rip;
    else {
      if (rip > this.segLimit[CS]) return undefined;
      lin = (this.segBase[CS] + rip) >>> 0;
    }
    let off = lin - this.fetchLin;
    if (!(off >= 0 && off < 4096)) {
      // A TLB hit for execution: refillFetch's translation, without the walk it would not need (sysAccess is off in blocks).
      const vpn = Math.floor(lin / 4096), idx = vpn & (TLB_SIZE - 1);
      if (this.tlbTag[idx] !== vpn || (this.tlbPerm[idx] & this.needX) !== this.needX || this.sysAccess) return undefined;
      this.fetchLin = lin - (lin & 0xfff);
      this.enterCodePage(this.tlbPa[idx]);
      off = lin & 0xfff;
    }
    const page = this.fetchBlocks;
    return page === null ? undefined : page.blocks[off];
  }

  /** For the trace builder: the physical page the TLB maps the linear code page to (executable), or -1; no walk. */
  codePagePa(linPage: number): number {
    const vpn = Math.floor(linPage / 4096), idx = vpn & (TLB_SIZE - 1);
    if (this.tlbTag[idx] !== vpn || (this.tlbPerm[idx] & this.needX) !== this.needX) return -1;
    return this.tlbPa[idx];
  }

  /** Pending interrupts and state at an instruction boundary. Returns true to leave the loop. */
  private checkEvents(): boolean {
    if (this.stopRequested || this.activity !== 'active') return true;
    if (this.host.boundary !== undefined && this.host.boundary(this)) return true;
    if (this.instret <= this.shadowUntil) return false; // keep attention: re-check next boundary
    if (this.nmiPending && !this.nmiBlocked) {
      this.nmiPending = false;
      this.raise(2, null, EventKind.Nmi);
      return false;
    }
    if ((this.flags & IF) && this.host.hasExtInt(this.index)) {
      const vector = this.host.ackExtInt(this.index);
      if (this.host.events.active) this.host.events.emit(this.index, 'interrupt', { vector, source: 'pic' });
      this.raise(vector, null, EventKind.External);
      return false;
    }
    this.attention = this.nmiPending || this.shadowUntil >= this.instret;
    return false;
  }

  /**
   * checkEvents for compiled code at a boundary inside its block (between STI and HLT, after
   * an IRETQ it follows): false when checkEvents would deliver nothing and let the vCPU go on,
   * having done what it does then; true, having changed nothing, when it would do more (an
   * event to deliver, a stop, a rendezvous): the block then returns, and the loop's own
   * checkEvents acts at this same boundary.
   */
  blockBoundary(): boolean {
    if (this.stopRequested || this.activity !== 'active') return true;
    if (this.host.boundary !== undefined && (this.host.boundaryIdle === undefined || !this.host.boundaryIdle(this))) return true;
    if (this.instret <= this.shadowUntil) return false;
    if ((this.nmiPending && !this.nmiBlocked) || ((this.flags & IF) && this.host.hasExtInt(this.index))) return true;
    this.attention = this.nmiPending;
    return false;
  }

  /** Delivers an exception or interrupt; escalates to #DF and triple fault per SDM vol. 3, 6.15. */
  raise(vector: number, errorCode: number | null, kind: EventKind): void {
    this.leader = true;
    if (kind === EventKind.Exception) {
      deliverEvent(this, vector, errorCode, kind);
      return;
    }
    // An interrupt or NMI taken by checkEvents, which has just looked at everything pending at
    // this boundary. Attention stays set only for what the next boundary could act on: an NMI
    // still waiting, or an interrupt with IF still set (a trap gate), or whatever the delivery
    // itself raises. Otherwise checkEvents would find nothing there, and the handler's first
    // instruction can run in a block instead of being stepped.
    this.attention = false;
    deliverEvent(this, vector, errorCode, kind);
    if (this.nmiPending || (this.flags & IF) !== 0) this.attention = true;
  }

  /** The vCPU becomes runnable again (interrupt while halted, SIPI). */
  wake(): void {
    if (this.activity === 'hlt') this.activity = 'active';
    this.attention = true;
  }

  fetch(): Insn {
    const rip = this.rip;
    let lin: number;
    if (this.mode64) lin = rip;
    else {
      if (rip > this.segLimit[CS]) fault(GP, 0);
      lin = (this.segBase[CS] + rip) >>> 0;
    }
    // Same page as the last fetch: no translation (a subtraction instead of a division).
    let off = lin - this.fetchLin;
    if (!(off >= 0 && off < 4096)) {
      this.refillFetch(lin);
      off = lin & 0xfff;
    }
    const arr = this.fetchArr;
    let i = arr !== null ? arr[off] : undefined;
    if (i === undefined || i.bits !== this.bits) i = this.decodeAt(lin, off);
    if (!this.mode64 && rip + i.len - 1 > this.segLimit[CS]) fault(GP, 0);
    return i;
  }

  private refillFetch(lin: number): void {
    const pa = this.translate(lin, 2);
    // Integer bit operations keep the low 12 bits of addresses beyond 2^32 too (and are no fmod).
    this.fetchLin = lin - (lin & 0xfff);
    this.enterCodePage(pa - (pa & 0xfff));
  }

  /** The code page is now the physical page pagePa: its decoded instructions and blocks. */
  private enterCodePage(pagePa: number): void {
    const slot = (pagePa >>> 12) & (FETCH_PAGES - 1);
    if (this.fetchPagePa[slot] === pagePa) {
      this.fetchPa = pagePa;
      this.fetchArr = this.fetchPageArr[slot];
      this.fetchBlocks = this.fetchPageBlocks[slot];
      return;
    }
    const dc = this.host.decodeCache;
    const arr = dc.page(pagePa);
    this.fetchPa = pagePa;
    this.fetchArr = arr;
    // Looked up even with the JIT off, so turning it on (blocks.enabled) takes effect at once.
    this.fetchBlocks = arr !== null ? dc.blocks.page(pagePa) : null;
    if (arr !== null) {
      this.fetchPagePa[slot] = pagePa;
      this.fetchPageArr[slot] = arr;
      this.fetchPageBlocks[slot] = this.fetchBlocks;
    }
  }

  /**
   * The arrays of recently fetched code pages, by physical address (direct-mapped): code
   * that moves between a few pages (calls into a library page, interrupt stubs) finds them
   * again after the translation without the decode cache lookups. The arrays of a physical
   * page never change identity (the caches only clear their entries), so this is exact.
   */
  private readonly fetchPagePa = new Float64Array(FETCH_PAGES).fill(-1);
  private readonly fetchPageArr: (Insn | undefined)[][] = new Array(FETCH_PAGES).fill(NO_INSNS);
  private readonly fetchPageBlocks: (BlockPage | null)[] = new Array(FETCH_PAGES).fill(null);

  private decodeAt(lin: number, off: number): Insn {
    if (this.fetchArr === null) {
      this.stopUnsupported(`code fetch from guest-physical 0x${(this.fetchPa + off).toString(16)}, which is not RAM`);
    }
    const bytes = new Uint8Array(15);
    const inPage = Math.min(15, 4096 - off);
    bytes.set(this.host.phys.u8.subarray(this.fetchPa + off, this.fetchPa + off + inPage));
    // An instruction that fits in this page decodes the same from the bytes of this page alone.
    let i = decodeInsn(inPage === 15 ? bytes : bytes.subarray(0, inPage), this.bits);
    if (i !== null) {
      this.host.decodeCache.store(this.fetchPa + off, i);
      return i;
    }
    if (inPage === 15) fault(UD);
    // It continues on the next page (which may fault): decode it, but do not cache it.
    for (let n = inPage; n < 15; n++) bytes[n] = this.readLin8Fetch(lin + n);
    i = decodeInsn(bytes, this.bits);
    if (i === null) fault(UD);
    return i;
  }

  private readLin8Fetch(lin: number): number {
    return this.host.phys.read8(this.translate(this.mode64 ? lin : lin >>> 0, 2));
  }

  // ---- stop paths -----------------------------------------------------------------------

  /** An instruction valid on hardware that this interpreter does not implement: stop, never guess. */
  unsupported(i: Insn): never {
    const dis = disassemble(i.bytes, this.bits as 16 | 32 | 64, this.rip).text;
    const hex = Array.from(i.bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
    this.stopUnsupported(`unsupported instruction \`${dis}\` (${hex})`);
  }

  stopUnsupported(what: string): never {
    const where = `${this.csIpString()} on vCPU ${this.index}`;
    this.host.requestStop(this.index, 'unsupported', `${what} at ${where}`);
    throw new CpuStop('unsupported');
  }

  csIpString(): string {
    const ip = this.mode64 ? hex64(this.rip) : '0x' + (this.rip >>> 0).toString(16).padStart(this.bits === 16 ? 4 : 8, '0');
    return `${SEG_NAMES[CS]}=0x${this.segSel[CS].toString(16).padStart(4, '0')} rip=${ip} (${this.mode})`;
  }

  // ---- registers ------------------------------------------------------------------------

  getReg(id: number, size: number): number {
    switch (size) {
      case 1: return id < 16 ? this.gpr[id] & 0xff : (this.gpr[id - AH] >> 8) & 0xff;
      case 2: return this.gpr[id] & 0xffff;
      case 4: return this.gpr[id];
      default: this.hi = this.gpr[id + 16]; return this.gpr[id];
    }
  }

  setReg(id: number, size: number, v: number, hi = 0): void {
    const g = this.gpr;
    switch (size) {
      case 1:
        if (id < 16) g[id] = (g[id] & ~0xff) | (v & 0xff);
        else g[id - AH] = (g[id - AH] & ~0xff00) | ((v & 0xff) << 8);
        return;
      case 2: g[id] = (g[id] & ~0xffff) | (v & 0xffff); return;
      case 4: g[id] = v; g[id + 16] = 0; return;
      default: g[id] = v; g[id + 16] = hi; return;
    }
  }

  /** The full 64-bit value of a GPR as a number (exact for canonical addresses and small values). */
  reg64(id: number): number {
    return this.gpr[id + 16] * TWO32 + (this.gpr[id] >>> 0);
  }

  // ---- effective and linear addresses ---------------------------------------------------

  /**
   * Linear address of the instruction's memory operand, after segmentation checks for an
   * access of `size` bytes (write: the access writes).
   */
  memLin(i: Insn, size: number, write: boolean): number {
    if (this.mode64) return this.ea64(i);
    return this.segLin(i.mSeg, this.ea(i), size, write);
  }

  /** Effective address (offset within the segment) for 16/32-bit address sizes. */
  ea(i: Insn): number {
    const g = this.gpr;
    let a = i.dispLo;
    if (i.mBase >= 0) a += g[i.mBase];
    else if (i.mBase === -2) a += this.rip;
    if (i.mIndex >= 0) a += g[i.mIndex] * i.mScale;
    return i.addrSize === 2 ? a & 0xffff : a >>> 0;
  }

  /** 64-bit mode: effective address plus FS/GS base, canonical-checked (#GP(0), #SS(0) for SS). */
  ea64(i: Insn): number {
    const g = this.gpr;
    if (i.addrSize === 4) {
      let a = i.dispLo;
      if (i.mBase >= 0) a += g[i.mBase];
      else if (i.mBase === -2) a += this.rip;
      if (i.mIndex >= 0) a += g[i.mIndex] * i.mScale;
      a >>>= 0;
      if (i.mSeg >= FS) return this.canonical(this.segBase[i.mSeg] + a, i.mSeg);
      return a;
    }
    if (i.mBase === -2) return this.canonical(this.rip + i.dispLo, i.mSeg);
    let lo = i.dispLo >>> 0, hi = i.dispHi;
    if (i.mBase >= 0) { lo += g[i.mBase] >>> 0; hi += g[i.mBase + 16]; }
    if (i.mIndex >= 0) { lo += (g[i.mIndex] >>> 0) * i.mScale; hi += g[i.mIndex + 16] * i.mScale; }
    if (i.mSeg >= FS) {
      const b = this.segBase[i.mSeg];
      lo += b >>> 0; hi += Math.floor(b / TWO32);
    }
    hi = (hi + Math.floor(lo / TWO32)) | 0;
    lo >>>= 0;
    if (hi >> 15 !== hi >> 31) fault(i.mSeg === SS ? SS_VEC : GP, 0);
    return hi * TWO32 + lo;
  }

  /** Checks that a 64-bit linear address (a number) is canonical. */
  canonical(lin: number, seg: number): number {
    // Wrap to a signed 64-bit value first (sums can pass 2^63 only for non-canonical inputs).
    if (lin < -140737488355328 || lin >= 140737488355328) {
      const wrapped = lin >= 9223372036854775808 ? lin - 18446744073709551616 : lin < -9223372036854775808 ? lin + 18446744073709551616 : lin;
      if (wrapped < -140737488355328 || wrapped >= 140737488355328) fault(seg === SS ? SS_VEC : GP, 0);
      return wrapped;
    }
    return lin;
  }

  /** Segmentation outside 64-bit mode: limit and type checks (SDM vol. 3, 5.3 and 5.5). */
  segLin(seg: number, off: number, size: number, write: boolean): number {
    if (this.mode64) return this.canonical(seg >= FS ? this.segBase[seg] + off : off, seg);
    const chk = this.segChk[seg];
    if (chk & SC_FLAT && (write ? chk & SC_WRITE : true)) {
      if (off + size - 1 <= 0xffffffff) return off;
    }
    const vec = seg === SS ? SS_VEC : GP;
    // Real and virtual-8086 mode check only limits; protected mode also usability and type.
    if (this.cr0 & CR0_PE && !(this.flags & VM)) {
      if (!(chk & SC_USABLE)) fault(vec, 0);
      if (write ? !(chk & SC_WRITE) : !(chk & SC_READ)) fault(vec, 0);
    }
    const limit = this.segLimit[seg];
    const last = off + size - 1;
    if (chk & SC_DOWN) {
      const upper = this.segAttr[seg] & A_DB ? 0xffffffff : 0xffff;
      if (off <= limit || last > upper) fault(vec, 0);
    } else if (last > limit) {
      fault(vec, 0);
    }
    return (this.segBase[seg] + off) >>> 0;
  }

  // ---- linear memory --------------------------------------------------------------------

  /** Translates a linear address for access 0 read, 1 write, 2 execute; faults with #PF. */
  translate(lin: number, access: number): number {
    const vpn = Math.floor(lin / 4096);
    const idx = vpn & (TLB_SIZE - 1);
    // Implicit supervisor accesses (descriptor tables, TSS, interrupt frames) check supervisor rights.
    const need = this.sysAccess
      ? (access === 0 ? P_RSUP : access === 1 ? P_WSUP | P_DIRTY : P_XSUP)
      : access === 0 ? this.needR : access === 1 ? this.needW : this.needX;
    if (this.tlbTag[idx] !== vpn || (this.tlbPerm[idx] & need) !== need) {
      return tlbFill(this, lin, access) + (lin & 0xfff);
    }
    return this.tlbPa[idx] + (lin & 0xfff);
  }

  /**
   * For system code that makes several accesses in a row (descriptor and gate reads,
   * interrupt frames): the physical address of [lin, lin + len) when it lies in one page
   * of plain RAM (for writes: RAM holding no decoded code), else -1. It translates as the
   * first of those accesses would (same TLB fill, same fault), so with nothing translated
   * in between, reading or writing the bytes at the result is exactly what the accesses
   * one by one would do; on -1 the caller makes them one by one.
   */
  spanPa(lin: number, len: number, access: 0 | 1): number {
    const pa = this.translate(lin, access);
    if ((lin & 0xfff) + len > 4096) return -1;
    const phys = this.host.phys;
    if (pa + len > phys.size) return -1;
    const kind = phys.kind[pa >>> 12];
    return (access === 0 ? (kind & PAGE_SPECIAL) === 0 : kind === PAGE_RAM) ? pa : -1;
  }

  readLin8(lin: number): number {
    return this.host.phys.read8(this.translate(lin, 0));
  }

  readLin16(lin: number): number {
    if ((lin & 0xfff) === 0xfff) return this.readLin8(lin) | (this.readLin8(lin + 1) << 8);
    return this.host.phys.read16(this.translate(lin, 0));
  }

  readLin32(lin: number): number {
    if ((lin & 0xfff) > 0xffc) return this.readCross(lin, 4);
    return this.host.phys.read32(this.translate(lin, 0));
  }

  /** Returns the low 32 bits; the high 32 bits are left in this.hi. */
  readLin64(lin: number): number {
    if ((lin & 0xfff) > 0xff8) {
      const lo = this.readCross(lin, 4);
      this.hi = this.readCross(lin + 4, 4);
      return lo;
    }
    const pa = this.translate(lin, 0);
    const phys = this.host.phys;
    const lo = phys.read32(pa);
    this.hi = phys.read32(pa + 4);
    return lo;
  }

  writeLin8(lin: number, v: number): void {
    this.host.phys.write8(this.translate(lin, 1), v);
  }

  writeLin16(lin: number, v: number): void {
    if ((lin & 0xfff) === 0xfff) return this.writeCross(lin, 2, v);
    this.host.phys.write16(this.translate(lin, 1), v);
  }

  writeLin32(lin: number, v: number): void {
    if ((lin & 0xfff) > 0xffc) return this.writeCross(lin, 4, v);
    this.host.phys.write32(this.translate(lin, 1), v);
  }

  writeLin64(lin: number, lo: number, hi: number): void {
    if ((lin & 0xfff) > 0xff8) {
      // Both pages must be writable before either is written (no partial writes on #PF).
      this.translate(lin, 1); this.translate(lin + 7, 1);
      this.writeCross(lin, 4, lo); this.writeCross(lin + 4, 4, hi);
      return;
    }
    const pa = this.translate(lin, 1);
    this.host.phys.write32(pa, lo);
    this.host.phys.write32(pa + 4, hi);
  }

  readLin(lin: number, size: number): number {
    switch (size) {
      case 1: return this.readLin8(lin);
      case 2: return this.readLin16(lin);
      case 4: return this.readLin32(lin);
      default: return this.readLin64(lin);
    }
  }

  writeLin(lin: number, size: number, v: number, hi = 0): void {
    switch (size) {
      case 1: this.writeLin8(lin, v); return;
      case 2: this.writeLin16(lin, v); return;
      case 4: this.writeLin32(lin, v); return;
      default: this.writeLin64(lin, v, hi); return;
    }
  }

  private readCross(lin: number, size: number): number {
    let v = 0;
    for (let k = 0; k < size; k++) v |= this.readLin8(this.wrapLin(lin + k)) << (8 * k);
    return v;
  }

  private writeCross(lin: number, size: number, v: number): void {
    for (let k = 0; k < size; k++) this.translate(this.wrapLin(lin + k), 1);
    for (let k = 0; k < size; k++) this.writeLin8(this.wrapLin(lin + k), (v >>> (8 * k)) & 0xff);
  }

  private wrapLin(lin: number): number {
    return this.mode64 ? lin : lin >>> 0;
  }

  /** Reads `len` bytes at a linear address for the debugger; null if any page is unmapped. */
  peekLinear(lin: number, len: number): Uint8Array | null {
    const out = new Uint8Array(len);
    try {
      for (let k = 0; k < len; k++) out[k] = this.host.phys.readBytes(this.translateNoFault(this.wrapLin(lin + k)), 1)[0];
    } catch {
      return null;
    }
    return out;
  }

  translateNoFault(lin: number): number {
    const saved = this.sysAccess;
    this.sysAccess = true;
    try { return this.translate(lin, 0); } finally { this.sysAccess = saved; }
  }

  // ---- operands -------------------------------------------------------------------------

  /** Reads operand n (0..2) of size i.s<n> (register, memory or immediate). 64-bit: high half in this.hi. */
  readOp(i: Insn, n: number): number {
    const k = n === 0 ? i.k0 : n === 1 ? i.k1 : i.k2;
    const size = n === 0 ? i.s0 : n === 1 ? i.s1 : i.s2;
    if (k === K_REG) return this.getReg(n === 0 ? i.r0 : n === 1 ? i.r1 : i.r2, size);
    if (k === K_IMM) { this.hi = i.immHi; return i.immLo; } // the first immediate (ENTER's second one is imm2)
    if (k === K_MEM) return this.readLin(this.memLin(i, size, false), size);
    this.unsupported(i);
  }

  /** Writes operand n (register or memory) of its size. */
  writeOp(i: Insn, n: number, v: number, hi = 0): void {
    const k = n === 0 ? i.k0 : n === 1 ? i.k1 : i.k2;
    const size = n === 0 ? i.s0 : n === 1 ? i.s1 : i.s2;
    if (k === K_REG) return this.setReg(n === 0 ? i.r0 : n === 1 ? i.r1 : i.r2, size, v, hi);
    if (k === K_MEM) return this.writeLin(this.memLin(i, size, true), size, v, hi);
    this.unsupported(i);
  }

  // ---- stack ----------------------------------------------------------------------------

  /** Stack address size in bytes: 8 in 64-bit mode, else SS.B. */
  stackSize(): number {
    return this.mode64 ? 8 : this.segAttr[SS] & A_DB ? 4 : 2;
  }

  push(size: number, v: number, hi = 0): void {
    const ss = this.stackSize();
    if (ss === 8) {
      const sp = this.canonical(this.reg64(4) - size, SS);
      this.writeLin(sp, size, v, hi);
      this.setRsp64(sp);
    } else {
      const mask = ss === 4 ? 0xffffffff : 0xffff;
      const sp = (this.gpr[4] - size) & mask;
      this.writeLin(this.segLin(SS, sp >>> 0, size, true), size, v, hi);
      if (ss === 4) this.gpr[4] = sp; else this.gpr[4] = (this.gpr[4] & ~0xffff) | sp;
    }
  }

  pop(size: number): number {
    const ss = this.stackSize();
    let v: number;
    if (ss === 8) {
      const sp = this.reg64(4);
      v = this.readLin(this.canonical(sp, SS), size);
      const hi = this.hi;
      this.setRsp64(sp + size);
      this.hi = hi;
    } else {
      const mask = ss === 4 ? 0xffffffff : 0xffff;
      const sp = this.gpr[4] & mask;
      v = this.readLin(this.segLin(SS, sp >>> 0, size, false), size);
      const nsp = (sp + size) & mask;
      if (ss === 4) this.gpr[4] = nsp; else this.gpr[4] = (this.gpr[4] & ~0xffff) | nsp;
    }
    return v;
  }

  /** Reads the stack at offset `off` from the current stack pointer without popping. */
  peekStack(off: number, size: number): number {
    const ss = this.stackSize();
    if (ss === 8) return this.readLin(this.canonical(this.reg64(4) + off, SS), size);
    const mask = ss === 4 ? 0xffffffff : 0xffff;
    return this.readLin(this.segLin(SS, ((this.gpr[4] + off) & mask) >>> 0, size, false), size);
  }

  setRsp64(v: number): void {
    this.gpr[4] = v | 0; // ToInt32 keeps the low 32 bits (as v % 2^32 | 0, without an fmod)
    this.gpr[20] = Math.floor(v / TWO32) | 0;
  }

  /** Sets RIP for a branch to `target` with operand size `size` (masking to 16/32 bits; canonical in 64-bit). */
  branch(target: number, size: number): void {
    if (size === 8 || this.mode64 && size !== 2) this.nextRip = this.canonical(target, CS);
    else if (size === 4) this.nextRip = target >>> 0;
    else this.nextRip = target & 0xffff;
    if (!this.mode64 && this.nextRip > this.segLimit[CS]) fault(GP, 0);
  }

  // ---- EFLAGS ---------------------------------------------------------------------------

  getFlags(): number {
    materialize(this);
    return this.flags;
  }

  /** Writes EFLAGS bits in `mask` (the caller decides which bits its instruction may change). */
  setFlags(v: number, mask: number): void {
    // The lazy arithmetic flags matter only for the bits the mask keeps (POPF, IRET: none of them).
    if ((mask & ARITH_FLAGS) === ARITH_FLAGS) this.lop = L_NONE;
    else materialize(this);
    const old = this.flags;
    this.flags = ((old & ~mask) | (v & mask) | 2) & 0x3f7fd7;
    if (((old ^ this.flags) & VM) !== 0) this.updateMode();
    if ((this.flags & IF) && !(old & IF)) this.attention = true;
  }

  // ---- ports ----------------------------------------------------------------------------

  portIn(port: number, size: 1 | 2 | 4): number {
    const v = this.host.ports.read(this.index, port, size);
    if (this.host.vmExit) this.host.vmExit(this.index, 'INOUT', { port, size, direction: 'in', value: v });
    this.attention = true; // a device access may have changed what is pending
    return v;
  }

  portOut(port: number, size: 1 | 2 | 4, v: number): void {
    if (this.host.vmExit) this.host.vmExit(this.index, 'INOUT', { port, size, direction: 'out', value: v >>> 0 });
    this.host.ports.write(this.index, port, size, v);
    this.attention = true;
  }

  /** Time stamp counter: derived from virtual time (1 tick per ns). */
  tsc(): number {
    return this.host.nowNs() + this.tscOffset;
  }
}

/** Computes the SC_* check bits for a segment from its attributes; `flat`: base 0 and limit 4 GiB - 1. */
export function segmentChecks(attr: number, flat: boolean): number {
  if (attr & A_UNUSABLE || !(attr & A_P)) return 0;
  let c = SC_USABLE;
  const type = attr & 0xf;
  if (attr & A_S) {
    if (type & 8) {
      // Code: readable if R, never writable.
      if (type & 2) c |= SC_READ;
    } else {
      c |= SC_READ;
      if (type & 2) c |= SC_WRITE;
      if (type & 4) c |= SC_DOWN;
    }
  }
  if (flat && !(c & SC_DOWN) && (c & SC_READ)) c |= SC_FLAT;
  return c;
}

export function hex64(v: number): string {
  const u = v < 0 ? BigInt(v) + (1n << 64n) : BigInt(v);
  return '0x' + u.toString(16).padStart(16, '0');
}

