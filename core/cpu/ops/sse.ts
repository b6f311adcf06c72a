// Instruction family: SSE/SSE2 integer and data-movement instructions on XMM registers,
// MXCSR, FXSAVE/FXRSTOR, and the x87 control instructions kernels and gcc use (FNINIT,
// FLDCW, FNSTCW, FNSTSW, FNCLEX, FWAIT, EMMS). This is what gcc -O2 emits for
// freestanding code (block copies, memset, vectorised integer loops) and what kernels
// do to save and restore vector state.
//
// Floating-point arithmetic (ADDSS, MULSD, CVTSI2SD...) and the MMX (mm register) forms
// are deliberately left unregistered: they stop the VM as unsupported rather than guess.
//
// Exceptions (SDM vol. 3, 13.1 and each instruction's "SIMD Floating-Point Exceptions"
// and protected-mode tables): #UD when CR0.EM=1 or CR4.OSFXSR=0, then #NM when CR0.TS=1,
// before any memory access; legacy-SSE 128-bit memory operands must be 16-byte aligned
// (#GP(0)) except for the explicitly unaligned moves MOVDQU/MOVUPS/MOVUPD.
//
// c.xmm holds register n in dwords [4n..4n+3], least significant first. Operations work
// on three 16-byte scratch values with lane views (typed arrays use the host's byte
// order; every host Node runs on for us is little-endian, as x86 is: checked below).
import { Code } from '../iced';
import type { Cpu } from '../cpu';
import type { Insn, Handler } from '../insn';
import { onCode } from '../decode';
import { fault } from '../fault';
import { CR0_EM, CR0_MP, CR0_NE, CR0_TS, CR4_OSFXSR, GP, K_MEM, K_XMM, MF, NM, RAX, UD } from '../regs';

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error('sse.ts assumes a little-endian host');

/** MXCSR bits this CPU supports, as FXSAVE reports them (DAZ, bit 6, unsupported). */
export const MXCSR_MASK = 0xffbf;

interface V128 { i32: Int32Array; u32: Uint32Array; i16: Int16Array; u16: Uint16Array; i8: Int8Array; u8: Uint8Array }

function v128(): V128 {
  const b = new ArrayBuffer(16);
  return { i32: new Int32Array(b), u32: new Uint32Array(b), i16: new Int16Array(b), u16: new Uint16Array(b), i8: new Int8Array(b), u8: new Uint8Array(b) };
}

/** Destination (first operand), source (second operand) and result. */
const A = v128(), B = v128(), R = v128();

// ---- checks and operand access ------------------------------------------------------------------

/**
 * The checks every SSE/SSE2 instruction makes first (SDM vol. 3, 13.1.4 and the table "Action Taken
 * for Combinations of OSFXSR, OSXMMEXCPT, SSE, SSE2, SSE3, EM, MP, and TS").
 */
function sseCheck(c: Cpu): void {
  if (c.cr0 & CR0_EM || !(c.cr4 & CR4_OSFXSR)) fault(UD);
  if (c.cr0 & CR0_TS) fault(NM);
}

/** x87 control instructions: #NM when CR0.EM or CR0.TS is set (SDM vol. 3, 2.5, "Action Taken By x87 FPU Instructions for Different Combinations of EM, MP, and TS"). */
function x87Check(c: Cpu): void {
  if (c.cr0 & (CR0_EM | CR0_TS)) fault(NM);
}

function wrapLin(c: Cpu, lin: number): number {
  return c.mode64 ? lin : lin >>> 0;
}

/** First byte of the page after lin's. */
function nextPage(c: Cpu, lin: number): number {
  return wrapLin(c, lin - (lin & 0xfff) + 4096);
}

function readMem128(c: Cpu, lin: number, out: Int32Array): void {
  if ((lin & 0xfff) <= 0xff0) {
    const pa = c.translate(lin, 0);
    const phys = c.host.phys;
    out[0] = phys.read32(pa); out[1] = phys.read32(pa + 4); out[2] = phys.read32(pa + 8); out[3] = phys.read32(pa + 12);
    return;
  }
  for (let k = 0; k < 4; k++) out[k] = c.readLin32(wrapLin(c, lin + 4 * k));
}

function writeMem128(c: Cpu, lin: number, src: Int32Array, off: number): void {
  if ((lin & 0xfff) <= 0xff0) {
    const pa = c.translate(lin, 1);
    const phys = c.host.phys;
    phys.write32(pa, src[off]); phys.write32(pa + 4, src[off + 1]); phys.write32(pa + 8, src[off + 2]); phys.write32(pa + 12, src[off + 3]);
    return;
  }
  // Both pages must be writable before anything is written (no partial store on #PF);
  // a fault on the second page reports its first byte in CR2, as a byte-wise access would.
  c.translate(lin, 1); c.translate(nextPage(c, lin), 1);
  for (let k = 0; k < 4; k++) c.writeLin32(wrapLin(c, lin + 4 * k), src[off + k]);
}

/** Linear address of a 16-byte memory operand; `aligned`: #GP(0) unless 16-byte aligned. */
function lin128(c: Cpu, i: Insn, write: boolean, aligned: boolean): number {
  const lin = c.memLin(i, 16, write);
  if (aligned && (lin & 15) !== 0) fault(GP, 0);
  return lin;
}

