// Compiled blocks by guest-physical address, shared by every vCPU like the decode cache.
// A block is keyed by its physical start and its decoder bitness only: the generated code
// makes no assumption about the linear address, CPL, paging or segment bases (those are
// read at run time), so TLB flushes and CPL changes need not drop it; the run loop still
// translates RIP through the TLB at every block entry. A write that touches a block's
// bytes kills it (self-modifying code, trampolines copied over old code).
import type { Insn } from '../insn';
import { decodeInsn } from '../decode';
import type { DecodeCache } from '../decode-cache';
import type { PhysicalMemory } from '../../memory/physical';
import { Block, MAX_BLOCK, continuesBlock } from './block';
import { compileBlock } from './compile';

/**
 * Interpreted executions of a block start before it is compiled. Compiling (and V8 then
 * optimizing) a block costs about as much as interpreting a few thousand instructions, so
 * code run only a few hundred times is left to the interpreter.
 */
export const HOT = 512;

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
   * block gets a marker so it is not tried again until its bytes change.
   */
  build(page: BlockPage, pagePa: number, off: number, bits: number, arr: (Insn | undefined)[]): void {
    page.heat[off] = 0;
    const insns: Insn[] = [];
    let o = off;
    let terminated = false;
    while (insns.length < MAX_BLOCK && o < 4096) {
      let i = arr[o];
      if (i === undefined || i.bits !== bits) {
        const d = this.decode(pagePa, o, bits);
        if (d === null) break;
        i = d;
      }
      insns.push(i);
      o += i.len;
      if (i.endsBlock) { terminated = true; break; }
    }
    const old = page.blocks[off];
    if (old !== undefined) this.remove(page, old);
    if (insns.length === 0) {
      this.declined++;
      this.add(page, new Block(null, bits, pagePa + off, pagePa + off + 15, Infinity), off);
      return;
    }
    const b = new Block(null, bits, pagePa + off, pagePa + o, insns.length);
    b.fn = compileBlock(insns, bits, b, page, terminated);
    this.compiled++;
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
        if (b.startPa < pa + len && pa < b.endPa) {
          this.remove(p, b);
          this.invalidated++;
          // Code rewritten again and again is better interpreted: wait longer each time.
          if (b.fn !== null && p.threshold < 0x4000) p.threshold *= 2;
        }
      }
    }
  }

  private add(p: BlockPage, b: Block, off: number): void {
    if (p.blocks === NO_BLOCKS) p.blocks = new Array<Block | undefined>(4096).fill(undefined);
    p.blocks[off] = b;
    p.live.push(b);
  }

  private remove(p: BlockPage, b: Block): void {
    b.dead = true;
    const off = b.startPa % 4096;
    if (p.blocks[off] === b) p.blocks[off] = undefined;
    const k = p.live.indexOf(b);
    if (k >= 0) { p.live[k] = p.live[p.live.length - 1]; p.live.pop(); }
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

/** Whether a block ends with this instruction (control transfer or anything not whitelisted). */
export function endsBlock(i: Insn): boolean {
  return !continuesBlock(i);
}
