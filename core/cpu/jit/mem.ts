// Inline fast paths for the memory accesses of compiled blocks: the TLB probe of
// Cpu.translate and the RAM access of PhysicalMemory.readN/writeN, written into the block
// so that a hit costs no call. Everything else (a TLB miss or a permission the entry does
// not grant, a page crossing, ROM, MMIO, pages holding decoded code, intercepted pages)
// calls the Cpu's own method, which does the whole access again from the start: a fast
// path changes no state before it knows it can finish, so both ways give the same result,
// the same faults and the same device accesses.
import { PAGE32, TLB_SIZE, tlbKey } from '../mmu';
import { PAGE_RAM, PAGE_SPECIAL } from '../../memory/physical';
import { SC_FLAT, SC_WRITE } from '../cpu';
import { A_DB, SS } from '../regs';

/**
 * Locals the fast paths use, declared at block entry by blocks that have one. The access
 * rights (NR, NW) follow the CPL, which no instruction inside a block changes. `chk` is set
 * by the slow paths: only they can reach a device or a page of code, so only after them
 * must the block look at c.attention and B.dead (compile.ts checkAfter).
 */
export const MEM_LOCALS = 'const TK = c.tlbKey, TP = c.tlbPa, TM = c.tlbPerm, PH = c.host.phys, KD = PH.kind, DV = PH.view, U8 = PH.u8, WR = PH.written, NR = c.needR, NW = c.needW, NX = c.needX, TR = c.tlbRam; let chk = false;';

/**
 * A 4-byte access the TLB maps to PhysicalMemory's page32 (the xAPIC page): straight to its
 * device (`call`) when aligned, as PhysicalMemory.read32/write32 would send it (mmu.ts PAGE32).
 */
function page32(size: number, call: string): string {
  return size === 4 ? `if (TR[ix] === ${PAGE32} && (o & 3) === 0) { ${call} } else ` : '';
}

const MASK = TLB_SIZE - 1;
/** Bounds of the canonical 48-bit address space (SDM vol. 1, 3.3.7.1). */
const CANON_LO = -140737488355328, CANON_HI = 140737488355328;

/**
 * A memory operand's linear address for the fast paths: `key` (its page's Cpu.tlbKey: the
 * page number without the slot bits), `ix` (the TLB slot), `o` (the offset in the page),
 * and `lin` (the address itself, for the slow path): expressions over locals compile.ts
 * declared, or numbers where the address is a constant.
 */
export interface Addr { key: string; ix: string; o: string; lin: string }

/** The parts of a linear address held in the local (or constant) `lin`: a double in 64-bit code, a uint32 otherwise. */
export function linAddr(lin: string, uint32: boolean): Addr {
  if (/^-?\d+$/.test(lin)) {
    const a = Number(lin), vp = Math.floor(a / 4096);
    return { key: String(tlbKey(vp)), ix: String(vp & MASK), o: String(a & 4095), lin };
  }
  return { key: uint32 ? `(${lin} >>> 22)` : `Math.floor(${lin} / 4194304)`, ix: `((${lin} >>> 12) & ${MASK})`, o: `(${lin} & 4095)`, lin };
}

/** The parts of a canonical 64-bit linear address given as its int32 halves (locals or expressions). */
export function halvesAddr(hi: string, lo: string): Addr {
  return { key: `((${hi} << 10) | (${lo} >>> 22))`, ix: `((${lo} >>> 12) & ${MASK})`, o: `(${lo} & 4095)`, lin: `(${hi} * 4294967296 + (${lo} >>> 0))` };
}

/** Loads of `size` bytes at physical `pa` in RAM, as PhysicalMemory's fast paths do. */
function load(size: number, name: string): string {
  switch (size) {
    case 1: return `${name} = U8[pa];`;
    case 2: return `${name} = DV.getUint16(pa, true);`;
    case 4: return `${name} = DV.getInt32(pa, true);`;
    default: return `${name} = DV.getInt32(pa, true); ${name}H = DV.getInt32(pa + 4, true);`;
  }
}