/** Loads the second operand (xmm or m128) into v. */
function loadSrc(c: Cpu, i: Insn, v: V128, aligned: boolean): void {
  if (i.k1 === K_XMM) {
    const x = c.xmm, r = i.r1 * 4;
    v.i32[0] = x[r]; v.i32[1] = x[r + 1]; v.i32[2] = x[r + 2]; v.i32[3] = x[r + 3];
  } else {
    readMem128(c, lin128(c, i, false, aligned), v.i32);
  }
}

function loadXmm(c: Cpu, reg: number, v: V128): void {
  const x = c.xmm, r = reg * 4;
  v.i32[0] = x[r]; v.i32[1] = x[r + 1]; v.i32[2] = x[r + 2]; v.i32[3] = x[r + 3];
}

function storeXmm(c: Cpu, reg: number, v: V128): void {
  const x = c.xmm, r = reg * 4;
  x[r] = v.i32[0]; x[r + 1] = v.i32[1]; x[r + 2] = v.i32[2]; x[r + 3] = v.i32[3];
}

function setXmm(c: Cpu, reg: number, d0: number, d1: number, d2: number, d3: number): void {
  const x = c.xmm, r = reg * 4;
  x[r] = d0; x[r + 1] = d1; x[r + 2] = d2; x[r + 3] = d3;
}

/** xmm1 = op(xmm1, xmm2/m128): A = destination, B = source, R = result. */
function binary(op: () => void): Handler {
  return (c, i) => {
    sseCheck(c);
    loadSrc(c, i, B, true);
    loadXmm(c, i.r0, A);
    op();
    storeXmm(c, i.r0, R);
  };
}

/** xmm1 = op(xmm2/m128, imm8) (PSHUFD and friends): B = source. */
function shuffleImm(op: (imm: number) => void): Handler {
  return (c, i) => {
    sseCheck(c);
    loadSrc(c, i, B, true);
    loadXmm(c, i.r0, A);
    op(i.immLo & 0xff);
    storeXmm(c, i.r0, R);
  };
}

// ---- moves -----------------------------------------------------------------------------------

function movLoad(aligned: boolean): Handler {
  return (c, i) => {
    sseCheck(c);
    loadSrc(c, i, R, aligned);
    storeXmm(c, i.r0, R);
  };
}

function movStore(aligned: boolean): Handler {
  return (c, i) => {
    sseCheck(c);
    if (i.k0 === K_XMM) {
      loadXmm(c, i.r1, R);
      storeXmm(c, i.r0, R);
    } else {
      writeMem128(c, lin128(c, i, true, aligned), c.xmm, i.r1 * 4);
    }
  };
}

/** MOVD/MOVQ xmm, r/m32 or r/m64: zero-extends into the register. */
function movdToXmm(c: Cpu, i: Insn): void {
  sseCheck(c);
  const lo = c.readOp(i, 1);
  setXmm(c, i.r0, lo, i.s1 === 8 ? c.hi : 0, 0, 0);
}

/** MOVD/MOVQ r/m32 or r/m64, xmm. */
function movdFromXmm(c: Cpu, i: Insn): void {
  sseCheck(c);
  const r = i.r1 * 4;
  c.writeOp(i, 0, c.xmm[r], c.xmm[r + 1]);
}

/** MOVQ xmm, xmm/m64 (F3 0F 7E): the upper quadword is cleared. */
function movqLoad(c: Cpu, i: Insn): void {
  sseCheck(c);
  let lo: number, hi: number;
  if (i.k1 === K_XMM) { lo = c.xmm[i.r1 * 4]; hi = c.xmm[i.r1 * 4 + 1]; }
  else { lo = c.readLin64(c.memLin(i, 8, false)); hi = c.hi; }
  setXmm(c, i.r0, lo, hi, 0, 0);
}

/** MOVQ xmm/m64, xmm (66 0F D6): a register destination has its upper quadword cleared. */
function movqStore(c: Cpu, i: Insn): void {
  sseCheck(c);
  const s = i.r1 * 4, lo = c.xmm[s], hi = c.xmm[s + 1];
  if (i.k0 === K_XMM) setXmm(c, i.r0, lo, hi, 0, 0);
  else c.writeLin64(c.memLin(i, 8, true), lo, hi);
}

/** MOVLPS/MOVLPD/MOVHPS/MOVHPD xmm, m64 (half = 0 low, 1 high): the other half is kept. */
function movHalfLoad(half: number): Handler {
  return (c, i) => {
    sseCheck(c);
    const lo = c.readLin64(c.memLin(i, 8, false)), hi = c.hi;
    const r = i.r0 * 4 + half * 2;
    c.xmm[r] = lo; c.xmm[r + 1] = hi;
  };
}

function movHalfStore(half: number): Handler {
  return (c, i) => {
    sseCheck(c);
    const r = i.r1 * 4 + half * 2;
    c.writeLin64(c.memLin(i, 8, true), c.xmm[r], c.xmm[r + 1]);
  };
}

