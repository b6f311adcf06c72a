// Guest-physical memory: RAM from 0, the legacy hole (VGA window, option and BIOS ROM),
// and MMIO beyond. RAM is one zero-filled host buffer: the host commits its pages only
// when they are first written, so a large, mostly unused guest costs what it touches.
// Written pages are recorded in a bitmap (for snapshots and the debugger).
import { MmioBus, AccessSize } from './bus';

/** Page kinds, one byte per 4 KiB guest page below the end of RAM. */
export const PAGE_RAM = 0;
/** Not plain RAM: ROM (reads served, writes ignored) or MMIO (sent to the bus). */
export const PAGE_SPECIAL = 1;
/** The decoded-instruction cache holds instructions from this page: writes must invalidate it. */
export const PAGE_CODE = 2;

const VGA_START = 0xa0000;
const ROM_START = 0xc0000;
const ROM_END = 0x100000;

/** A host component that serves the accesses to one RAM page itself (see Vmm.remapGuestPage). */
export interface PageIntercept {
  read(pa: number, size: AccessSize): number;
  write(pa: number, size: AccessSize, v: number): void;
}

/** An MMIO page's aligned 4-byte accesses (PhysicalMemory.mapPage32); offsets within the page. */
export interface Mmio32Device {
  read32(offset: number): number;
  write32(offset: number, value: number): void;
}

export class PhysicalMemory {
  readonly u8: Uint8Array;
  readonly view: DataView;
  /** Per page below ramSize: PAGE_* bits. */
  readonly kind: Uint8Array;
  /** Per page: 1 once written (by the guest, a loader or the debugger). */
  readonly written: Uint8Array;
  /** Called when a write hits a page with decoded instructions; set by the decode cache. */
  onCodeWrite: (pa: number, len: number) => void = () => {};
  /** Index of the vCPU doing the current access, for MMIO events. */
  vcpu = 0;
  /** RAM pages whose accesses a host component serves (their kind has PAGE_SPECIAL while set). */
  readonly intercepts = new Map<number, PageIntercept>();

  constructor(readonly size: number, readonly mmio: MmioBus) {
    if (size <= ROM_END || size % 4096 !== 0 || size > 0xc0000000) {
      throw new Error(`RAM size must be a multiple of 4 KiB between 1 MiB and 3 GiB, not ${size}`);
    }
    this.u8 = new Uint8Array(size);
    this.view = new DataView(this.u8.buffer);
    this.kind = new Uint8Array(size >>> 12);
    this.written = new Uint8Array(size >>> 12);
    for (let pfn = VGA_START >>> 12; pfn < ROM_END >>> 12; pfn++) this.kind[pfn] = PAGE_SPECIAL;
  }

  /** True when [pa, pa+len) is plain RAM or ROM (memory the debugger may read directly). */
  isBacked(pa: number): boolean {
    return pa >= 0 && pa < this.size && !(pa >= VGA_START && pa < ROM_START);
  }

  read8(pa: number): number {
    if (pa < this.size && (this.kind[pa >>> 12] & PAGE_SPECIAL) === 0) return this.u8[pa];
    return this.slowRead(pa, 1);
  }

  read16(pa: number): number {
    if (pa + 1 < this.size && (this.kind[pa >>> 12] & PAGE_SPECIAL) === 0 && (pa & 0xfff) !== 0xfff) {
      return this.view.getUint16(pa, true);
    }
    return this.slowRead(pa, 2);
  }

  read32(pa: number): number {
    if (pa + 3 < this.size && (this.kind[pa >>> 12] & PAGE_SPECIAL) === 0 && (pa & 0xfff) <= 0xffc) {
      return this.view.getInt32(pa, true);
    }
    if (pa - (pa & 0xfff) === this.page32 && (pa & 3) === 0) return this.dev32!.read32(pa & 0xfff);
    return this.slowRead(pa, 4) | 0;
  }

  write8(pa: number, v: number): void {
    if (pa < this.size && this.kind[pa >>> 12] === PAGE_RAM) {
      this.u8[pa] = v;
      this.written[pa >>> 12] = 1;
      return;
    }
    this.slowWrite(pa, 1, v);
  }

  write16(pa: number, v: number): void {
    if (pa + 1 < this.size && this.kind[pa >>> 12] === PAGE_RAM && (pa & 0xfff) !== 0xfff) {
      this.view.setUint16(pa, v, true);
      this.written[pa >>> 12] = 1;
      return;
    }
    this.slowWrite(pa, 2, v);
  }

  write32(pa: number, v: number): void {
    if (pa + 3 < this.size && this.kind[pa >>> 12] === PAGE_RAM && (pa & 0xfff) <= 0xffc) {
      this.view.setInt32(pa, v, true);
      this.written[pa >>> 12] = 1;
      return;
    }
    if (pa - (pa & 0xfff) === this.page32 && (pa & 3) === 0) { this.dev32!.write32(pa & 0xfff, v); return; }
    this.slowWrite(pa, 4, v);
  }

