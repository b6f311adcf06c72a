// Interrupt and exception delivery in every mode (SDM vol. 3, ch. 6): the real-mode IVT,
// 32-bit interrupt/trap gates with a stack switch through the TSS, the 64-bit IDT with
// IST; #DF and triple fault by the classes of SDM table 6-5; and IRET.
import type { Cpu } from './cpu';
import { CpuFault, CpuStop, fault } from './fault';
import { readDescriptor, loadCodeSegment, loadStackSegment, tssStack32, tssStack64, dpl, descriptorBase, descriptorLimit } from './segments';
import {
  A_DB, A_L, A_P, A_S, A_UNUSABLE, AC, CS, DF_VEC, DS, ES, FS, GS, GP, IF, NP, NT, RF, SS, TF, VM, IOPL,
  ID, VIF, VIP,
} from './regs';

export const enum EventKind {
  /** A fault or trap raised by an instruction (return address: as the handler left rip). */
  Exception,
  /** External interrupt from the PIC or LAPIC. */
  External,
  Nmi,
  /** INT n: gate DPL checked, return address after the instruction. */
  Software,
  /** INT3 / INTO: like Software (DPL checked), but an exception in the trace. */
  SoftwareException,
}

const CONTRIBUTORY = new Set([0, 10, 11, 12, 13]);
/** Exceptions that push an error code (SDM table 6-1). */
const HAS_ERROR_CODE = new Set([8, 10, 11, 12, 13, 14, 17, 21]);
const TWO32 = 4294967296;
/** Bounds of the canonical 48-bit address space (SDM vol. 1, 3.3.7.1). */
const CANONICAL_LOW = -140737488355328, CANONICAL_HIGH = 140737488355328;

/**
 * Delivers `vector`. A fault while delivering becomes #DF or a triple fault per
 * SDM table 6-5; a triple fault shuts the vCPU down and stops the VM.
 */
export function deliverEvent(c: Cpu, vector: number, errorCode: number | null, kind: EventKind): void {
  let vec = vector, ec = errorCode, k = kind;
  for (;;) {
    const prev = c.delivering;
    if (prev >= 0 && k === EventKind.Exception) {
      const prevPF = prev === 14, prevContrib = CONTRIBUTORY.has(prev);
      const nowPF = vec === 14, nowContrib = CONTRIBUTORY.has(vec);
      if (prev === DF_VEC && (nowPF || nowContrib)) return tripleFault(c, vec);
      if ((prevContrib && nowContrib) || (prevPF && (nowPF || nowContrib))) { vec = DF_VEC; ec = 0; }
    }
    if (k === EventKind.Exception || k === EventKind.SoftwareException) {
      c.lastException = vec;
      if (c.host.vmExit) c.host.vmExit(c.index, 'EXCEPTION', { vector: vec, errorCode: ec });
      if (c.host.events.active) {
        c.host.events.emit(c.index, 'exception', {
          vector: vec, errorCode: ec, rip: c.rip, kind: vec === 8 ? 'abort' : k === EventKind.SoftwareException ? 'software' : 'fault',
          ...(vec === 14 ? { cr2: c.cr2 } : {}),
        });
      }
    }
    c.delivering = vec;
    try {
      deliverOnce(c, vec, k === EventKind.Exception && HAS_ERROR_CODE.has(vec) ? (ec ?? 0) : null, k);
      c.delivering = -1;
      if (vec === 2) c.nmiBlocked = true;
      return;
    } catch (e) {
      if (!(e instanceof CpuFault)) { c.delivering = -1; throw e; }
      // The delivery itself faulted: classify against the event being delivered.
      vec = e.vector; ec = e.errorCode; k = EventKind.Exception;
    }
  }
}

function tripleFault(c: Cpu, vec: number): never {
  c.delivering = -1;
  c.activity = 'shutdown';
  if (c.host.vmExit) c.host.vmExit(c.index, 'TRIPLE_FAULT', { vector: vec });
  c.host.requestStop(c.index, 'triple-fault', `triple fault on vCPU ${c.index}: exception ${vec} while delivering #DF, at ${c.csIpString()}`);
  throw new CpuStop('triple-fault');
}

