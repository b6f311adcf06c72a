// Compiled blocks by guest-physical address, shared by every vCPU like the decode cache.
// A block is keyed by its physical start and its decoder bitness. Its code has the RIP it
// was compiled at as a constant (so RIP-relative addresses, return addresses and branch
// targets are constants too) and runs only at that RIP; it assumes nothing about CPL,
// paging or segment bases (read at run time), so TLB flushes and CPL changes need not
// drop it; the run loop still translates RIP through the TLB at every block entry. A
// write that touches a block's bytes kills it (self-modifying code, trampolines copied
// over old code).
import type { Insn } from '../insn';
import { decodeInsn } from '../decode';
import type { DecodeCache } from '../decode-cache';
import type { PhysicalMemory } from '../../memory/physical';
import { Mnemonic } from '../iced';
import { byCode } from '../decode';
import { K_MEM } from '../regs';
import { Block, JCC, MAX_BLOCK, MAX_TRACE, MAX_TRACE_PAGES, RET_SAME, continuesBlock, isRelCall, isRelJmp } from './block';
import type { TraceStep } from './block';
import { LINK_CALL, LINK_FALL, LINK_IJMP, LINK_IRET, LINK_JMP, LINK_NEXT, LINK_NONE, LINK_RET, LINK_TAKEN, isRegJmp64 } from './block';
import { compileBlock } from './compile';

/**
 * Interpreted executions of a block start before it is compiled. Compiling (and V8 then
 * optimizing) a block costs about as much as interpreting a few thousand instructions, so
 * code run only a few hundred times is left to the interpreter.
 */
export const HOT = 512;

/** What the trace builder asks the vCPU: the physical page its TLB maps a linear code page to now (-1: not there). */
export interface CodeProbe {
  codePagePa(linPage: number): number;
}

/** Shared by pages without blocks yet: reads past its end give undefined. */
const NO_BLOCKS: (Block | undefined)[] = [];

export class BlockPage {
  /** Block starting at each offset (or a declined-start marker); allocated with the first block. */
  blocks: (Block | undefined)[] = NO_BLOCKS;
  /** Interpreted executions per block start since the last compile attempt. */
  readonly heat = new Uint16Array(4096);
  readonly live: Block[] = [];
  /** Executions needed before compiling: grows each time a block here is killed by a write. */
  constructor(public threshold: number) {}
}

export class BlockCache {
  /** Off: Cpu.run interprets every instruction (MachineConfig.jit = false). */
  enabled = true;
  /** Executions of a block start before it is compiled (tests lower it to compile nearly everything). */
  hot = HOT;
  private readonly pages: (BlockPage | undefined)[] = [];
  // Statistics, for the benchmark and the tests.
  compiled = 0;
  /** Compiled blocks that follow a transfer or run into another page (traces). */
  traces = 0;
  declined = 0;
  invalidated = 0;

  constructor(private readonly decodeCache: DecodeCache, private readonly phys: PhysicalMemory) {}

  page(pagePa: number): BlockPage {
    const pfn = pagePa / 4096;
    let p = this.pages[pfn];
    if (p === undefined) { p = new BlockPage(this.hot); this.pages[pfn] = p; }
    return p;
  }

