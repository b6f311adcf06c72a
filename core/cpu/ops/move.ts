// Data movement: MOV (GPR, memory, immediate, segment registers), MOVZX MOVSX MOVSXD, LEA,
// XCHG, CMOVcc, PUSH POP PUSHA POPA PUSHF POPF, LAHF SAHF, flag bit instructions,
// XLAT, ENTER LEAVE, NOP, LDS/LES/LFS/LGS/LSS.
import { Code, Mnemonic } from '../iced';
import { onCode, onMnemonic } from '../decode';
import type { Cpu } from '../cpu';
import type { Insn } from '../insn';
import { fault } from '../fault';
import { loadSegment } from '../segments';
import {
  K_REG, K_MEM, K_SEG, CF, PF, AF, ZF, SF, DF, IF, IOPL, VM, RF, AC, ID, NT, TF, CS, SS, GP, UD, RAX, RBX, RSP, RBP, VIF, VIP,
} from '../regs';
import { cond, getCF, materialize } from '../flags';

const TWO32 = 4294967296;

// ---- MOV ---------------------------------------------------------------------------------

onMnemonic(Mnemonic.Mov, (c, i) => {
  const size = i.opSize;
  if (i.k0 === K_REG) {
    if (i.k1 === K_REG) {
      const v = c.getReg(i.r1, size);
      c.setReg(i.r0, size, v, c.hi);
    } else if (i.k1 === K_MEM) {
      const v = c.readLin(c.memLin(i, size, false), size);
      c.setReg(i.r0, size, v, c.hi);
    } else {
      c.setReg(i.r0, size, i.immLo, i.immHi);
    }
    return;
  }
  const v = c.readOp(i, 1);
  c.writeOp(i, 0, v, c.hi);
});

// MOV to/from segment registers (SDM vol. 2, MOV; loading SS inhibits interrupts for one instruction).
onCode([Code.Mov_Sreg_rm16, Code.Mov_Sreg_r32m16, Code.Mov_Sreg_r64m16], (c, i) => {
  const sel = i.k1 === K_REG ? c.gpr[i.r1] & 0xffff : c.readLin16(c.memLin(i, 2, false));
  if (i.r0 === CS) fault(UD);
  loadSegment(c, i.r0, sel);
  if (i.r0 === SS) inhibitInterrupts(c);
});
onCode([Code.Mov_rm16_Sreg, Code.Mov_r32m16_Sreg, Code.Mov_r64m16_Sreg], (c, i) => {
  if (i.r1 > 5) fault(UD);
  const sel = c.segSel[i.r1];
  // A register destination is zero-extended to the operand size; memory gets 16 bits.
  if (i.k0 === K_REG) c.setReg(i.r0, i.s0 === 2 ? 2 : i.s0, sel, 0);
  else c.writeLin16(c.memLin(i, 2, true), sel);
});

export function inhibitInterrupts(c: Cpu): void {
  c.shadowUntil = c.instret + 1;
  c.attention = true;
}

onMnemonic([Mnemonic.Movzx, Mnemonic.Movsx, Mnemonic.Movsxd], (c, i) => {
  const size = i.s0;
  const srcSize = i.s1;
  let v = c.readOp(i, 1);
  if (i.mnem === Mnemonic.Movzx) {
    c.setReg(i.r0, size, v, 0);
    return;
  }
  if (srcSize === 1) v = (v << 24) >> 24;
  else if (srcSize === 2) v = (v << 16) >> 16;
  c.setReg(i.r0, size, v, v >> 31);
});

// ---- LEA: the effective address, no segment, never faults ----------------------------------

onMnemonic(Mnemonic.Lea, (c, i) => {
  const g = c.gpr;
  const size = i.opSize;
  if (i.addrSize === 8) {
    let lo: number, hi: number;
    if (i.mBase === -2) {
      const a = c.rip + i.dispLo;
      lo = a % TWO32; hi = Math.floor(a / TWO32);
    } else {
      lo = i.dispLo >>> 0; hi = i.dispHi;
      if (i.mBase >= 0) { lo += g[i.mBase] >>> 0; hi += g[i.mBase + 16]; }
      if (i.mIndex >= 0) { lo += (g[i.mIndex] >>> 0) * i.mScale; hi += g[i.mIndex + 16] * i.mScale; }
      hi += Math.floor(lo / TWO32);
    }
    c.setReg(i.r0, size, lo | 0, hi | 0);
    return;
  }
  let a = i.dispLo;
  if (i.mBase >= 0) a += g[i.mBase];
  else if (i.mBase === -2) a += c.rip;
  if (i.mIndex >= 0) a += g[i.mIndex] * i.mScale;
  a = i.addrSize === 2 ? a & 0xffff : a | 0;
  c.setReg(i.r0, size, a, 0);
});

// ---- XCHG, CMOVcc --------------------------------------------------------------------------