function deliverOnce(c: Cpu, vec: number, ec: number | null, kind: EventKind): void {
  const soft = kind === EventKind.Software || kind === EventKind.SoftwareException;
  // Software interrupts return after the instruction; faults to the faulting instruction;
  // external interrupts to the instruction about to run (rip).
  const retIp = soft ? c.nextRip : c.rip;
  const ext = kind === EventKind.External || kind === EventKind.Nmi ? 1 : 0;
  if (c.mode === 'real') return deliverReal(c, vec, retIp);
  if (c.mode === 'vm86') c.stopUnsupported('interrupt delivery from virtual-8086 mode');
  if (c.efer & (1 << 10)) {
    if (ext === 1 && c.cpl === 0 && deliverLongKernel(c, vec, retIp)) return;
    return deliverLong(c, vec, ec, retIp, soft, ext);
  }
  return deliverProtected(c, vec, ec, retIp, soft, ext);
}

function deliverReal(c: Cpu, vec: number, retIp: number): void {
  if (vec * 4 + 3 > c.idtLimit) fault(GP, vec * 8 + 2);
  const flags = c.getFlags();
  c.push(2, flags);
  c.push(2, c.segSel[CS]);
  c.push(2, retIp);
  const ip = c.readLin16(c.idtBase + vec * 4);
  const cs = c.readLin16(c.idtBase + vec * 4 + 2);
  c.setFlags(flags & ~(IF | TF | AC | RF), 0xffffffff);
  c.setSegment(CS, cs, cs * 16, c.segLimit[CS], c.segAttr[CS]);
  c.rip = c.nextRip = ip;
}

/** Reads dword `k` of the gate descriptor at `addr` as an implicit supervisor access. */
function readGate(c: Cpu, addr: number, k: number): number {
  const saved = c.sysAccess;
  c.sysAccess = true;
  try {
    return c.readLin32(addr + 4 * k);
  } finally { c.sysAccess = saved; }
}

function deliverProtected(c: Cpu, vec: number, ec: number | null, retIp: number, soft: boolean, ext: number): void {
  const gateErr = vec * 8 + 2 + ext;
  if (vec * 8 + 7 > c.idtLimit) fault(GP, gateErr);
  const lo = readGate(c, c.idtBase + vec * 8, 0), hi = readGate(c, c.idtBase + vec * 8, 1);
  const type = (hi >>> 8) & 0x1f;
  const gdpl = (hi >>> 13) & 3;
  if (type === 5) c.stopUnsupported(`task gate in the IDT (vector ${vec})`);
  if (type !== 0x6 && type !== 0x7 && type !== 0xe && type !== 0xf) fault(GP, gateErr);
  if (soft && gdpl < c.cpl) fault(GP, vec * 8 + 2);
  if (!(hi & 0x8000)) fault(NP, gateErr);
  const gate32 = (type & 8) !== 0;
  const trap = (type & 1) !== 0;
  const sel = lo >>> 16;
  const offset = gate32 ? ((hi & 0xffff0000) | (lo & 0xffff)) >>> 0 : lo & 0xffff;
  if ((sel & 0xfffc) === 0) fault(GP, ext);
  const d = readDescriptor(c, sel);
  if (!(d.attr & A_S) || !(d.attr & 8) || dpl(d.attr) > c.cpl) fault(GP, (sel & 0xfffc) + ext);
  if (!(d.attr & A_P)) fault(NP, (sel & 0xfffc) + ext);
  const size = gate32 ? 4 : 2;
  const flags = c.getFlags();
  const oldCs = c.segSel[CS];
  const conforming = (d.attr & 4) !== 0;
  const newCpl = conforming ? c.cpl : dpl(d.attr);
  if (offset > d.limit) fault(GP, ext);
  const outer = newCpl < c.cpl;
  const oldSs = c.segSel[SS], oldEsp = c.gpr[4] >>> 0;
  if (outer) {
    // Inter-privilege: switch to the inner stack from the TSS, then push the old one.
    const { ss, esp } = tssStack32(c, newCpl);
    loadStackSegment(c, ss, newCpl);
    c.gpr[4] = esp | 0;
  }
  const savedSys = c.sysAccess;
  if (newCpl < 3) c.sysAccess = true; // the handler's stack is accessed with its privilege
  try {
    if (outer) { c.push(size, oldSs); c.push(size, oldEsp); }
    c.push(size, flags);
    c.push(size, oldCs);
    c.push(size, retIp);
    if (ec !== null) c.push(size, ec);
  } finally { c.sysAccess = savedSys; }
  loadCodeSegment(c, sel, d, newCpl);
  c.setFlags(flags & ~(TF | NT | VM | RF | (trap ? 0 : IF)), 0xffffffff);
  c.rip = c.nextRip = offset;
  c.updateMode();
}