function store(size: number, v: string, hi: string): string {
  switch (size) {
    case 1: return `U8[pa] = ${v};`;
    case 2: return `DV.setUint16(pa, ${v}, true);`;
    case 4: return `DV.setInt32(pa, ${v}, true);`;
    default: return `DV.setInt32(pa, ${v}, true); DV.setInt32(pa + 4, ${hi}, true);`;
  }
}

const READ = ['', 'readLin8', 'readLin16', '', 'readLin32'];
const WRITE = ['', 'writeLin8', 'writeLin16', '', 'writeLin32'];
const PHYS_READ = ['', 'read8', 'read16', '', 'read32'];
const PHYS_WRITE = ['', 'write8', 'write16', '', 'write32'];

/**
 * Declares `name` (and `nameH` for 8 bytes) with the `size` bytes at linear `lin`, as
 * c.readLinN(lin) returns them (readLin64: low half, high half in nameH). A TLB hit on a
 * page that is not plain RAM (MMIO, ROM) goes to PhysicalMemory itself, as readLinN would
 * after its translation.
 */
export function readMem(size: number, name: string, slowPre: string, a: Addr): string {
  const lin = a.lin;
  const decl = size === 8 ? `let ${name} = 0, ${name}H = 0;` : `let ${name} = 0;`;
  const slow = size === 8 ? `${name} = c.readLin64(${lin}); ${name}H = c.hi;` : `${name} = c.${READ[size]}(${lin});`;
  const phys = size === 8 ? `${name} = PH.read32(TP[ix] + o); ${name}H = PH.read32(TP[ix] + o + 4);` : `${name} = PH.${PHYS_READ[size]}(TP[ix] + o);`;
  const dev = page32(size, `${slowPre} ${name} = PH.dev32.read32(o) | 0;`);
  return `${decl} m: { const ix = ${a.ix}, o = ${a.o};
    if (TK[ix] === ${a.key} && (TM[ix] & NR) === NR && o <= ${4096 - size}) { const pa = TR[ix] + o;
      if (pa >= 0 && (KD[pa >>> 12] & ${PAGE_SPECIAL}) === 0) { ${load(size, name)} } else ${dev}{ ${slowPre} ${phys} } break m; }
    ${slowPre} ${slow} }`;
}

/** Writes `size` bytes (`hi`: the high half of 8) at linear `lin`, as c.writeLinN(lin, v) does. */
export function writeMem(size: number, v: string, hi: string, slowPre: string, a: Addr): string {
  const lin = a.lin;
  const slow = size === 8 ? `c.writeLin64(${lin}, ${v}, ${hi});` : `c.${WRITE[size]}(${lin}, ${v});`;
  const phys = size === 8 ? `PH.write32(TP[ix] + o, ${v}); PH.write32(TP[ix] + o + 4, ${hi});` : `PH.${PHYS_WRITE[size]}(TP[ix] + o, ${v});`;
  const dev = page32(size, `${slowPre} PH.dev32.write32(o, ${v});`);
  return `m: { const ix = ${a.ix}, o = ${a.o};
    if (TK[ix] === ${a.key} && (TM[ix] & NW) === NW && o <= ${4096 - size}) { const pa = TR[ix] + o;
      if (pa >= 0 && KD[pa >>> 12] === ${PAGE_RAM}) { ${store(size, v, hi)} WR[pa >>> 12] = 1; } else ${dev}{ ${slowPre} ${phys} } break m; }
    ${slowPre} ${slow} }`;
}

/**
 * PUSH of the block's natural stack width (8 bytes in 64-bit mode, 4 bytes with a flat
 * 32-bit stack), as c.push(size, v, hi) does; other stacks call c.push. In 64-bit mode
 * RSP is worked on as its two 32-bit halves, wherever the stack is.
 */
