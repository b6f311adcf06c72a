// Decoded instructions cached per guest-physical page and shared by every vCPU. A write
// to a page that holds decoded instructions drops the ones the written bytes may
// belong to (an instruction is at most 15 bytes long), so trampolines copied into low
// memory and self-modifying code are decoded afresh.
import { Insn } from './insn';
import { PhysicalMemory, PAGE_CODE, PAGE_SPECIAL } from '../memory/physical';
import { specialize } from './jit/fast';
import { BlockCache, endsBlock } from './jit/cache';

export class DecodeCache {
  private readonly pages: ((Insn | undefined)[] | undefined)[] = [];
  /** Statistics, for the benchmark and the debugger. */
  decoded = 0;
  invalidated = 0;
  /** Compiled blocks over the same pages (core/cpu/jit), killed by the same writes. */
  readonly blocks: BlockCache;

  constructor(private readonly phys: PhysicalMemory) {
    phys.onCodeWrite = (pa, len) => this.invalidate(pa, len);
    this.blocks = new BlockCache(this, phys);
  }

  /** The cache array of a physical page, or null if the page is not RAM/ROM (no execution from MMIO). */
  page(pagePa: number): (Insn | undefined)[] | null {
    if (!this.phys.isBacked(pagePa)) return null;
    const pfn = pagePa / 4096;
    let arr = this.pages[pfn];
    if (arr === undefined) {
      arr = new Array<Insn | undefined>(4096).fill(undefined);
      this.pages[pfn] = arr;
      if (!(this.phys.kind[pfn] & PAGE_SPECIAL)) this.phys.kind[pfn] |= PAGE_CODE;
    }
    return arr;
  }

  store(pa: number, i: Insn): void {
    // Cached instructions run many times: give the hottest forms their specialized handler.
    const fast = specialize(i);
    if (fast !== null) i.exec = fast;
    i.endsBlock = endsBlock(i);
    const arr = this.page(pa - (pa % 4096));
    if (arr) arr[pa & 0xfff] = i;
    this.decoded++;
  }

  invalidate(pa: number, len: number): void {
    this.blocks.invalidate(pa, len);
    // Instructions starting up to 14 bytes before the write may cover it.
    for (let a = pa - 14; a < pa + len; a++) {
      if (a < 0) continue;
      const arr = this.pages[Math.floor(a / 4096)];
      if (arr !== undefined && arr[a & 0xfff] !== undefined) {
        arr[a & 0xfff] = undefined;
        this.invalidated++;
      }
    }
  }
}
