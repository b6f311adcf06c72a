// Control transfer: JMP, Jcc, CALL, RET, far forms, LOOP/LOOPcc, JrCXZ, INT n/INT3/INTO/INT1,
// BOUND, IRET, HLT.
import { Code, Mnemonic } from '../iced';
import { onCode, onMnemonic } from '../decode';
import type { Cpu } from '../cpu';
import type { Insn } from '../insn';
import { noteReturn } from '../insn';
import { fault } from '../fault';
import { cond, getOF, getZF } from '../flags';
import { deliverEvent, EventKind, iret } from '../interrupts';
import { NO_QUALIFICATION } from '../../vmm/types';
import { farJump, readDescriptor, checkCodePrivilege, loadCodeSegment, loadStackSegment, dpl } from '../segments';
import { K_NONE, K_REG, K_MEM, CS, SS, ES, DS, FS, GS, GP, BR, UD, RCX, RSP, A_L, A_S, A_UNUSABLE, A_DB } from '../regs';

const TWO32 = 4294967296;

/** Target of a relative branch. */
function relTarget(c: Cpu, i: Insn): number {
  return c.rip + i.len + i.rel;
}

onMnemonic(Mnemonic.Jmp, (c, i) => {
  if (i.k0 === K_NONE) {
    if (i.farSel !== 0 || i.code === Code.Jmp_ptr1616 || i.code === Code.Jmp_ptr1632) return farJump(c, i.farSel, i.farOff, i.opSize);
    return c.branch(relTarget(c, i), i.opSize);
  }
  const t = c.readOp(i, 0);
  c.branch(i.opSize === 8 ? c.hi * TWO32 + (t >>> 0) : t >>> 0, i.opSize);
});

// JMP FAR m16:16/32/64.
onCode([Code.Jmp_m1616, Code.Jmp_m1632, Code.Jmp_m1664], (c, i) => {
  const size = i.opSize;
  const lin = c.memLin(i, size + 2, false);
  const off = c.readLin(lin, size), offH = c.hi;
  const sel = c.readLin16(lin + size);
  farJump(c, sel, size === 8 ? offH * TWO32 + (off >>> 0) : off >>> 0, size);
});

const JCC = [Mnemonic.Jo, Mnemonic.Jno, Mnemonic.Jb, Mnemonic.Jae, Mnemonic.Je, Mnemonic.Jne, Mnemonic.Jbe, Mnemonic.Ja,
  Mnemonic.Js, Mnemonic.Jns, Mnemonic.Jp, Mnemonic.Jnp, Mnemonic.Jl, Mnemonic.Jge, Mnemonic.Jle, Mnemonic.Jg];
onMnemonic(JCC, (c, i) => {
  if (cond(c, i.cc)) c.branch(relTarget(c, i), i.opSize);
});

onMnemonic(Mnemonic.Call, (c, i) => {
  const size = i.opSize;
  if (i.k0 === K_NONE) {
    if (i.code === Code.Call_ptr1616 || i.code === Code.Call_ptr1632) return farCall(c, i.farSel, i.farOff, size);
    const target = relTarget(c, i);
    const ret = c.nextRip;
    pushIp(c, size, ret);
    c.branch(target, size);
    return;
  }
  const t = c.readOp(i, 0);
  const target = size === 8 ? c.hi * TWO32 + (t >>> 0) : t >>> 0;
  pushIp(c, size, c.nextRip);
  c.branch(target, size);
});

onCode([Code.Call_m1616, Code.Call_m1632, Code.Call_m1664], (c, i) => {
  const size = i.opSize;
  const lin = c.memLin(i, size + 2, false);
  const off = c.readLin(lin, size), offH = c.hi;
  const sel = c.readLin16(lin + size);
  farCall(c, sel, size === 8 ? offH * TWO32 + (off >>> 0) : off >>> 0, size);
});

function pushIp(c: Cpu, size: number, ip: number): void {
  if (size === 8) c.push(8, ip | 0, Math.floor(ip / TWO32) | 0);
  else c.push(size, ip);
}