/** MOVHLPS (from = 2, to = 0) and MOVLHPS (from = 0, to = 2): one quadword between registers. */
function movQuadReg(from: number, to: number): Handler {
  return (c, i) => {
    sseCheck(c);
    const s = i.r1 * 4 + from, d = i.r0 * 4 + to;
    const lo = c.xmm[s], hi = c.xmm[s + 1];
    c.xmm[d] = lo; c.xmm[d + 1] = hi;
  };
}

/** MOVSS (dwords = 1) / MOVSD (dwords = 2) loads: from memory the rest is cleared, between registers kept. */
function movScalarLoad(dwords: number): Handler {
  return (c, i) => {
    sseCheck(c);
    const d = i.r0 * 4;
    if (i.k1 === K_XMM) {
      const s = i.r1 * 4;
      c.xmm[d] = c.xmm[s];
      if (dwords === 2) c.xmm[d + 1] = c.xmm[s + 1];
    } else if (dwords === 1) {
      setXmm(c, i.r0, c.readLin32(c.memLin(i, 4, false)), 0, 0, 0);
    } else {
      const lo = c.readLin64(c.memLin(i, 8, false));
      setXmm(c, i.r0, lo, c.hi, 0, 0);
    }
  };
}

function movScalarStore(dwords: number): Handler {
  return (c, i) => {
    sseCheck(c);
    const s = i.r1 * 4;
    if (i.k0 === K_XMM) {
      const d = i.r0 * 4;
      c.xmm[d] = c.xmm[s];
      if (dwords === 2) c.xmm[d + 1] = c.xmm[s + 1];
    } else if (dwords === 1) {
      c.writeLin32(c.memLin(i, 4, true), c.xmm[s]);
    } else {
      c.writeLin64(c.memLin(i, 8, true), c.xmm[s], c.xmm[s + 1]);
    }
  };
}

/** MOVNTI m32/m64, r32/r64: a plain store here (no caches to bypass); not subject to CR0/CR4 SSE checks. */
function movnti(c: Cpu, i: Insn): void {
  const v = c.readOp(i, 1);
  c.writeOp(i, 0, v, c.hi);
}

/** PMOVMSKB / MOVMSKPS / MOVMSKPD: the sign bits of each byte, dword or qword into a GPR (upper bits cleared). */
function moveMask(lane: 1 | 4 | 8): Handler {
  return (c, i) => {
    sseCheck(c);
    loadXmm(c, i.r1, B);
    let m = 0;
    if (lane === 1) for (let k = 0; k < 16; k++) m |= (B.u8[k] >>> 7) << k;
    else if (lane === 4) for (let k = 0; k < 4; k++) m |= (B.i32[k] >>> 31) << k;
    else m = (B.i32[1] >>> 31) | ((B.i32[3] >>> 31) << 1);
    c.setReg(i.r0, 4, m);
  };
}

function pextrw(c: Cpu, i: Insn): void {
  sseCheck(c);
  loadXmm(c, i.r1, B);
  c.setReg(i.r0, 4, B.u16[i.immLo & 7]);
}

function pinsrw(c: Cpu, i: Insn): void {
  sseCheck(c);
  const v = c.readOp(i, 1); // r32/r64 (low word used) or m16
  loadXmm(c, i.r0, R);
  R.u16[i.immLo & 7] = v;
  storeXmm(c, i.r0, R);
}

// ---- packed integer arithmetic ------------------------------------------------------------------

const sat8 = (v: number) => (v > 127 ? 127 : v < -128 ? -128 : v);
const satU8 = (v: number) => (v > 255 ? 255 : v < 0 ? 0 : v);
const sat16 = (v: number) => (v > 32767 ? 32767 : v < -32768 ? -32768 : v);
const satU16 = (v: number) => (v > 65535 ? 65535 : v < 0 ? 0 : v);

/** 64-bit lanes: add or subtract quadwords k = 0, 1 as (lo, hi) int32 pairs. */
function addQ(sub: boolean): void {
  for (let q = 0; q < 4; q += 2) {
    const a = A.u32[q], b = B.u32[q];
    if (sub) {
      R.i32[q] = (a - b) | 0;
      R.i32[q + 1] = (A.i32[q + 1] - B.i32[q + 1] - (a < b ? 1 : 0)) | 0;
    } else {
      const lo = a + b;
      R.i32[q] = lo | 0;
      R.i32[q + 1] = (A.i32[q + 1] + B.i32[q + 1] + (lo > 0xffffffff ? 1 : 0)) | 0;
    }
  }
}

/** PMULUDQ: unsigned 32x32 -> 64 products of the even dwords, in 16-bit pieces to stay exact. */
function pmuludq(): void {
  for (let q = 0; q < 4; q += 2) {
    const a = A.u32[q], b = B.u32[q];
    const aL = a & 0xffff, aH = a >>> 16, bL = b & 0xffff, bH = b >>> 16;
    const ll = aL * bL, hl = aH * bL, lh = aL * bH, hh = aH * bH;
    const mid = (ll >>> 16) + (hl & 0xffff) + (lh & 0xffff);
    R.i32[q] = ((mid & 0xffff) << 16) | (ll & 0xffff);
    R.i32[q + 1] = (hh + (hl >>> 16) + (lh >>> 16) + (mid >>> 16)) | 0;
  }
}