/**
 * deliverLong for the case every 64-bit kernel lives in: an external interrupt or NMI at
 * CPL 0 through a present interrupt or trap gate without IST, to a 64-bit ring-0 code
 * segment already marked accessed, with the gate, the descriptor and the new frame each in
 * one page of RAM. The same accesses in the same order as deliverLong (so the same TLB
 * fills and the same faults), the same checks and the same state changes, without the
 * general path's detours. False, having changed nothing, when the case does not apply:
 * deliverLong then does it all (its accesses find the same translations).
 */
function deliverLongKernel(c: Cpu, vec: number, retIp: number): boolean {
  if (vec * 16 + 15 > c.idtLimit) return false;
  const phys = c.host.phys, view = phys.view;
  // At CPL 0 the implicit supervisor accesses are the CPL's own (no sysAccess needed).
  const gatePa = c.spanPa(c.idtBase + vec * 16, 12, 0);
  if (gatePa < 0) return false;
  const lo = view.getInt32(gatePa, true), hi = view.getInt32(gatePa + 4, true), hi2 = view.getInt32(gatePa + 8, true);
  const type = (hi >>> 8) & 0x1f;
  if ((type !== 0xe && type !== 0xf) || !(hi & 0x8000) || (hi & 7) !== 0) return false;
  const sel = lo >>> 16;
  const index = sel & 0xfff8;
  if ((sel & 0xfffc) === 0 || (sel & 4) !== 0 || index + 7 > c.gdtLimit) return false;
  const descPa = c.spanPa(c.gdtBase + index, 8, 0);
  if (descPa < 0) return false;
  const dlo = view.getInt32(descPa, true), dhi = view.getInt32(descPa + 4, true);
  const attr = ((dhi >>> 8) & 0xff) | ((dhi >>> 8) & 0xf000);
  // Present, accessed code segment, DPL 0 (so the handler runs at CPL 0 whether conforming or
  // not), L set and D clear: every check of deliverLong and loadCodeSegment passes.
  if ((attr & (A_S | 8 | A_P | 1 | 0x60 | A_L | A_DB)) !== (A_S | 8 | A_P | 1 | A_L)) return false;
  const offset = hi2 * TWO32 + (((hi & 0xffff0000) | (lo & 0xffff)) >>> 0);
  if (offset < CANONICAL_LOW || offset >= CANONICAL_HIGH) return false;
  const oldRsp = c.reg64(4);
  const rsp = oldRsp - (oldRsp & 15);
  const top = rsp - 8, bottom = rsp - 40;
  if (bottom < CANONICAL_LOW || top >= CANONICAL_HIGH || Math.floor(top / 4096) !== Math.floor(bottom / 4096)) return false;
  const flags = c.getFlags();
  const topPa = c.spanPa(top, 8, 1);
  if (topPa < 0) return false;
  const pa = topPa - 32;
  storeFrame64(view, pa + 32, c.segSel[SS]);
  storeFrame64(view, pa + 24, oldRsp);
  storeFrame64(view, pa + 16, flags);
  storeFrame64(view, pa + 8, c.segSel[CS]);
  storeFrame64(view, pa, retIp);
  phys.written[pa >>> 12] = 1;
  // From 64-bit code at CPL 0 (the usual case) to 64-bit code at CPL 0 with SS unchanged:
  // updateMode would find the same mode and CPL, and emit nothing.
  const sameMode = c.mode64 && c.cpl === 0;
  if (sameMode) c.setSegmentKeepingMode(CS, sel & 0xfffc, descriptorBase(dlo, dhi), descriptorLimit(dlo, dhi, attr), attr);
  else c.setSegment(CS, sel & 0xfffc, descriptorBase(dlo, dhi), descriptorLimit(dlo, dhi, attr), attr);
  c.setRsp64(bottom);
  c.setFlags(flags & ~(TF | NT | VM | RF | ((type & 1) ? 0 : IF)), 0xffffffff);
  c.rip = c.nextRip = offset;
  if (!sameMode) c.updateMode();
  return true;
}