export function pushMem(bits: number, v: string, hi: string, slowPre: string): string {
  if (bits === 64) {
    // RSP - 8 on 32-bit halves (the borrow), canonical when bits 63:47 agree.
    return `m: { const l = g[4], sl = (l - 8) | 0, sh = ((l >>> 0) < 8 ? g[20] - 1 : g[20]) | 0;
    if (sh >> 15 === sh >> 31) { const ix = (sl >>> 12) & ${MASK}, o = sl & 4095;
      if (o <= 4088 && TK[ix] === ((sh << 10) | (sl >>> 22)) && (TM[ix] & NW) === NW) { const pa = TR[ix] + o;
        if (pa >= 0 && KD[pa >>> 12] === ${PAGE_RAM}) { ${store(8, v, hi)} WR[pa >>> 12] = 1; g[4] = sl; g[20] = sh; break m; } } }
    ${slowPre} c.push(8, ${v}, ${hi}); }`;
  }
  return `m: { if ((c.segChk[${SS}] & ${SC_FLAT | SC_WRITE}) === ${SC_FLAT | SC_WRITE} && (c.segAttr[${SS}] & ${A_DB}) !== 0) {
      const sp = (g[4] - 4) >>> 0, o = sp & 4095, ix = (sp >>> 12) & ${MASK};
      if (o <= 4092 && TK[ix] === (sp >>> 22) && (TM[ix] & NW) === NW) { const pa = TR[ix] + o;
        if (pa >= 0 && KD[pa >>> 12] === ${PAGE_RAM}) { ${store(4, v, hi)} WR[pa >>> 12] = 1; g[4] = sp | 0; break m; } } }
    ${slowPre} c.push(4, ${v}); }`;
}

/** POP of the natural stack width into `name` (and `nameH` in 64-bit mode), as c.pop(size). */
export function popMem(bits: number, name: string, slowPre: string): string {
  if (bits === 64) {
    // The slot at RSP (canonical when bits 63:47 agree), then RSP + 8 on 32-bit halves (the carry).
    return `let ${name} = 0, ${name}H = 0; m: { const l = g[4], h = g[20];
    if (h >> 15 === h >> 31) { const ix = (l >>> 12) & ${MASK}, o = l & 4095;
      if (o <= 4088 && TK[ix] === ((h << 10) | (l >>> 22)) && (TM[ix] & NR) === NR) { const pa = TR[ix] + o;
        if (pa >= 0 && (KD[pa >>> 12] & ${PAGE_SPECIAL}) === 0) { ${load(8, name)} const nl = (l + 8) | 0; g[4] = nl; if ((nl >>> 0) < 8) g[20] = (h + 1) | 0; break m; } } }
    ${slowPre} ${name} = c.pop(8); ${name}H = c.hi; }`;
  }
  return `let ${name} = 0; m: { if ((c.segChk[${SS}] & ${SC_FLAT}) !== 0 && (c.segAttr[${SS}] & ${A_DB}) !== 0) {
      const sp = g[4] >>> 0, o = sp & 4095, ix = (sp >>> 12) & ${MASK};
      if (o <= 4092 && TK[ix] === (sp >>> 22) && (TM[ix] & NR) === NR) { const pa = TR[ix] + o;
        if (pa >= 0 && (KD[pa >>> 12] & ${PAGE_SPECIAL}) === 0) { ${load(4, name)} g[4] = (sp + 4) | 0; break m; } } }
    ${slowPre} ${name} = c.pop(4); }`;
}

/** The canonical check of a 64-bit linear address `x` (an expression), faulting through c.canonical. */
export function canonical(x: string, seg: number): string {
  return `((${x}) >= ${CANON_LO} && (${x}) < ${CANON_HI} ? (${x}) : c.canonical(${x}, ${seg}))`;
}