function psadbw(): void {
  for (let q = 0; q < 16; q += 8) {
    let sum = 0;
    for (let k = q; k < q + 8; k++) sum += Math.abs(A.u8[k] - B.u8[k]);
    R.i32[q >> 2] = sum;
    R.i32[(q >> 2) + 1] = 0;
  }
}

function pmaddwd(): void {
  // The only overflow, all four words -32768, wraps to 0x80000000 as on hardware.
  for (let k = 0; k < 4; k++) R.i32[k] = (A.i16[2 * k] * B.i16[2 * k] + A.i16[2 * k + 1] * B.i16[2 * k + 1]) | 0;
}

// ---- shuffles, unpacks and packs --------------------------------------------------------------

/** PUNPCKL/H: interleave lanes of `lane` bytes from the low (high = false) or high half of A and B. */
function unpack(lane: 1 | 2 | 4 | 8, high: boolean): () => void {
  return () => {
    if (lane === 8) {
      const o = high ? 2 : 0;
      R.i32[0] = A.i32[o]; R.i32[1] = A.i32[o + 1]; R.i32[2] = B.i32[o]; R.i32[3] = B.i32[o + 1];
      return;
    }
    const n = 16 / lane, half = n / 2, base = high ? half : 0;
    const a = lane === 1 ? A.u8 : lane === 2 ? A.u16 : A.i32;
    const b = lane === 1 ? B.u8 : lane === 2 ? B.u16 : B.i32;
    const r = lane === 1 ? R.u8 : lane === 2 ? R.u16 : R.i32;
    for (let k = 0; k < half; k++) { r[2 * k] = a[base + k]; r[2 * k + 1] = b[base + k]; }
  };
}

function packsswb(): void { for (let k = 0; k < 8; k++) { R.i8[k] = sat8(A.i16[k]); R.i8[k + 8] = sat8(B.i16[k]); } }
function packuswb(): void { for (let k = 0; k < 8; k++) { R.u8[k] = satU8(A.i16[k]); R.u8[k + 8] = satU8(B.i16[k]); } }
function packssdw(): void { for (let k = 0; k < 4; k++) { R.i16[k] = sat16(A.i32[k]); R.i16[k + 4] = sat16(B.i32[k]); } }

function pshufd(imm: number): void { for (let k = 0; k < 4; k++) R.i32[k] = B.i32[(imm >> (2 * k)) & 3]; }
function pshuflw(imm: number): void {
  for (let k = 0; k < 4; k++) R.u16[k] = B.u16[(imm >> (2 * k)) & 3];
  R.i32[2] = B.i32[2]; R.i32[3] = B.i32[3];
}
function pshufhw(imm: number): void {
  R.i32[0] = B.i32[0]; R.i32[1] = B.i32[1];
  for (let k = 0; k < 4; k++) R.u16[4 + k] = B.u16[4 + ((imm >> (2 * k)) & 3)];
}
function shufps(imm: number): void {
  R.i32[0] = A.i32[imm & 3]; R.i32[1] = A.i32[(imm >> 2) & 3];
  R.i32[2] = B.i32[(imm >> 4) & 3]; R.i32[3] = B.i32[(imm >> 6) & 3];
}
function shufpd(imm: number): void {
  const a = (imm & 1) * 2, b = ((imm >> 1) & 1) * 2;
  R.i32[0] = A.i32[a]; R.i32[1] = A.i32[a + 1]; R.i32[2] = B.i32[b]; R.i32[3] = B.i32[b + 1];
}

// ---- shifts ------------------------------------------------------------------------------------

const SH_LL = 0, SH_RL = 1, SH_RA = 2;

/** Shifts A's lanes of `lane` bytes by `n` into R; counts past the lane width clear (or fill with the sign). */
function shiftLanes(lane: 2 | 4 | 8, kind: number, n: number): void {
  const bits = lane * 8;
  if (n >= bits) {
    if (kind !== SH_RA) { R.i32.fill(0); return; }
    n = bits - 1;
  }
  if (lane === 2) {
    for (let k = 0; k < 8; k++) R.u16[k] = kind === SH_LL ? A.u16[k] << n : kind === SH_RL ? A.u16[k] >>> n : A.i16[k] >> n;
  } else if (lane === 4) {
    for (let k = 0; k < 4; k++) R.i32[k] = kind === SH_LL ? A.i32[k] << n : kind === SH_RL ? A.i32[k] >>> n : A.i32[k] >> n;
  } else {
    for (let q = 0; q < 4; q += 2) {
      const lo = A.i32[q], hi = A.i32[q + 1];
      if (n === 0) { R.i32[q] = lo; R.i32[q + 1] = hi; }
      else if (kind === SH_LL) {
        R.i32[q] = n >= 32 ? 0 : lo << n;
        R.i32[q + 1] = n >= 32 ? lo << (n - 32) : (hi << n) | (lo >>> (32 - n));
      } else {
        R.i32[q] = n >= 32 ? hi >>> (n - 32) : (lo >>> n) | (hi << (32 - n));
        R.i32[q + 1] = n >= 32 ? 0 : hi >>> n;
      }
    }
  }
}