function deliverLong(c: Cpu, vec: number, ec: number | null, retIp: number, soft: boolean, ext: number): void {
  const gateErr = vec * 8 + 2 + ext;
  if (vec * 16 + 15 > c.idtLimit) fault(GP, gateErr);
  const gate = c.idtBase + vec * 16;
  // Implicit supervisor accesses differ from the CPL's own only at CPL 3 (Cpu.translate, tlbFill).
  if (c.cpl !== 3) readGate64(c, gate);
  else {
    const saved = c.sysAccess;
    c.sysAccess = true;
    try { readGate64(c, gate); } finally { c.sysAccess = saved; }
  }
  const lo = gateLo, hi = gateHi, hi2 = gateHi2;
  const type = (hi >>> 8) & 0x1f;
  const gdpl = (hi >>> 13) & 3;
  if (type !== 0xe && type !== 0xf) fault(GP, gateErr);
  if (soft && gdpl < c.cpl) fault(GP, vec * 8 + 2);
  if (!(hi & 0x8000)) fault(NP, gateErr);
  const sel = lo >>> 16;
  const ist = hi & 7;
  const offset = hi2 * TWO32 + (((hi & 0xffff0000) | (lo & 0xffff)) >>> 0);
  if ((sel & 0xfffc) === 0) fault(GP, ext);
  const d = readDescriptor(c, sel);
  if (!(d.attr & A_S) || !(d.attr & 8) || dpl(d.attr) > c.cpl) fault(GP, (sel & 0xfffc) + ext);
  if (!(d.attr & A_P)) fault(NP, (sel & 0xfffc) + ext);
  if (!(d.attr & A_L) || d.attr & A_DB) fault(GP, (sel & 0xfffc) + ext);
  const conforming = (d.attr & 4) !== 0;
  const newCpl = conforming ? c.cpl : dpl(d.attr);
  const flags = c.getFlags();
  const oldCs = c.segSel[CS], oldSs = c.segSel[SS];
  const oldRsp = c.reg64(4);
  let rsp = oldRsp;
  if (newCpl < c.cpl || ist) rsp = tssStack64(c, newCpl, ist);
  rsp -= rsp & 15; // 64-bit delivery aligns RSP to 16 bytes (SDM 6.14.2); & takes the low bits of any integer
  // The frame is written before any state changes, so a fault here leaves the vCPU intact.
  const saveCpl = c.cpl;
  // The new stack is accessed with the handler's privilege: that differs from the CPL's own only from CPL 3.
  if (newCpl < 3 && c.cpl === 3) {
    const savedSys = c.sysAccess;
    c.sysAccess = true;
    try { rsp = writeFrame64(c, rsp, oldSs, oldRsp, flags, oldCs, retIp, ec); } finally { c.sysAccess = savedSys; }
  } else {
    rsp = writeFrame64(c, rsp, oldSs, oldRsp, flags, oldCs, retIp, ec);
  }
  if (newCpl < saveCpl) c.setSegment(SS, newCpl, 0, 0, A_UNUSABLE | (newCpl << 5) | A_DB | A_P | 0x13);
  loadCodeSegment(c, sel, d, newCpl);
  c.setRsp64(rsp);
  c.setFlags(flags & ~(TF | NT | VM | RF | ((type & 1) ? 0 : IF)), 0xffffffff);
  c.rip = c.nextRip = c.canonical(offset, CS);
  c.updateMode();
}

