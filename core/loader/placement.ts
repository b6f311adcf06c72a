// Writing into guest RAM with checks: every range a loader writes must lie in RAM and
// outside the legacy VGA/option-ROM/BIOS hole (0xA0000-0xFFFFF), and the ranges written
// are recorded for LoadedImage.loaded. Also the small number helpers the loaders share.
import { GuestRam, LoaderError } from './types';

export const PAGE_SIZE = 0x1000;
/** The hole between conventional memory and 1 MiB: VGA window, option ROMs, BIOS. */
export const LEGACY_HOLE_START = 0xa0000;
export const LEGACY_HOLE_END = 0x100000;

export function hex(n: number): string {
  return '0x' + n.toString(16);
}

export function pageAlign(n: number): number {
  return Math.ceil(n / PAGE_SIZE) * PAGE_SIZE;
}

/** "128 MiB" when the size is a whole number of MiB, else the byte count in hex. */
export function describeRamSize(size: number): string {
  const mib = 1024 * 1024;
  return size % mib === 0 ? `${size / mib} MiB` : `${hex(size)} bytes`;
}

/** C strings as QEMU stores them: the UTF-8 bytes of the argument, then a NUL. */
export function cString(s: string): Uint8Array {
  const body = new TextEncoder().encode(s);
  const out = new Uint8Array(body.length + 1);
  out.set(body);
  return out;
}

/** Throws unless [start, start+len) lies inside RAM and outside the legacy hole. */
export function checkPlacement(what: string, start: number, len: number, ram: GuestRam): void {
  if (start < 0 || start + len > ram.size) {
    throw new LoaderError(`${what} at ${hex(start)}+${hex(len)} does not fit in ${describeRamSize(ram.size)} of RAM`);
  }
  if (len > 0 && start < LEGACY_HOLE_END && start + len > LEGACY_HOLE_START) {
    throw new LoaderError(
      `${what} at ${hex(start)}+${hex(len)} overlaps the legacy VGA/ROM hole ${hex(LEGACY_HOLE_START)}-${hex(LEGACY_HOLE_END - 1)}`,
    );
  }
}

/** Writes into guest RAM and remembers what it wrote. */
export class RamWriter {
  private readonly ranges: { start: number; end: number }[] = [];

  constructor(readonly ram: GuestRam) {}

  /** Writes bytes that the caller has already checked with checkPlacement (or firmware areas). */
  write(pa: number, bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.ram.writeBytes(pa, bytes);
    this.ranges.push({ start: pa, end: pa + bytes.length });
  }

  /** The written ranges, sorted, with touching or overlapping ranges merged. */
  loaded(): { start: number; end: number }[] {
    const sorted = [...this.ranges].sort((a, b) => a.start - b.start);
    const out: { start: number; end: number }[] = [];
    for (const r of sorted) {
      const last = out[out.length - 1];
      if (last && r.start <= last.end) last.end = Math.max(last.end, r.end);
      else out.push({ ...r });
    }
    return out;
  }
}

/** Little-endian field reads on a file image, with the 64-bit ones folded into a number. */
export class ByteReader {
  private readonly view: DataView;

  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get length(): number {
    return this.bytes.length;
  }

  u8(off: number): number {
    return this.view.getUint8(off);
  }

  u16(off: number): number {
    return this.view.getUint16(off, true);
  }

  u32(off: number): number {
    return this.view.getUint32(off, true);
  }

  big64(off: number): bigint {
    return this.view.getBigUint64(off, true);
  }

  /** Exact below 2^53; larger values (never valid offsets or RAM addresses here) round. */
  u64(off: number): number {
    return this.view.getUint32(off, true) + this.view.getUint32(off + 4, true) * 0x100000000;
  }
}