function farCall(c: Cpu, sel: number, off: number, size: number): void {
  const oldCs = c.segSel[CS];
  const ret = c.nextRip;
  if (c.mode === 'real' || c.mode === 'vm86') {
    c.push(size, oldCs);
    c.push(size, ret);
    c.setSegment(CS, sel, sel * 16, c.segLimit[CS], c.segAttr[CS]);
    c.nextRip = size === 2 ? off & 0xffff : off >>> 0;
    return;
  }
  if ((sel & 0xfffc) === 0) fault(GP, 0);
  const d = readDescriptor(c, sel);
  if (!(d.attr & A_S)) c.stopUnsupported(`far CALL through a system descriptor (type ${d.attr & 0xf}: call gate or task switch)`);
  checkCodePrivilege(c, sel, d);
  if (!(d.attr & A_L) && off > d.limit) fault(GP, 0);
  // Push with the old CS still loaded (stack faults leave CS unchanged).
  const sp = c.gpr[RSP], spH = c.gpr[RSP + 16];
  try {
    c.push(size, oldCs);
    pushIp(c, size, ret);
  } catch (e) { c.gpr[RSP] = sp; c.gpr[RSP + 16] = spH; throw e; }
  loadCodeSegment(c, sel, d, c.cpl);
  c.nextRip = off;
}

onMnemonic(Mnemonic.Ret, (c, i) => {
  const size = i.opSize;
  const ip = c.pop(size);
  const target = size === 8 ? c.hi * TWO32 + (ip >>> 0) : ip >>> 0;
  if (i.nops > 0) releaseStack(c, i.immLo & 0xffff);
  noteReturn(i, target);
  c.branch(target, size);
});

function releaseStack(c: Cpu, n: number): void {
  const ss = c.stackSize();
  if (ss === 8) c.setRsp64(c.reg64(RSP) + n);
  else if (ss === 4) c.gpr[RSP] = (c.gpr[RSP] + n) | 0;
  else c.setReg(RSP, 2, c.gpr[RSP] + n);
}

onMnemonic(Mnemonic.Retf, (c, i) => {
  const size = i.opSize;
  const ip = c.pop(size), ipH = c.hi;
  const sel = c.pop(size) & 0xffff;
  const target = size === 8 ? ipH * TWO32 + (ip >>> 0) : size === 4 ? ip >>> 0 : ip & 0xffff;
  const n = i.nops > 0 ? i.immLo & 0xffff : 0;
  if (c.mode === 'real' || c.mode === 'vm86') {
    c.setSegment(CS, sel, sel * 16, c.segLimit[CS], c.segAttr[CS]);
    releaseStack(c, n);
    c.nextRip = target;
    return;
  }
  if ((sel & 0xfffc) === 0) fault(GP, 0);
  const d = readDescriptor(c, sel);
  const rpl = sel & 3;
  if (!(d.attr & A_S) || !(d.attr & 8) || rpl < c.cpl) fault(GP, sel & 0xfffc);
  if ((d.attr & 4) ? dpl(d.attr) > rpl : dpl(d.attr) !== rpl) fault(GP, sel & 0xfffc);
  if (rpl > c.cpl) {
    // Return to an outer privilege level: SS:rSP follow on the stack.
    releaseStack(c, n);
    const sp = c.pop(size), spH = c.hi;
    const ss = c.pop(size) & 0xffff;
    loadCodeSegment(c, sel, d, rpl);
    loadStackSegment(c, ss, rpl);
    if (size === 8) c.setRsp64(spH * TWO32 + (sp >>> 0)); else c.setReg(RSP, c.segAttr[SS] & A_DB ? 4 : 2, sp);
    for (const s of [ES, DS, FS, GS]) {
      const a = c.segAttr[s];
      if (!(a & A_UNUSABLE) && (a & 0x1c) !== 0x1c && dpl(a) < rpl) c.setSegment(s, 0, c.segBase[s], 0, A_UNUSABLE);
    }
  } else {
    loadCodeSegment(c, sel, d, c.cpl);
  }
  releaseStack(c, rpl > c.cpl ? 0 : n);
  c.updateMode();
  c.branch(target, c.mode64 ? 8 : size);
});