/** Pushes a 64-bit interrupt frame (SS, RSP, RFLAGS, CS, RIP, error code) below rsp; returns the new RSP. */
function writeFrame64(c: Cpu, rsp: number, oldSs: number, oldRsp: number, flags: number, oldCs: number, retIp: number, ec: number | null): number {
  const words = ec !== null ? 6 : 5;
  // The whole frame in one page of RAM (the usual case): one translation, made as the
  // first push makes it (same address, so the same #PF and CR2), then the stores.
  const top = rsp - 8, bottom = rsp - 8 * words;
  const onePage = bottom >= CANONICAL_LOW && top < CANONICAL_HIGH && Math.floor(top / 4096) === Math.floor(bottom / 4096);
  const topPa = onePage ? c.spanPa(top, 8, 1) : -1;
  if (topPa >= 0) {
    const pa = topPa - 8 * (words - 1);
    const phys = c.host.phys;
    storeFrame64(phys.view, pa + 8 * (words - 1), oldSs);
    storeFrame64(phys.view, pa + 8 * (words - 2), oldRsp);
    storeFrame64(phys.view, pa + 8 * (words - 3), flags);
    storeFrame64(phys.view, pa + 8 * (words - 4), oldCs);
    storeFrame64(phys.view, pa + 8 * (words - 5), retIp);
    if (ec !== null) storeFrame64(phys.view, pa, ec);
    phys.written[pa >>> 12] = 1;
    rsp -= 8 * words;
  } else {
    rsp = pushFrame64(c, rsp, oldSs);
    rsp = pushFrame64(c, rsp, oldRsp);
    rsp = pushFrame64(c, rsp, flags);
    rsp = pushFrame64(c, rsp, oldCs);
    rsp = pushFrame64(c, rsp, retIp);
    if (ec !== null) rsp = pushFrame64(c, rsp, ec);
  }
  return rsp;
}

let gateLo = 0, gateHi = 0, gateHi2 = 0;

/** Reads the three dwords of a 64-bit gate that matter into gateLo/gateHi/gateHi2. */
function readGate64(c: Cpu, gate: number): void {
  // The gate in one page of RAM (the usual case): one translation, as the first read makes it.
  const pa = c.spanPa(gate, 12, 0);
  if (pa >= 0) {
    const view = c.host.phys.view;
    gateLo = view.getInt32(pa, true); gateHi = view.getInt32(pa + 4, true); gateHi2 = view.getInt32(pa + 8, true);
  } else {
    gateLo = c.readLin32(gate); gateHi = c.readLin32(gate + 4); gateHi2 = c.readLin32(gate + 8);
  }
}

/** Writes one quadword of a 64-bit interrupt frame below `sp`; returns the new stack pointer. */
function pushFrame64(c: Cpu, sp: number, v: number): number {
  const nsp = c.canonical(sp - 8, SS);
  c.writeLin64(nsp, v | 0, Math.floor(v / TWO32) | 0);
  return nsp;
}

function storeFrame64(view: DataView, pa: number, v: number): void {
  view.setInt32(pa, v | 0, true);
  view.setInt32(pa + 4, Math.floor(v / TWO32) | 0, true);
}

/** The quadwords popStack64 popped: low and high halves. */
const popLo = new Int32Array(3), popHi = new Int32Array(3);

/**
 * Pops `n` (at most 3) quadwords in 64-bit mode, as n c.pop(8) calls would: one
 * translation (the first pop's) when they lie in one page of RAM, else pop by pop.
 */
function popStack64(c: Cpu, n: number): void {
  const sp = c.reg64(4), last = sp + 8 * n - 1;
  if (sp >= CANONICAL_LOW && last < CANONICAL_HIGH && Math.floor(sp / 4096) === Math.floor(last / 4096)) {
    const pa = c.spanPa(sp, 8 * n, 0);
    if (pa >= 0) {
      const view = c.host.phys.view;
      for (let k = 0; k < n; k++) { popLo[k] = view.getInt32(pa + 8 * k, true); popHi[k] = view.getInt32(pa + 8 * k + 4, true); }
      c.setRsp64(sp + 8 * n);
      c.hi = popHi[n - 1];
      return;
    }
  }
  for (let k = 0; k < n; k++) { popLo[k] = c.pop(8); popHi[k] = c.hi; }
}

/**
 * The rest of IRETQ (RIP, CS and RFLAGS popped) for the case of every 64-bit kernel: from
 * CPL 0 to CPL 0, to a present, accessed, 64-bit ring-0 code segment in the GDT, with SS
 * null or a present, accessed, writable ring-0 data segment, each descriptor in one page
 * of RAM. The same accesses in the same order as iret (so the same TLB fills and faults),
 * the same checks and the same state changes. False, having made only reads that the
 * general path then repeats (finding the same translations), when the case does not apply.
 */