/** PSxxW/D/Q xmm, imm8. */
function shiftImm(lane: 2 | 4 | 8, kind: number): Handler {
  return (c, i) => {
    sseCheck(c);
    loadXmm(c, i.r0, A);
    shiftLanes(lane, kind, i.immLo & 0xff);
    storeXmm(c, i.r0, R);
  };
}

/** PSxxW/D/Q xmm, xmm/m128: the count is the source's whole low quadword. */
function shiftXmm(lane: 2 | 4 | 8, kind: number): Handler {
  return (c, i) => {
    sseCheck(c);
    loadSrc(c, i, B, true);
    loadXmm(c, i.r0, A);
    shiftLanes(lane, kind, B.i32[1] !== 0 ? 64 : B.u32[0] > 64 ? 64 : B.u32[0]);
    storeXmm(c, i.r0, R);
  };
}

/** PSLLDQ / PSRLDQ xmm, imm8: whole-register byte shifts. */
function shiftBytes(left: boolean): Handler {
  return (c, i) => {
    sseCheck(c);
    loadXmm(c, i.r0, A);
    const n = i.immLo & 0xff;
    for (let k = 0; k < 16; k++) {
      const from = left ? k - n : k + n;
      R.u8[k] = from >= 0 && from < 16 ? A.u8[from] : 0;
    }
    storeXmm(c, i.r0, R);
  };
}

// ---- MXCSR, FXSAVE/FXRSTOR and x87 control -------------------------------------------------------

function ldmxcsr(c: Cpu, i: Insn): void {
  sseCheck(c);
  const v = c.readOp(i, 0);
  if (v & ~MXCSR_MASK) fault(GP, 0); // reserved bits (SDM vol. 1, 10.2.3.1)
  c.mxcsr = v;
}

function stmxcsr(c: Cpu, i: Insn): void {
  sseCheck(c);
  c.writeOp(i, 0, c.mxcsr);
}

/** What FLDCW keeps: bit 6 reads as 1 and bits 7, 13-15 as 0 (as this machine's Intel CPU does). */
function normalizeFcw(v: number): number {
  return (v & 0x1f3f) | 0x40;
}

const fx = new Int32Array(104); // bytes 0..415 of an FXSAVE image

/** XMM registers in the FXSAVE image: all 16 in 64-bit mode, else XMM0-7 (SDM vol. 1, 10.5.1). */
function fxRegs(c: Cpu): number {
  return c.mode64 ? 16 : 8;
}

/**
 * FXSAVE/FXSAVE64 (SDM vol. 1, 10.5.1, tables 10-2 and 10-3). The x87 data registers,
 * FOP and last instruction/data pointers are not modelled (no x87 arithmetic) and are
 * stored as zero; FTW is the abridged form (c.ftw: bit n set = register n valid).
 * The REX.W form differs only in the pointer fields, which are zero either way.
 */
function fxsave(c: Cpu, i: Insn): void {
  x87Check(c);
  const lin = lin512(c, i, true);
  fx.fill(0);
  fx[0] = (c.fcw & 0xffff) | ((c.fsw & 0xffff) << 16);
  fx[1] = c.ftw & 0xff;
  fx[6] = c.mxcsr;
  fx[7] = MXCSR_MASK;
  const n = fxRegs(c);
  for (let k = 0; k < n * 4; k++) fx[40 + k] = c.xmm[k];
  const dwords = 40 + n * 4;
  // Both pages writable before the first store, so a #PF leaves memory untouched.
  c.translate(lin, 1);
  if ((lin & 0xfff) + dwords * 4 > 4096) c.translate(nextPage(c, lin), 1);
  for (let k = 0; k < dwords; k++) c.writeLin32(wrapLin(c, lin + 4 * k), fx[k]);
}

function fxrstor(c: Cpu, i: Insn): void {
  x87Check(c);
  const lin = lin512(c, i, false);
  const n = fxRegs(c);
  const dwords = 40 + n * 4;
  for (let k = 0; k < dwords; k++) fx[k] = k >= 8 && k < 40 ? 0 : c.readLin32(wrapLin(c, lin + 4 * k));
  if (fx[6] & ~MXCSR_MASK) fault(GP, 0);
  c.fcw = normalizeFcw(fx[0] & 0xffff);
  c.fsw = (fx[0] >>> 16) & 0xffff;
  c.ftw = fx[1] & 0xff;
  c.mxcsr = fx[6];
  for (let k = 0; k < n * 4; k++) c.xmm[k] = fx[40 + k];
}

/** The 512-byte FXSAVE area: #GP(0) unless 16-byte aligned, whatever the segment. */
function lin512(c: Cpu, i: Insn, write: boolean): number {
  const lin = c.memLin(i, 512, write);
  if (lin & 15) fault(GP, 0);
  return lin;
}

/** FWAIT: #NM only when CR0.MP and CR0.TS are both set; a pending unmasked x87 exception (FSW.ES) is #MF with CR0.NE. */
function fwait(c: Cpu): void {
  if ((c.cr0 & (CR0_MP | CR0_TS)) === (CR0_MP | CR0_TS)) fault(NM);
  // Without CR0.NE the error would be signalled on FERR#/IRQ13, which this machine does not wire.
  if (c.fsw & 0x80 && c.cr0 & CR0_NE) fault(MF);
}