onMnemonic(Mnemonic.Xchg, (c, i) => {
  const size = i.opSize;
  if (i.k0 === K_REG && i.k1 === K_REG) {
    const a = c.getReg(i.r0, size), aH = c.hi;
    const b = c.getReg(i.r1, size), bH = c.hi;
    // 90 is NOP, not XCHG EAX, EAX (which would zero RAX's upper half in 64-bit mode).
    if (i.r0 === i.r1 && size === 4 && i.bytes[i.bytes.length - 1] === 0x90) return;
    c.setReg(i.r0, size, b, bH);
    c.setReg(i.r1, size, a, aH);
    return;
  }
  const memFirst = i.k0 === K_MEM;
  const reg = memFirst ? i.r1 : i.r0;
  const lin = c.memLin(i, size, true);
  const m = c.readLin(lin, size), mH = c.hi;
  const r = c.getReg(reg, size), rH = c.hi;
  c.writeLin(lin, size, r, rH);
  c.setReg(reg, size, m, mH);
});

const CMOVCC = [Mnemonic.Cmovo, Mnemonic.Cmovno, Mnemonic.Cmovb, Mnemonic.Cmovae, Mnemonic.Cmove, Mnemonic.Cmovne, Mnemonic.Cmovbe,
  Mnemonic.Cmova, Mnemonic.Cmovs, Mnemonic.Cmovns, Mnemonic.Cmovp, Mnemonic.Cmovnp, Mnemonic.Cmovl, Mnemonic.Cmovge, Mnemonic.Cmovle, Mnemonic.Cmovg];
onMnemonic(CMOVCC, (c, i) => {
  const size = i.opSize;
  const v = c.readOp(i, 1), vH = c.hi; // the source is read (and may fault) whatever the condition
  if (cond(c, i.cc)) c.setReg(i.r0, size, v, vH);
  else if (size === 4) c.gpr[i.r0 + 16] = 0; // a 32-bit destination is zero-extended even when not moved
});

// ---- stack -------------------------------------------------------------------------------

onMnemonic(Mnemonic.Push, (c, i) => {
  const size = i.opSize;
  if (i.k0 === K_SEG) return c.push(size, c.segSel[i.r0]);
  const v = c.readOp(i, 0);
  c.push(size, v, c.hi);
});

onMnemonic(Mnemonic.Pop, (c, i) => {
  const size = i.opSize;
  if (i.k0 === K_SEG) {
    if (i.r0 === CS) fault(UD);
    const sp = c.gpr[RSP], spH = c.gpr[RSP + 16];
    const sel = c.pop(size) & 0xffff;
    try { loadSegment(c, i.r0, sel); } catch (e) { c.gpr[RSP] = sp; c.gpr[RSP + 16] = spH; throw e; }
    if (i.r0 === SS) inhibitInterrupts(c);
    return;
  }
  if (i.k0 === K_REG) {
    const v = c.pop(size);
    c.setReg(i.r0, size, v, c.hi);
    return;
  }
  // POP m: the address is computed with the incremented stack pointer (SDM vol. 2, POP).
  const sp = c.gpr[RSP], spH = c.gpr[RSP + 16];
  const v = c.pop(size), vH = c.hi;
  try { c.writeOp(i, 0, v, vH); } catch (e) { c.gpr[RSP] = sp; c.gpr[RSP + 16] = spH; throw e; }
});

onMnemonic([Mnemonic.Pusha, Mnemonic.Pushad], (c, i) => {
  const size = i.opSize;
  const sp = c.gpr[RSP];
  for (let r = 0; r < 8; r++) c.push(size, r === RSP ? sp : c.gpr[r]);
});
onMnemonic([Mnemonic.Popa, Mnemonic.Popad], (c, i) => {
  const size = i.opSize;
  for (let r = 7; r >= 0; r--) {
    const v = c.pop(size);
    if (r !== RSP) c.setReg(r, size, v);
  }
});

onMnemonic([Mnemonic.Pushf, Mnemonic.Pushfd, Mnemonic.Pushfq], (c, i) => {
  if ((c.flags & VM) && ((c.flags & IOPL) >> 12) < 3) fault(GP, 0);
  // VM and RF are pushed as 0 (SDM vol. 2, PUSHF).
  c.push(i.opSize, c.getFlags() & ~(VM | RF), 0);
});

onMnemonic([Mnemonic.Popf, Mnemonic.Popfd, Mnemonic.Popfq], (c, i) => {
  const size = i.opSize;
  if ((c.flags & VM) && ((c.flags & IOPL) >> 12) < 3) fault(GP, 0);
  const v = c.pop(size);
  // Which bits POPF may change depends on CPL and IOPL (SDM vol. 2, POPF).
  let mask = CF | PF | AF | ZF | SF | TF | DF | 0x800 | NT | AC | ID;
  if (c.mode === 'real' || c.cpl === 0) mask |= IOPL | IF;
  else if (c.cpl <= ((c.flags & IOPL) >> 12)) mask |= IF;
  if (size === 2) mask &= 0xffff;
  c.setFlags(v & ~(VIF | VIP | VM | RF), mask);
});