function iretqKernel(c: Cpu, target: number, csSel: number, fl: number): boolean {
  const phys = c.host.phys, view = phys.view;
  const csIndex = csSel & 0xfff8;
  if ((csSel & 4) !== 0 || csIndex + 7 > c.gdtLimit) return false;
  const csPa = c.spanPa(c.gdtBase + csIndex, 8, 0);
  if (csPa < 0) return false;
  const clo = view.getInt32(csPa, true), chi = view.getInt32(csPa + 4, true);
  const cattr = ((chi >>> 8) & 0xff) | ((chi >>> 8) & 0xf000);
  // Present accessed code, DPL 0 (= RPL, conforming or not), L set and D clear.
  if ((cattr & (A_S | 8 | A_P | 1 | 0x60 | A_L | A_DB)) !== (A_S | 8 | A_P | 1 | A_L)) return false;
  if (target < CANONICAL_LOW || target >= CANONICAL_HIGH) return false;
  // RSP and SS are popped next; their page is the one the first three came from, or not.
  const sp0 = c.reg64(4);
  const last = sp0 + 15;
  if (sp0 < CANONICAL_LOW || last >= CANONICAL_HIGH || Math.floor(sp0 / 4096) !== Math.floor(last / 4096)) return false;
  const stackPa = c.spanPa(sp0, 16, 0);
  if (stackPa < 0) return false;
  const sp = view.getInt32(stackPa, true), spHi = view.getInt32(stackPa + 4, true);
  const ssSel = view.getInt32(stackPa + 8, true) & 0xffff;
  let slo = 0, shi = 0, sattr = 0;
  if ((ssSel & 0xfffc) !== 0) {
    const ssIndex = ssSel & 0xfff8;
    if ((ssSel & 3) !== 0 || (ssSel & 4) !== 0 || ssIndex + 7 > c.gdtLimit) return false;
    const ssPa = c.spanPa(c.gdtBase + ssIndex, 8, 0);
    if (ssPa < 0) return false;
    slo = view.getInt32(ssPa, true); shi = view.getInt32(ssPa + 4, true);
    sattr = ((shi >>> 8) & 0xff) | ((shi >>> 8) & 0xf000);
    // Present, accessed, writable data segment of DPL 0.
    if ((sattr & (A_S | 8 | 2 | A_P | 1 | 0x60)) !== (A_S | 2 | A_P | 1)) return false;
  } else if ((ssSel & 3) !== 0) {
    return false;
  }
  // What iret does from here: pop RSP and SS, load CS, RFLAGS, SS, RSP, then the mode and RIP.
  c.setRsp64(sp0 + 16);
  c.hi = view.getInt32(stackPa + 12, true);
  // The caller runs this in 64-bit mode at CPL 0 (mode64, CPL 0, RPL 0), and the segments
  // loaded are 64-bit code and a null or DPL-0 stack: the mode and CPL stay as they are,
  // so updateMode, here or in setSegment, would change nothing (and emit nothing).
  c.setSegmentKeepingMode(CS, csSel & 0xfffc, descriptorBase(clo, chi), descriptorLimit(clo, chi, cattr), cattr);
  c.setFlags(fl, TF | NT | RF | AC | ID | 0xfd5 | IOPL | VIF | VIP | IF);
  if ((ssSel & 0xfffc) === 0) c.setSegmentKeepingMode(SS, ssSel, 0, 0, A_UNUSABLE | A_DB);
  else c.setSegmentKeepingMode(SS, ssSel, descriptorBase(slo, shi), descriptorLimit(slo, shi, sattr), sattr);
  c.setRsp64(spHi * TWO32 + (sp >>> 0));
  c.nextRip = target;
  c.nmiBlocked = false;
  return true;
}