// LOOP/LOOPE/LOOPNE decrement the counter selected by the address size.
function loop(kind: number) {
  return (c: Cpu, i: Insn): void => {
    let zero: boolean;
    if (i.addrSize === 8) {
      let lo = c.gpr[RCX], hi = c.gpr[RCX + 16];
      if (lo === 0) hi = (hi - 1) | 0;
      lo = (lo - 1) | 0;
      c.gpr[RCX] = lo; c.gpr[RCX + 16] = hi;
      zero = (lo | hi) === 0;
    } else if (i.addrSize === 4) {
      c.setReg(RCX, 4, c.gpr[RCX] - 1);
      zero = c.gpr[RCX] === 0;
    } else {
      c.setReg(RCX, 2, c.gpr[RCX] - 1);
      zero = (c.gpr[RCX] & 0xffff) === 0;
    }
    let take = !zero;
    if (kind === 1) take = take && getZF(c) !== 0;
    else if (kind === 2) take = take && getZF(c) === 0;
    if (take) c.branch(relTarget(c, i), i.opSize);
  };
}
onMnemonic(Mnemonic.Loop, loop(0));
onMnemonic(Mnemonic.Loope, loop(1));
onMnemonic(Mnemonic.Loopne, loop(2));

onMnemonic(Mnemonic.Jcxz, (c, i) => { if ((c.gpr[RCX] & 0xffff) === 0) c.branch(relTarget(c, i), i.opSize); });
onMnemonic(Mnemonic.Jecxz, (c, i) => { if (c.gpr[RCX] === 0) c.branch(relTarget(c, i), i.opSize); });
onMnemonic(Mnemonic.Jrcxz, (c, i) => { if ((c.gpr[RCX] | c.gpr[RCX + 16]) === 0) c.branch(relTarget(c, i), i.opSize); });

// ---- software interrupts, IRET, HLT --------------------------------------------------------

onMnemonic(Mnemonic.Int, (c, i) => deliverEvent(c, i.immLo & 0xff, null, EventKind.Software));
onMnemonic(Mnemonic.Int3, (c) => deliverEvent(c, 3, null, EventKind.SoftwareException));
onMnemonic(Mnemonic.Into, (c) => { if (getOF(c)) deliverEvent(c, 4, null, EventKind.SoftwareException); });
onMnemonic(Mnemonic.Int1, (c) => deliverEvent(c, 1, null, EventKind.External));

// BOUND r16/r32, m16&16 / m32&32 (SDM vol. 2, BOUND): both bounds are read (so a #GP or #PF on
// the operand comes first), then the signed index must lie within [lower, upper], else #BR.
// Not encodable in 64-bit mode (62h is the EVEX prefix there); #UD if it ever reaches us.
onMnemonic(Mnemonic.Bound, (c, i) => {
  if (c.mode64) fault(UD);
  const size = i.opSize;
  // One segmentation check covers both bounds (an operand past the limit is #GP/#SS).
  const lin = c.memLin(i, size * 2, false);
  let lower: number, upper: number, index: number;
  if (size === 2) {
    lower = (c.readLin16(lin) << 16) >> 16;
    upper = (c.readLin16((lin + 2) >>> 0) << 16) >> 16;
    index = (c.gpr[i.r0] << 16) >> 16;
  } else {
    lower = c.readLin32(lin);
    upper = c.readLin32((lin + 4) >>> 0);
    index = c.gpr[i.r0];
  }
  if (index < lower || index > upper) fault(BR);
});

onMnemonic([Mnemonic.Iret, Mnemonic.Iretd, Mnemonic.Iretq], (c, i) => iret(c, i.opSize || (i.mnem === Mnemonic.Iretq ? 8 : i.mnem === Mnemonic.Iretd ? 4 : 2)));

onMnemonic(Mnemonic.Hlt, (c) => {
  if (c.cpl !== 0) fault(GP, 0);
  c.activity = 'hlt';
  c.attention = true;
  if (c.host.vmExit) c.host.vmExit(c.index, 'HLT', NO_QUALIFICATION);
  if (c.host.events.active) c.host.events.emit(c.index, 'vcpu.state', { from: 'active', to: 'hlt' });
});

void K_REG; void K_MEM; void SS;