function fninit(c: Cpu): void {
  x87Check(c);
  c.fcw = 0x37f; c.fsw = 0; c.ftw = 0;
}

function fnclex(c: Cpu): void {
  x87Check(c);
  c.fsw &= ~0x80ff; // exception flags, SF, ES and B (SDM vol. 2, FCLEX)
}

function fnstcw(c: Cpu, i: Insn): void {
  x87Check(c);
  c.writeOp(i, 0, c.fcw);
}

function fldcw(c: Cpu, i: Insn): void {
  x87Check(c);
  c.fcw = normalizeFcw(c.readOp(i, 0));
}

function fnstsw(c: Cpu, i: Insn): void {
  x87Check(c);
  if (i.k0 === K_MEM) c.writeOp(i, 0, c.fsw);
  else c.setReg(RAX, 2, c.fsw);
}

function emms(c: Cpu): void {
  if (c.cr0 & CR0_EM) fault(UD);
  if (c.cr0 & CR0_TS) fault(NM);
  c.ftw = 0;
}

/** The FWAIT-prefixed forms (FINIT, FSTCW...) if a decoder ever hands them over fused. */
function waiting(h: Handler): Handler {
  return (c, i) => { fwait(c); h(c, i); };
}

// ---- registration --------------------------------------------------------------------------------

const lanes = (op: (k: number) => void, n: number) => () => { for (let k = 0; k < n; k++) op(k); };

onCode([Code.Movd_xmm_rm32, Code.Movq_xmm_rm64], movdToXmm);
onCode([Code.Movd_rm32_xmm, Code.Movq_rm64_xmm], movdFromXmm);
onCode(Code.Movq_xmm_xmmm64, movqLoad);
onCode(Code.Movq_xmmm64_xmm, movqStore);
onCode([Code.Movdqa_xmm_xmmm128, Code.Movaps_xmm_xmmm128, Code.Movapd_xmm_xmmm128], movLoad(true));
onCode([Code.Movdqu_xmm_xmmm128, Code.Movups_xmm_xmmm128, Code.Movupd_xmm_xmmm128], movLoad(false));
onCode([Code.Movdqa_xmmm128_xmm, Code.Movaps_xmmm128_xmm, Code.Movapd_xmmm128_xmm,
  Code.Movntdq_m128_xmm, Code.Movntps_m128_xmm, Code.Movntpd_m128_xmm], movStore(true));
onCode([Code.Movdqu_xmmm128_xmm, Code.Movups_xmmm128_xmm, Code.Movupd_xmmm128_xmm], movStore(false));
onCode([Code.Movnti_m32_r32, Code.Movnti_m64_r64], movnti);
onCode([Code.Movlps_xmm_m64, Code.Movlpd_xmm_m64], movHalfLoad(0));
onCode([Code.Movhps_xmm_m64, Code.Movhpd_xmm_m64], movHalfLoad(1));
onCode([Code.Movlps_m64_xmm, Code.Movlpd_m64_xmm], movHalfStore(0));
onCode([Code.Movhps_m64_xmm, Code.Movhpd_m64_xmm], movHalfStore(1));
onCode(Code.Movhlps_xmm_xmm, movQuadReg(2, 0));
onCode(Code.Movlhps_xmm_xmm, movQuadReg(0, 2));
onCode(Code.Movss_xmm_xmmm32, movScalarLoad(1));
onCode(Code.Movsd_xmm_xmmm64, movScalarLoad(2));
onCode(Code.Movss_xmmm32_xmm, movScalarStore(1));
onCode(Code.Movsd_xmmm64_xmm, movScalarStore(2));
onCode([Code.Pmovmskb_r32_xmm, Code.Pmovmskb_r64_xmm], moveMask(1));
onCode([Code.Movmskps_r32_xmm, Code.Movmskps_r64_xmm], moveMask(4));
onCode([Code.Movmskpd_r32_xmm, Code.Movmskpd_r64_xmm], moveMask(8));
onCode([Code.Pextrw_r32_xmm_imm8, Code.Pextrw_r64_xmm_imm8], pextrw);
onCode([Code.Pinsrw_xmm_r32m16_imm8, Code.Pinsrw_xmm_r64m16_imm8], pinsrw);

// Bitwise: the PS/PD forms are the same operation on the same bits.
onCode([Code.Pand_xmm_xmmm128, Code.Andps_xmm_xmmm128, Code.Andpd_xmm_xmmm128], binary(lanes((k) => { R.i32[k] = A.i32[k] & B.i32[k]; }, 4)));
onCode([Code.Pandn_xmm_xmmm128, Code.Andnps_xmm_xmmm128, Code.Andnpd_xmm_xmmm128], binary(lanes((k) => { R.i32[k] = ~A.i32[k] & B.i32[k]; }, 4)));
onCode([Code.Por_xmm_xmmm128, Code.Orps_xmm_xmmm128, Code.Orpd_xmm_xmmm128], binary(lanes((k) => { R.i32[k] = A.i32[k] | B.i32[k]; }, 4)));
onCode([Code.Pxor_xmm_xmmm128, Code.Xorps_xmm_xmmm128, Code.Xorpd_xmm_xmmm128], binary(lanes((k) => { R.i32[k] = A.i32[k] ^ B.i32[k]; }, 4)));

