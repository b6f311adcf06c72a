// Guest-virtual to guest-physical for a debugger: the same page walk as the MMU (SDM vol. 3,
// ch. 4) but without side effects. A debugger that set accessed/dirty bits or filled the TLB
// would change what the guest sees (a stale TLB entry would be refreshed by looking at it).
import type { Cpu } from '../cpu/cpu';
import { CR0_PG, CR4_PAE, CR4_PSE, EFER_LMA } from '../cpu/regs';

const TWO32 = 4294967296;

export interface Translation {
  /** Physical address of the byte. */
  pa: number;
  /** Size of the mapping in bytes (4 KiB, 2/4 MiB, 1 GiB; 4 GiB+ when paging is off). */
  pageSize: number;
  writable: boolean;
  user: boolean;
  noExecute: boolean;
}

/** A page-table entry read that never reaches MMIO (no device side effects). */
function peek32(c: Cpu, pa: number): number {
  const b = c.host.phys.readBytes(pa, 4);
  return (b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)) >>> 0;
}

function read64(c: Cpu, pa: number): [number, number] {
  return [peek32(c, pa), peek32(c, pa + 4)];
}

function addr(lo: number, hi: number, mask: number): number {
  return ((lo & mask) >>> 0) + (hi & 0xfffff) * TWO32;
}

/** Translates a linear address as the vCPU's paging mode would, or null if not present. */
export function debugTranslate(c: Cpu, lin: number): Translation | null {
  if (!(c.cr0 & CR0_PG)) return { pa: lin >>> 0, pageSize: TWO32, writable: true, user: true, noExecute: false };
  if (!(c.cr4 & CR4_PAE)) {
    const l = lin >>> 0;
    const pde = peek32(c, ((c.cr3 & 0xfffff000) >>> 0) + ((l >>> 22) << 2));
    if (!(pde & 1)) return null;
    if (pde & 0x80 && c.cr4 & CR4_PSE) {
      const base = ((pde & 0xffc00000) >>> 0) + ((pde >>> 13) & 0xff) * TWO32;
      return { pa: base + (l & 0x3fffff), pageSize: 4 << 20, writable: (pde & 2) !== 0, user: (pde & 4) !== 0, noExecute: false };
    }
    const pte = peek32(c, ((pde & 0xfffff000) >>> 0) + ((l >>> 10) & 0xffc));
    if (!(pte & 1)) return null;
    return { pa: ((pte & 0xfffff000) >>> 0) + (l & 0xfff), pageSize: 4096, writable: (pde & pte & 2) !== 0, user: (pde & pte & 4) !== 0, noExecute: false };
  }
  let writable = true, user = true, nx = false;
  let table: number;
  let level: number;
  const lo32 = lin >>> 0;
  if (c.efer & EFER_LMA) {
    const hi16 = Math.floor(lin / TWO32) & 0xffff;
    const [e, eh] = read64(c, (c.cr3 - (c.cr3 % 4096)) + ((hi16 >>> 7) & 0x1ff) * 8);
    if (!(e & 1)) return null;
    writable = (e & 2) !== 0; user = (e & 4) !== 0; nx = (eh & 0x80000000) !== 0;
    table = addr(e, eh, 0xfffff000);
    level = 3;
  } else {
    const pdpte = c.pdpte[(lo32 >>> 30) & 3];
    if (pdpte % 2 === 0) return null;
    table = pdpte - (pdpte % 4096);
    level = 2;
  }
  // Index bits of each level: PDPT 38:30, PD 29:21, PT 20:12.
  const hiBits = Math.floor(lin / TWO32) & 0x7f;
  for (; level >= 1; level--) {
    const index = level === 3 ? ((hiBits << 2) | (lo32 >>> 30)) & 0x1ff : level === 2 ? (lo32 >>> 21) & 0x1ff : (lo32 >>> 12) & 0x1ff;
    const [e, eh] = read64(c, table + index * 8);
    if (!(e & 1)) return null;
    writable = writable && (e & 2) !== 0; user = user && (e & 4) !== 0; nx = nx || (eh & 0x80000000) !== 0;
    if (level === 1 || (e & 0x80 && (level === 2 || (level === 3 && c.efer & EFER_LMA)))) {
      const size = level === 3 ? 1 << 30 : level === 2 ? 2 << 20 : 4096;
      const base = addr(e, eh, level === 1 ? 0xfffff000 : level === 2 ? 0xffe00000 : 0xc0000000);
      return { pa: base + (lo32 % size), pageSize: size, writable, user, noExecute: nx };
    }
    table = addr(e, eh, 0xfffff000);
  }
  return null;
}

/** Reads guest-virtual memory through the vCPU's page tables; null where unmapped or not RAM-backed. */
export function readVirtual(c: Cpu, lin: number, len: number): Uint8Array | null {
  const out = new Uint8Array(len);
  let k = 0;
  while (k < len) {
    const t = debugTranslate(c, lin + k);
    if (t === null) return null;
    const inPage = Math.min(len - k, t.pageSize - (t.pa % t.pageSize), 4096 - (t.pa % 4096));
    const bytes = c.host.phys.readBytes(t.pa, inPage);
    out.set(bytes, k);
    k += inPage;
  }
  return out;
}
