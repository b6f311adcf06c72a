// Memory references as the adapter hands them out: "0x1000" is guest-physical, "v2:0x401000"
// is guest-virtual as vCPU 2's page tables map it (stack frames, pointer registers).
import type { Machine } from '../core/machine';
import { debugTranslate } from '../core/debug/walk';

export interface MemoryRef { vcpu: number | null; address: number }

export class MemoryRefError extends Error {}

export function parseMemoryRef(ref: string, m: Machine): MemoryRef {
  const r = /^\s*(?:v(\d+):)?(0x[0-9a-fA-F]+|\d+)\s*$/.exec(ref);
  if (!r) throw new MemoryRefError(`bad memory reference '${ref}' (expected 0xADDRESS for guest-physical or vN:0xADDRESS for vCPU N's virtual addresses)`);
  const vcpu = r[1] !== undefined ? Number(r[1]) : null;
  if (vcpu !== null && vcpu >= m.cpus.length) throw new MemoryRefError(`memory reference '${ref}' names vCPU ${vcpu}, but the VM has ${m.cpus.length}`);
  const address = Number(BigInt(r[2]));
  if (!Number.isSafeInteger(address)) throw new MemoryRefError(`memory reference '${ref}' is out of range`);
  return { vcpu, address };
}

export function formatMemoryRef(ref: MemoryRef): string {
  const a = '0x' + (ref.address < 0 ? (BigInt(ref.address) + (1n << 64n)) : BigInt(ref.address)).toString(16);
  return ref.vcpu === null ? a : `v${ref.vcpu}:${a}`;
}

/** Guest-physical address of one byte, or null when unmapped (virtual) or not RAM/ROM (physical). */
export function physicalOf(m: Machine, ref: MemoryRef, offset: number): number | null {
  const a = ref.address + offset;
  if (ref.vcpu === null) return m.phys.isBacked(a) ? a : null;
  const t = debugTranslate(m.cpus[ref.vcpu], m.cpus[ref.vcpu].mode64 ? a : a >>> 0);
  if (t === null || !m.phys.isBacked(t.pa)) return null;
  return t.pa;
}

/** Reads up to `count` bytes: the readable prefix, and how many bytes after it are unreadable. */
export function readMemory(m: Machine, ref: MemoryRef, offset: number, count: number): { data: Uint8Array; unreadable: number } {
  const out: number[] = [];
  let k = 0;
  while (k < count) {
    const pa = physicalOf(m, ref, offset + k);
    if (pa === null) break;
    const inPage = Math.min(count - k, 4096 - (pa % 4096));
    out.push(...m.phys.readBytes(pa, inPage));
    k += inPage;
  }
  return { data: Uint8Array.from(out), unreadable: count - k };
}

/** Writes bytes (through the decode cache's invalidation, as a DMA write would); returns how many were written. */
export function writeMemory(m: Machine, ref: MemoryRef, offset: number, data: Uint8Array): number {
  let k = 0;
  while (k < data.length) {
    const pa = physicalOf(m, ref, offset + k);
    if (pa === null) break;
    const inPage = Math.min(data.length - k, 4096 - (pa % 4096));
    m.phys.writeBytes(pa, data.subarray(k, k + inPage));
    k += inPage;
  }
  return k;
}