// Wrapping add/subtract (the typed arrays truncate to the lane).
onCode(Code.Paddb_xmm_xmmm128, binary(lanes((k) => { R.u8[k] = A.u8[k] + B.u8[k]; }, 16)));
onCode(Code.Paddw_xmm_xmmm128, binary(lanes((k) => { R.u16[k] = A.u16[k] + B.u16[k]; }, 8)));
onCode(Code.Paddd_xmm_xmmm128, binary(lanes((k) => { R.i32[k] = (A.i32[k] + B.i32[k]) | 0; }, 4)));
onCode(Code.Paddq_xmm_xmmm128, binary(() => addQ(false)));
onCode(Code.Psubb_xmm_xmmm128, binary(lanes((k) => { R.u8[k] = A.u8[k] - B.u8[k]; }, 16)));
onCode(Code.Psubw_xmm_xmmm128, binary(lanes((k) => { R.u16[k] = A.u16[k] - B.u16[k]; }, 8)));
onCode(Code.Psubd_xmm_xmmm128, binary(lanes((k) => { R.i32[k] = (A.i32[k] - B.i32[k]) | 0; }, 4)));
onCode(Code.Psubq_xmm_xmmm128, binary(() => addQ(true)));
// Saturating.
onCode(Code.Paddusb_xmm_xmmm128, binary(lanes((k) => { R.u8[k] = satU8(A.u8[k] + B.u8[k]); }, 16)));
onCode(Code.Paddusw_xmm_xmmm128, binary(lanes((k) => { R.u16[k] = satU16(A.u16[k] + B.u16[k]); }, 8)));
onCode(Code.Psubusb_xmm_xmmm128, binary(lanes((k) => { R.u8[k] = satU8(A.u8[k] - B.u8[k]); }, 16)));
onCode(Code.Psubusw_xmm_xmmm128, binary(lanes((k) => { R.u16[k] = satU16(A.u16[k] - B.u16[k]); }, 8)));
onCode(Code.Paddsb_xmm_xmmm128, binary(lanes((k) => { R.i8[k] = sat8(A.i8[k] + B.i8[k]); }, 16)));
onCode(Code.Paddsw_xmm_xmmm128, binary(lanes((k) => { R.i16[k] = sat16(A.i16[k] + B.i16[k]); }, 8)));
onCode(Code.Psubsb_xmm_xmmm128, binary(lanes((k) => { R.i8[k] = sat8(A.i8[k] - B.i8[k]); }, 16)));
onCode(Code.Psubsw_xmm_xmmm128, binary(lanes((k) => { R.i16[k] = sat16(A.i16[k] - B.i16[k]); }, 8)));
// Compares: all ones where true.
onCode(Code.Pcmpeqb_xmm_xmmm128, binary(lanes((k) => { R.u8[k] = A.u8[k] === B.u8[k] ? 0xff : 0; }, 16)));
onCode(Code.Pcmpeqw_xmm_xmmm128, binary(lanes((k) => { R.u16[k] = A.u16[k] === B.u16[k] ? 0xffff : 0; }, 8)));
onCode(Code.Pcmpeqd_xmm_xmmm128, binary(lanes((k) => { R.i32[k] = A.i32[k] === B.i32[k] ? -1 : 0; }, 4)));
onCode(Code.Pcmpgtb_xmm_xmmm128, binary(lanes((k) => { R.u8[k] = A.i8[k] > B.i8[k] ? 0xff : 0; }, 16)));
onCode(Code.Pcmpgtw_xmm_xmmm128, binary(lanes((k) => { R.u16[k] = A.i16[k] > B.i16[k] ? 0xffff : 0; }, 8)));
onCode(Code.Pcmpgtd_xmm_xmmm128, binary(lanes((k) => { R.i32[k] = A.i32[k] > B.i32[k] ? -1 : 0; }, 4)));
// Minimum, maximum, average.
onCode(Code.Pminub_xmm_xmmm128, binary(lanes((k) => { R.u8[k] = Math.min(A.u8[k], B.u8[k]); }, 16)));
onCode(Code.Pmaxub_xmm_xmmm128, binary(lanes((k) => { R.u8[k] = Math.max(A.u8[k], B.u8[k]); }, 16)));
onCode(Code.Pminsw_xmm_xmmm128, binary(lanes((k) => { R.i16[k] = Math.min(A.i16[k], B.i16[k]); }, 8)));
onCode(Code.Pmaxsw_xmm_xmmm128, binary(lanes((k) => { R.i16[k] = Math.max(A.i16[k], B.i16[k]); }, 8)));
onCode(Code.Pavgb_xmm_xmmm128, binary(lanes((k) => { R.u8[k] = (A.u8[k] + B.u8[k] + 1) >> 1; }, 16)));
onCode(Code.Pavgw_xmm_xmmm128, binary(lanes((k) => { R.u16[k] = (A.u16[k] + B.u16[k] + 1) >> 1; }, 8)));
// Multiplies.
onCode(Code.Pmullw_xmm_xmmm128, binary(lanes((k) => { R.i16[k] = Math.imul(A.i16[k], B.i16[k]); }, 8)));
onCode(Code.Pmulhw_xmm_xmmm128, binary(lanes((k) => { R.i16[k] = (A.i16[k] * B.i16[k]) >> 16; }, 8)));
onCode(Code.Pmulhuw_xmm_xmmm128, binary(lanes((k) => { R.u16[k] = (A.u16[k] * B.u16[k]) >>> 16; }, 8)));
onCode(Code.Pmuludq_xmm_xmmm128, binary(pmuludq));
onCode(Code.Pmaddwd_xmm_xmmm128, binary(pmaddwd));
onCode(Code.Psadbw_xmm_xmmm128, binary(psadbw));