/**
 * A run of PUSHes of the natural stack width (registers other than RSP, immediates), as
 * one access: when every slot lies in one page of plain RAM that the TLB maps writable,
 * the values are stored and RSP moves once, and `done` is set; otherwise nothing happens
 * and the caller runs the pushes one by one. Nothing between the pushes reads memory or
 * RSP, and no store can fault or reach a device, so both ways end in the same state.
 * `values`: [low, high] expressions of each push in order.
 */
export function pushRun(bits: number, values: [string, string][]): string {
  const n = values.length;
  if (bits === 64) {
    // Push k stores at RSP - 8(k + 1), that is at the bottom + 8(n - 1 - k).
    const stores = values.map(([lo, hi], k) => `DV.setInt32(pa + ${8 * (n - 1 - k)}, ${lo}, true); DV.setInt32(pa + ${8 * (n - 1 - k) + 4}, ${hi}, true);`).join(' ');
    return `if (g[20] === 0) { const l = g[4] >>> 0;
      if (l >= ${8 * n}) { const sp = l - ${8 * n}, vp = sp >>> 12, ix = vp & ${MASK};
        if (((l - 1) >>> 12) === vp && TK[ix] === (sp >>> 22) && (TM[ix] & NW) === NW) { const pa = TR[ix] + (sp & 4095);
          if (pa >= 0 && KD[pa >>> 12] === ${PAGE_RAM}) { ${stores} WR[pa >>> 12] = 1; g[4] = sp | 0; done = true; } } } }`;
  }
  const stores = values.map(([lo], k) => `DV.setInt32(pa + ${4 * (n - 1 - k)}, ${lo}, true);`).join(' ');
  return `if ((c.segChk[${SS}] & ${SC_FLAT | SC_WRITE}) === ${SC_FLAT | SC_WRITE} && (c.segAttr[${SS}] & ${A_DB}) !== 0) { const l = g[4] >>> 0;
      if (l >= ${4 * n}) { const sp = l - ${4 * n}, vp = sp >>> 12, ix = vp & ${MASK};
        if (((l - 1) >>> 12) === vp && TK[ix] === (sp >>> 22) && (TM[ix] & NW) === NW) { const pa = TR[ix] + (sp & 4095);
          if (pa >= 0 && KD[pa >>> 12] === ${PAGE_RAM}) { ${stores} WR[pa >>> 12] = 1; g[4] = sp | 0; done = true; } } } }`;
}

/**
 * A run of POPs of the natural stack width into registers other than RSP, as pushRun:
 * `assign(k, lo, hi)` is the statement writing pop k's destination.
 */
export function popRun(bits: number, n: number, assign: (k: number, lo: string, hi: string) => string): string {
  const w = bits === 64 ? 8 : 4;
  const loads = Array.from({ length: n }, (_, k) => bits === 64
    ? `{ const lo = DV.getInt32(pa + ${8 * k}, true), hi = DV.getInt32(pa + ${8 * k + 4}, true); ${assign(k, 'lo', 'hi')} }`
    : `{ const lo = DV.getInt32(pa + ${4 * k}, true); ${assign(k, 'lo', '0')} }`).join(' ');
  const stack = bits === 64 ? 'g[20] === 0' : `(c.segChk[${SS}] & ${SC_FLAT}) !== 0 && (c.segAttr[${SS}] & ${A_DB}) !== 0`;
  return `if (${stack}) { const l = g[4] >>> 0;
      if (l < ${4294967296 - w * n}) { const vp = l >>> 12, ix = vp & ${MASK};
        if (((l + ${w * n - 1}) >>> 12) === vp && TK[ix] === (l >>> 22) && (TM[ix] & NR) === NR) { const pa = TR[ix] + (l & 4095);
          if (pa >= 0 && (KD[pa >>> 12] & ${PAGE_SPECIAL}) === 0) { ${loads} g[4] = (l + ${w * n}) | 0; done = true; } } } }`;
}