  /**
   * Builds the block starting at pagePa + off for `bits` from the page's decoded
   * instructions (decoding ahead as needed) and compiles it; a start that yields no
   * block gets a marker so it is not tried again until its bytes change. `rip`: the RIP the
   * block starts at (its code runs only there). In 64-bit code,
   * given the vCPU (`probe`) and the block's linear address, the block is a trace: it
   * follows direct jumps and calls, returns to a call it made or to the one place they
   * have always gone (Insn.retTarget), conditional branches the interpreter saw go one
   * way (Insn.branchSeen), and code that runs on into the next
   * page, through up to MAX_TRACE_PAGES pages whose translations the TLB holds now. The
   * compiled code checks those translations again where it enters another page, and the
   * return address and branch direction where it followed them (compile.ts).
   */
  build(page: BlockPage, pagePa: number, off: number, bits: number, arr: (Insn | undefined)[], rip: number, probe?: CodeProbe, lin?: number): void {
    page.heat[off] = 0;
    const trace = bits === 64 && probe !== undefined && lin !== undefined;
    const insns: Insn[] = [];
    const steps: TraceStep[] = [];
    const pagesPa = [pagePa];
    const spans: number[] = [];
    let curPage = 0, curPa = pagePa, curArr = arr, o = off, delta = 0, spanStart = pagePa + off;
    // Linear offset (from the block start) of the page the trace is in, and the return addresses of its calls.
    let pageDelta = -off;
    const returns: number[] = [];
    const visited = new Set<number>();
    let terminated = false;
    const max = trace ? MAX_TRACE : MAX_BLOCK;
    // Rebuilding a trace whose last IRETQ or indirect JMP always went one place (noteExit): the
    // new one follows those the old one followed, and that one, each where it went.
    const prev = page.blocks[off];
    const plan = trace && prev !== undefined && prev.rebuild ? prev.follows.concat(prev.exitTarget) : [];
    const follows: number[] = [];
    while (insns.length < max && o < 4096) {
      const i = this.insnAt(curArr, curPa, o, bits);
      if (i === null) break;
      visited.add(delta);
      insns.push(i);
      steps.push({ off: delta, page: curPage, link: null });
      const next = delta + i.len;
      let target = NaN, kind = LINK_NEXT;
      if (!i.endsBlock) {
        target = next;
      } else if (trace) {
        kind = followable(i, returns.length > 0, follows.length < plan.length);
        if (kind === LINK_JMP || kind === LINK_CALL || kind === LINK_TAKEN) target = next + i.rel;
        else if (kind === LINK_RET) target = returns.length > 0 ? returns[returns.length - 1] : i.retTarget - lin!;
        else if (kind === LINK_IRET || kind === LINK_IJMP) { target = plan[follows.length] - lin!; follows.push(plan[follows.length]); }
        else if (kind === LINK_FALL) target = next;
      }
      if (target !== target) { // NaN: a block end the trace does not follow
        terminated = true;
        o += i.len;
        // STI; HLT (every idle loop): the HLT runs in the STI's interrupt shadow, so nothing can
        // come between them and the block takes both (compile.ts callHandler).
        if (i.mnem === Mnemonic.Sti && !i.lock && insns.length < max && o < 4096) {
          const h = this.insnAt(curArr, curPa, o, bits);
          if (h !== null && h.mnem === Mnemonic.Hlt && !h.lock) {
            insns.push(h);
            steps.push({ off: next, page: curPage, link: null });
            o += h.len;
          }
        }
        break;
      }
      if (kind === LINK_NEXT && o + i.len < 4096) { o += i.len; delta = next; continue; }
      // A transfer (or a run past the page end): follow it if the target is new code in a page we can name.
      const tOff = target - pageDelta;
      let tPage = curPage, tPa = curPa, tArr = curArr, tPageDelta = pageDelta;
      let ok = trace && !visited.has(target) && insns.length < max;
      if (ok && !(tOff >= 0 && tOff < 4096)) {
        const tLin = lin! + target;
        const tLinPage = tLin - (tLin & 0xfff);
        tPageDelta = tLinPage - lin!;
        tPa = probe!.codePagePa(tLinPage);
        const a = tPa >= 0 ? this.decodeCache.page(tPa) : null;
        ok = a !== null;
        if (ok) {
          tArr = a!;
          tPage = pagesPa.indexOf(tPa);
          if (tPage < 0) {
            ok = pagesPa.length < MAX_TRACE_PAGES;
            tPage = pagesPa.length;
          }
        }
      }
      if (!ok) {
        if (kind !== LINK_NEXT) terminated = true;
        o += i.len;
        break;
      }
      if (tPage === pagesPa.length) pagesPa.push(tPa);
      if (kind === LINK_CALL) returns.push(next);
      else if (kind === LINK_RET) returns.pop();
      steps[steps.length - 1].link = { kind, target, page: tPage, pagePa: tPage !== curPage ? tPa : -1 };
      spans.push(spanStart, curPa + o + i.len);
      curPage = tPage; curPa = tPa; curArr = tArr; pageDelta = tPageDelta;
      o = target - pageDelta;
      delta = target;
      spanStart = curPa + o;
    }
    spans.push(spanStart, curPa + o);
    const old = page.blocks[off];
    if (old !== undefined) this.remove(page, old);
    if (insns.length === 0) {
      this.declined++;
      this.add(page, new Block(null, bits, pagePa + off, pagePa + off + 15, Infinity, rip), off);
      return;
    }
    const b = new Block(null, bits, spans[0], spans[1], insns.length, rip);
    if (spans.length > 2) {
      b.spans = spans.slice(2);
      const others: BlockPage[] = [];
      for (let k = 2; k < spans.length; k += 2) {
        const p = this.page(spans[k] - (spans[k] & 0xfff));
        if (p !== page && !others.includes(p)) others.push(p);
      }
      if (others.length > 0) b.others = others;
    }
    if (follows.length > 0) b.follows = follows;
    b.fn = compileBlock(insns, bits, b, page, terminated, trace ? steps : null);
    this.compiled++;
    if (spans.length > 2) this.traces++;
    this.add(page, b, off);
  }