/** IRET/IRETD/IRETQ (SDM vol. 2, IRET; operand size in bytes). */
export function iret(c: Cpu, size: number): void {
  if (c.mode === 'real') {
    const ip = c.pop(size);
    const cs = c.pop(size) & 0xffff;
    const fl = c.pop(size);
    c.setSegment(CS, cs, cs * 16, c.segLimit[CS], c.segAttr[CS]);
    c.branch(ip, size);
    const mask = size === 4 ? 0x257fd5 : 0x7fd5;
    c.setFlags(fl, mask & ~(VM | VIF | VIP));
    c.nmiBlocked = false;
    return;
  }
  if (c.mode === 'vm86') c.stopUnsupported('IRET in virtual-8086 mode');
  if (c.flags & NT && !(c.efer & (1 << 10))) c.stopUnsupported('IRET with EFLAGS.NT set (task return)');
  const quads = c.mode64 && size === 8;
  let ip: number, ipHi: number, csSel: number, fl: number;
  if (quads) {
    popStack64(c, 3);
    ip = popLo[0]; ipHi = popHi[0]; csSel = popLo[1] & 0xffff; fl = popLo[2];
  } else {
    ip = c.pop(size); ipHi = c.hi;
    csSel = c.pop(size) & 0xffff;
    fl = c.pop(size);
  }
  const rpl = csSel & 3;
  if ((csSel & 0xfffc) === 0) fault(GP, 0);
  if (quads && rpl === 0 && c.cpl === 0 && iretqKernel(c, ipHi * TWO32 + (ip >>> 0), csSel, fl)) return;
  const d = readDescriptor(c, csSel);
  if (!(d.attr & A_S) || !(d.attr & 8) || rpl < c.cpl) fault(GP, csSel & 0xfffc);
  if ((d.attr & 4) ? dpl(d.attr) > rpl : dpl(d.attr) !== rpl) fault(GP, csSel & 0xfffc);
  if (!(d.attr & A_P)) fault(NP, csSel & 0xfffc);
  if (fl & VM && c.cpl === 0 && size === 4 && !c.mode64) c.stopUnsupported('IRET to virtual-8086 mode');
  const target = size === 8 ? ipHi * TWO32 + (ip >>> 0) : size === 4 ? ip >>> 0 : ip & 0xffff;
  // Which flags IRET may change depends on CPL and IOPL (SDM vol. 2, IRET, "Operation").
  let mask = TF | NT | RF | AC | ID | 0xfd5;
  if (c.cpl === 0) mask |= IOPL | VIF | VIP | IF;
  else if (c.cpl <= ((c.flags & IOPL) >> 12)) mask |= IF;
  if (size === 2) mask &= 0xffff;
  const toOuter = rpl > c.cpl;
  if (toOuter || c.mode64) {
    // Return to outer privilege, or any IRETQ in 64-bit mode: SS:RSP are popped too.
    let sp: number, spHi: number, ssSel: number;
    if (quads) {
      popStack64(c, 2);
      sp = popLo[0]; spHi = popHi[0]; ssSel = popLo[1] & 0xffff;
    } else {
      sp = c.pop(size); spHi = c.hi;
      ssSel = c.pop(size) & 0xffff;
    }
    loadCodeSegment(c, csSel, d, rpl);
    if (!(c.mode64 || (d.attr & A_L && c.efer & (1 << 10))) && target > d.limit) fault(GP, 0);
    c.setFlags(fl, mask);
    loadStackSegment(c, ssSel, rpl);
    if (size === 8) c.setRsp64(spHi * TWO32 + (sp >>> 0));
    else if (size === 4 || c.segAttr[SS] & A_DB) c.setReg(4, 4, sp);
    else c.setReg(4, 2, sp);
    if (toOuter) {
      // Data segments the outer level may not use become null (SDM: "RETURN-TO-OUTER-PRIVILEGE-LEVEL").
      for (const s of [ES, DS, FS, GS]) {
        const a = c.segAttr[s];
        if (!(a & A_UNUSABLE) && (a & 0x1c) !== 0x1c && dpl(a) < rpl) c.setSegment(s, 0, c.segBase[s], 0, A_UNUSABLE);
      }
    }
  } else {
    if (target > d.limit && !(d.attr & A_L)) fault(GP, 0);
    loadCodeSegment(c, csSel, d, rpl);
    c.setFlags(fl, mask);
  }
  c.updateMode();
  c.branch(target, c.mode64 ? 8 : size === 2 ? 2 : 4);
  c.nmiBlocked = false;
}