  /**
   * The page beyond RAM whose aligned 4-byte accesses go straight to dev32 rather than through
   * the MMIO bus (the xAPIC page: a dozen accesses per IPI). The device gives the same
   * results, and makes the same accesses, as the bus would.
   */
  page32 = -1;
  dev32: Mmio32Device | null = null;

  /** Before any vCPU runs: the TLB notes the page when it maps it (mmu.ts PAGE32), for the JIT. */
  mapPage32(pa: number, dev: Mmio32Device): void {
    if (pa < this.size || (pa & 0xfff) !== 0) throw new RangeError(`0x${pa.toString(16)} is not a page beyond RAM`);
    this.page32 = pa;
    this.dev32 = dev;
  }

  /** Debugger and loader access: reads RAM and ROM, never MMIO (no side effects). */
  readBytes(pa: number, len: number): Uint8Array {
    const out = new Uint8Array(len);
    for (let i = 0; i < len; i++) {
      const a = pa + i;
      out[i] = this.isBacked(a) ? this.u8[a] : 0xff;
    }
    return out;
  }

  /** Loader and debugger writes: RAM and ROM alike (a loader fills ROM). */
  writeBytes(pa: number, bytes: Uint8Array): void {
    if (pa < 0 || pa + bytes.length > this.size) {
      throw new RangeError(`guest-physical range 0x${pa.toString(16)}+0x${bytes.length.toString(16)} is outside RAM (0x${this.size.toString(16)} bytes)`);
    }
    this.u8.set(bytes, pa);
    for (let pfn = pa >>> 12; pfn <= (pa + bytes.length - 1) >>> 12; pfn++) {
      this.written[pfn] = 1;
      if (this.kind[pfn] & PAGE_CODE) this.onCodeWrite(Math.max(pa, pfn * 4096), Math.min(pa + bytes.length, pfn * 4096 + 4096) - Math.max(pa, pfn * 4096));
    }
  }

  interceptPage(pfn: number, h: PageIntercept): void {
    // Only RAM: the slow paths send what lies beyond it to the MMIO bus without looking here.
    if (!(pfn >= 0 && pfn < this.kind.length)) throw new RangeError(`page 0x${pfn.toString(16)} is not a RAM page`);
    this.intercepts.set(pfn, h);
    this.kind[pfn] |= PAGE_SPECIAL;
  }

  releasePage(pfn: number): void {
    this.intercepts.delete(pfn);
    const pa = pfn * 4096;
    if (!(pa >= VGA_START && pa < ROM_END)) this.kind[pfn] &= ~PAGE_SPECIAL;
  }

  private isMmio(pa: number): boolean {
    return pa >= this.size || (pa >= VGA_START && pa < ROM_START);
  }

  private slowRead(pa: number, size: AccessSize): number {
    // Beyond RAM (the LAPIC, the IOAPIC): MMIO through and through, never intercepted (interceptPage).
    if (pa >= this.size) return this.mmio.read(this.vcpu, pa, size);
    if (this.intercepts.size !== 0) {
      const h = this.intercepts.get(pa >>> 12);
      if (h && (pa & 0xfff) + size <= 0x1000) return h.read(pa, size);
    }
    if (this.isMmio(pa) && this.isMmio(pa + size - 1)) return this.mmio.read(this.vcpu, pa, size);
    // RAM/ROM crossing a page, or straddling RAM and MMIO: byte by byte, little-endian.
    let v = 0;
    for (let i = 0; i < size; i++) {
      const a = pa + i;
      v |= (this.isMmio(a) ? this.mmio.read(this.vcpu, a, 1) : this.u8[a]) << (8 * i);
    }
    return v >>> 0;
  }

  private slowWrite(pa: number, size: AccessSize, v: number): void {
    if (pa >= this.size) { this.mmio.write(this.vcpu, pa, size, v); return; }
    if (this.intercepts.size !== 0) {
      const h = this.intercepts.get(pa >>> 12);
      if (h && (pa & 0xfff) + size <= 0x1000) { h.write(pa, size, v); return; }
    }
    const pfn = pa >>> 12;
    if (pa + size <= this.size && this.kind[pfn] === PAGE_CODE && (pa & 0xfff) + size <= 0x1000) {
      // RAM holding decoded instructions: write, then drop what the bytes may belong to.
      if (size === 1) this.u8[pa] = v; else if (size === 2) this.view.setUint16(pa, v, true); else this.view.setInt32(pa, v, true);
      this.written[pfn] = 1;
      this.onCodeWrite(pa, size);
      return;
    }
    if (this.isMmio(pa) && this.isMmio(pa + size - 1)) {
      this.mmio.write(this.vcpu, pa, size, v);
      return;
    }
    for (let i = 0; i < size; i++) {
      const a = pa + i;
      const b = (v >>> (8 * i)) & 0xff;
      if (this.isMmio(a)) {
        this.mmio.write(this.vcpu, a, 1, b);
        continue;
      }
      if (a >= ROM_START && a < ROM_END) continue; // ROM: writes are ignored
      const pfn = a >>> 12;
      this.u8[a] = b;
      this.written[pfn] = 1;
      if (this.kind[pfn] & PAGE_CODE) this.onCodeWrite(a, 1);
    }
  }
}