  /** Drops every block whose bytes intersect [pa, pa+len). */
  invalidate(pa: number, len: number): void {
    const last = Math.floor((pa + len - 1) / 4096);
    for (let pfn = Math.floor(pa / 4096); pfn <= last; pfn++) {
      const p = this.pages[pfn];
      if (p === undefined || p.live.length === 0) continue;
      for (let k = p.live.length - 1; k >= 0; k--) {
        const b = p.live[k];
        if (k >= p.live.length || !intersects(b, pa, len)) continue;
        this.remove(this.page(b.startPa - (b.startPa & 0xfff)), b);
        this.invalidated++;
        // Code rewritten again and again is better interpreted: wait longer each time.
        if (b.fn !== null && p.threshold < 0x4000) p.threshold *= 2;
      }
    }
  }

  private add(p: BlockPage, b: Block, off: number): void {
    if (p.blocks === NO_BLOCKS) p.blocks = new Array<Block | undefined>(4096).fill(undefined);
    p.blocks[off] = b;
    p.live.push(b);
    if (b.others !== null) for (const q of b.others) q.live.push(b);
  }

  /** Kills b and takes it out of its page (p) and of the other pages of a trace. */
  private remove(p: BlockPage, b: Block): void {
    b.dead = true;
    const off = b.startPa % 4096;
    if (p.blocks[off] === b) p.blocks[off] = undefined;
    unlist(p, b);
    if (b.others !== null) for (const q of b.others) unlist(q, b);
  }

  /** The instruction at pagePa + o for `bits`: decoded already (arr, the page's), or now; null if it does not decode in the page. */
  private insnAt(arr: (Insn | undefined)[], pagePa: number, o: number, bits: number): Insn | null {
    const i = arr[o];
    return i !== undefined && i.bits === bits ? i : this.decode(pagePa, o, bits);
  }

  /** Decodes the instruction at pagePa + o if it lies wholly in the page; stores it in the decode cache. */
  private decode(pagePa: number, o: number, bits: number): Insn | null {
    const inPage = Math.min(15, 4096 - o);
    const bytes = this.phys.u8.slice(pagePa + o, pagePa + o + inPage);
    const i = decodeInsn(bytes, bits as 16 | 32 | 64);
    if (i === null) return null;
    this.decodeCache.store(pagePa + o, i);
    return i;
  }
}

function unlist(p: BlockPage, b: Block): void {
  const k = p.live.indexOf(b);
  if (k >= 0) { p.live[k] = p.live[p.live.length - 1]; p.live.pop(); }
}

/** Whether any byte of b (its first range or a trace's other ones) lies in [pa, pa+len). */
function intersects(b: Block, pa: number, len: number): boolean {
  if (b.startPa < pa + len && pa < b.endPa) return true;
  const s = b.spans;
  if (s === null) return false;
  for (let k = 0; k < s.length; k += 2) if (s[k] < pa + len && pa < s[k + 1]) return true;
  return false;
}

/**
 * How a trace may go on after a block-ending instruction of the natural (8-byte) operand
 * size: a direct JMP or CALL, a RET when the trace made the call it returns to (`inCall`)
 * or when it has returned to one place at least RET_SAME times in a row, an IRETQ or a JMP
 * through a register when `exit` (the trace this one replaces saw it go one place: Block.exitTarget),
 * or a conditional branch the interpreter saw go the same way at least 15 times in 16 (of
 * at least 64); LINK_NONE otherwise.
 */
function followable(i: Insn, inCall: boolean, exit: boolean): number {
  if (i.mnem === Mnemonic.Iretq && !i.lock) return exit ? LINK_IRET : LINK_NONE;
  if (isRegJmp64(i) && byCode[i.code] === undefined) return exit ? LINK_IJMP : LINK_NONE;
  if (i.lock || byCode[i.code] !== undefined || i.opSize !== 8) return LINK_NONE;
  if (isRelJmp(i)) return LINK_JMP;
  if (isRelCall(i)) return LINK_CALL;
  if (i.mnem === Mnemonic.Ret && i.nops === 0) return inCall || i.retSame >= RET_SAME ? LINK_RET : LINK_NONE;
  if (JCC.has(i.mnem) && i.k0 !== K_MEM && i.branchSeen >= 64) {
    if (i.branchTaken * 16 >= i.branchSeen * 15) return LINK_TAKEN;
    if ((i.branchSeen - i.branchTaken) * 16 >= i.branchSeen * 15) return LINK_FALL;
  }
  return LINK_NONE;
}

/** Whether a block ends with this instruction (control transfer or anything not whitelisted). */
export function endsBlock(i: Insn): boolean {
  return !continuesBlock(i);
}