// Shuffles, unpacks, packs.
onCode(Code.Pshufd_xmm_xmmm128_imm8, shuffleImm(pshufd));
onCode(Code.Pshuflw_xmm_xmmm128_imm8, shuffleImm(pshuflw));
onCode(Code.Pshufhw_xmm_xmmm128_imm8, shuffleImm(pshufhw));
onCode(Code.Shufps_xmm_xmmm128_imm8, shuffleImm(shufps));
onCode(Code.Shufpd_xmm_xmmm128_imm8, shuffleImm(shufpd));
onCode(Code.Punpcklbw_xmm_xmmm128, binary(unpack(1, false)));
onCode(Code.Punpckhbw_xmm_xmmm128, binary(unpack(1, true)));
onCode(Code.Punpcklwd_xmm_xmmm128, binary(unpack(2, false)));
onCode(Code.Punpckhwd_xmm_xmmm128, binary(unpack(2, true)));
onCode([Code.Punpckldq_xmm_xmmm128, Code.Unpcklps_xmm_xmmm128], binary(unpack(4, false)));
onCode([Code.Punpckhdq_xmm_xmmm128, Code.Unpckhps_xmm_xmmm128], binary(unpack(4, true)));
onCode([Code.Punpcklqdq_xmm_xmmm128, Code.Unpcklpd_xmm_xmmm128], binary(unpack(8, false)));
onCode([Code.Punpckhqdq_xmm_xmmm128, Code.Unpckhpd_xmm_xmmm128], binary(unpack(8, true)));
onCode(Code.Packsswb_xmm_xmmm128, binary(packsswb));
onCode(Code.Packuswb_xmm_xmmm128, binary(packuswb));
onCode(Code.Packssdw_xmm_xmmm128, binary(packssdw));

// Shifts.
onCode(Code.Psllw_xmm_imm8, shiftImm(2, SH_LL));
onCode(Code.Pslld_xmm_imm8, shiftImm(4, SH_LL));
onCode(Code.Psllq_xmm_imm8, shiftImm(8, SH_LL));
onCode(Code.Psrlw_xmm_imm8, shiftImm(2, SH_RL));
onCode(Code.Psrld_xmm_imm8, shiftImm(4, SH_RL));
onCode(Code.Psrlq_xmm_imm8, shiftImm(8, SH_RL));
onCode(Code.Psraw_xmm_imm8, shiftImm(2, SH_RA));
onCode(Code.Psrad_xmm_imm8, shiftImm(4, SH_RA));
onCode(Code.Psllw_xmm_xmmm128, shiftXmm(2, SH_LL));
onCode(Code.Pslld_xmm_xmmm128, shiftXmm(4, SH_LL));
onCode(Code.Psllq_xmm_xmmm128, shiftXmm(8, SH_LL));
onCode(Code.Psrlw_xmm_xmmm128, shiftXmm(2, SH_RL));
onCode(Code.Psrld_xmm_xmmm128, shiftXmm(4, SH_RL));
onCode(Code.Psrlq_xmm_xmmm128, shiftXmm(8, SH_RL));
onCode(Code.Psraw_xmm_xmmm128, shiftXmm(2, SH_RA));
onCode(Code.Psrad_xmm_xmmm128, shiftXmm(4, SH_RA));
onCode(Code.Pslldq_xmm_imm8, shiftBytes(true));
onCode(Code.Psrldq_xmm_imm8, shiftBytes(false));

// State and x87 control.
onCode(Code.Ldmxcsr_m32, ldmxcsr);
onCode(Code.Stmxcsr_m32, stmxcsr);
onCode([Code.Fxsave_m512byte, Code.Fxsave64_m512byte], fxsave);
onCode([Code.Fxrstor_m512byte, Code.Fxrstor64_m512byte], fxrstor);
onCode(Code.Wait, fwait);
onCode(Code.Fninit, fninit);
onCode(Code.Finit, waiting(fninit));
onCode(Code.Fnclex, fnclex);
onCode(Code.Fclex, waiting(fnclex));
onCode(Code.Fnstcw_m2byte, fnstcw);
onCode(Code.Fstcw_m2byte, waiting(fnstcw));
onCode(Code.Fldcw_m2byte, fldcw);
onCode([Code.Fnstsw_m2byte, Code.Fnstsw_AX], fnstsw);
onCode([Code.Fstsw_m2byte, Code.Fstsw_AX], waiting(fnstsw));
onCode(Code.Emms, emms);