onMnemonic(Mnemonic.Lahf, (c) => {
  const f = c.getFlags();
  c.setReg(16, 1, (f & (SF | ZF | AF | PF | CF)) | 2);
});
onMnemonic(Mnemonic.Sahf, (c) => {
  const ah = (c.gpr[RAX] >> 8) & 0xff;
  c.setFlags(ah, SF | ZF | AF | PF | CF);
});

onMnemonic(Mnemonic.Clc, (c) => { materialize(c); c.flags &= ~CF; });
onMnemonic(Mnemonic.Stc, (c) => { materialize(c); c.flags |= CF; });
onMnemonic(Mnemonic.Cmc, (c) => { const cf = getCF(c); materialize(c); c.flags = (c.flags & ~CF) | (cf ^ CF); });
onMnemonic(Mnemonic.Cld, (c) => { c.flags &= ~DF; });
onMnemonic(Mnemonic.Std, (c) => { c.flags |= DF; });

onMnemonic(Mnemonic.Xlatb, (c, i) => {
  const g = c.gpr;
  const al = g[RAX] & 0xff;
  let lin: number;
  if (c.mode64) lin = i.addrSize === 8 ? c.canonical(c.reg64(RBX) + al + (i.mSeg >= 4 ? c.segBase[i.mSeg] : 0), i.mSeg) : ((g[RBX] + al) >>> 0);
  else lin = c.segLin(i.mSeg, i.addrSize === 2 ? (g[RBX] + al) & 0xffff : (g[RBX] + al) >>> 0, 1, false);
  c.setReg(RAX, 1, c.readLin8(lin));
});

onMnemonic(Mnemonic.Leave, (c, i) => {
  const ss = c.stackSize();
  if (ss === 8) { c.gpr[RSP] = c.gpr[RBP]; c.gpr[RSP + 16] = c.gpr[RBP + 16]; }
  else if (ss === 4) c.setReg(RSP, 4, c.gpr[RBP]);
  else c.setReg(RSP, 2, c.gpr[RBP]);
  const v = c.pop(i.opSize);
  c.setReg(RBP, i.opSize, v, c.hi);
});

onMnemonic(Mnemonic.Enter, (c, i) => {
  const size = i.opSize;
  const alloc = i.immLo & 0xffff;
  const level = i.imm2 & 31;
  const ss = c.stackSize();
  const bp = c.gpr[RBP], bpH = c.gpr[RBP + 16];
  c.push(size, bp, bpH);
  const frameLo = c.gpr[RSP], frameHi = c.gpr[RSP + 16];
  if (level > 0) {
    // Nested frames: copy level-1 frame pointers from the enclosing frame, then push the new one.
    let p = ss === 8 ? c.reg64(RBP) : bp >>> 0;
    for (let k = 1; k < level; k++) {
      p -= size;
      const lin = ss === 8 ? c.canonical(p, SS) : c.segLin(SS, (ss === 4 ? p >>> 0 : p & 0xffff), size, false);
      const v = c.readLin(lin, size);
      c.push(size, v, c.hi);
    }
    c.push(size, frameLo, frameHi);
  }
  if (ss === 8) { c.setReg(RBP, 8, frameLo, frameHi); c.setRsp64(c.reg64(RSP) - alloc); }
  else if (ss === 4) { c.setReg(RBP, size === 2 ? 2 : 4, frameLo); c.gpr[RSP] = (c.gpr[RSP] - alloc) | 0; }
  else { c.setReg(RBP, 2, frameLo); c.setReg(RSP, 2, c.gpr[RSP] - alloc); }
});

onMnemonic(Mnemonic.Nop, () => {});
onMnemonic([Mnemonic.Prefetchnta, Mnemonic.Prefetcht0, Mnemonic.Prefetcht1, Mnemonic.Prefetcht2, Mnemonic.Prefetchw,
  Mnemonic.Endbr32, Mnemonic.Endbr64], () => {});

// LDS/LES/LFS/LGS/LSS: load a far pointer (offset, then selector).
function loadFarPointer(seg: number) {
  return (c: Cpu, i: Insn): void => {
    const size = i.opSize;
    const lin = c.memLin(i, size + 2, false);
    const off = c.readLin(lin, size), offH = c.hi;
    const sel = c.readLin16(lin + size);
    loadSegment(c, seg, sel);
    c.setReg(i.r0, size, off, offH);
    if (seg === SS) inhibitInterrupts(c);
  };
}
onMnemonic(Mnemonic.Lds, loadFarPointer(3));
onMnemonic(Mnemonic.Les, loadFarPointer(0));
onMnemonic(Mnemonic.Lfs, loadFarPointer(4));
onMnemonic(Mnemonic.Lgs, loadFarPointer(5));
onMnemonic(Mnemonic.Lss, loadFarPointer(SS));
