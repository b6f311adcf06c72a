// Bounds-checked little-endian reading of DWARF sections. Every read checks the cursor
// against the end of the region it was given, so a truncated or corrupt section throws a
// DwarfError naming the section and offset instead of reading past it or looping.
// Numbers are JavaScript numbers: exact below 2^53, which covers every guest address and
// section offset we meet (64-bit values above that, e.g. tombstones, only lose low bits).
import { LoaderError } from '../types';

export class DwarfError extends LoaderError {
  constructor(message: string) {
    super(message);
    this.name = 'DwarfError';
  }
}

const TWO32 = 0x100000000;

export function hex(n: number): string {
  return '0x' + n.toString(16);
}

export class Cursor {
  pos: number;

  /**
   * `bytes` is the whole section (offsets in messages are section offsets); reads are
   * allowed in [start, end).
   */
  constructor(
    readonly bytes: Uint8Array,
    readonly section: string,
    start = 0,
    readonly end = bytes.length,
  ) {
    if (start < 0 || end > bytes.length || start > end) {
      throw new DwarfError(`${section}: range ${hex(start)}..${hex(end)} is outside the section (${hex(bytes.length)} bytes)`);
    }
    this.pos = start;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  atEnd(): boolean {
    return this.pos >= this.end;
  }

  /** A cursor over the next `len` bytes (which this cursor skips). */
  sub(len: number): Cursor {
    this.need(len, 'a sub-range');
    const c = new Cursor(this.bytes, this.section, this.pos, this.pos + len);
    this.pos += len;
    return c;
  }

  private need(n: number, what: string): void {
    if (!(n >= 0) || this.pos + n > this.end) {
      throw new DwarfError(
        `${this.section}: ${what} at offset ${hex(this.pos)} needs ${n} bytes but only ${Math.max(0, this.end - this.pos)} remain`,
      );
    }
  }

  skip(n: number, what = 'skipped data'): void {
    this.need(n, what);
    this.pos += n;
  }

  u8(): number {
    this.need(1, 'a byte');
    return this.bytes[this.pos++];
  }

  i8(): number {
    const v = this.u8();
    return v >= 0x80 ? v - 0x100 : v;
  }

  u16(): number {
    this.need(2, 'a 2-byte value');
    const b = this.bytes;
    const p = this.pos;
    this.pos += 2;
    return b[p] | (b[p + 1] << 8);
  }

  u24(): number {
    this.need(3, 'a 3-byte value');
    const b = this.bytes;
    const p = this.pos;
    this.pos += 3;
    return b[p] | (b[p + 1] << 8) | (b[p + 2] << 16);
  }

  u32(): number {
    this.need(4, 'a 4-byte value');
    const b = this.bytes;
    const p = this.pos;
    this.pos += 4;
    return (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24)) >>> 0;
  }

  u64(): number {
    const lo = this.u32();
    return this.u32() * TWO32 + lo;
  }

  i32(): number {
    return this.u32() | 0;
  }

  /** An unsigned value of 1, 2, 4 or 8 bytes (address and offset sizes). */
  uN(size: number): number {
    switch (size) {
      case 1: return this.u8();
      case 2: return this.u16();
      case 4: return this.u32();
      case 8: return this.u64();
      default: throw new DwarfError(`${this.section}: unsupported value size ${size} at offset ${hex(this.pos)}`);
    }
  }

  /** ULEB128 (DWARF 5, 7.6). More than 10 bytes cannot be a 64-bit value: corrupt data. */
  uleb(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      const b = this.u8();
      result += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) return result;
      scale *= 128;
    }
    throw new DwarfError(`${this.section}: ULEB128 longer than 10 bytes ending at offset ${hex(this.pos)}`);
  }

  sleb(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      const b = this.u8();
      result += (b & 0x7f) * scale;
      scale *= 128;
      if ((b & 0x80) === 0) return (b & 0x40) !== 0 ? result - scale : result;
    }
    throw new DwarfError(`${this.section}: SLEB128 longer than 10 bytes ending at offset ${hex(this.pos)}`);
  }

  /** A NUL-terminated UTF-8 string; the NUL must lie inside the region. */
  cstring(): string {
    const start = this.pos;
    const nul = this.bytes.indexOf(0, start);
    if (nul < 0 || nul >= this.end) {
      throw new DwarfError(`${this.section}: string at offset ${hex(start)} has no terminating NUL`);
    }
    this.pos = nul + 1;
    return decodeUtf8(this.bytes.subarray(start, nul));
  }

  /**
   * An initial length (DWARF 5, 7.4): 4 bytes, or 0xffffffff then 8 bytes for the 64-bit
   * format. Lengths 0xfffffff0-0xfffffffe are reserved.
   */
  initialLength(): { length: number; offsetSize: 4 | 8 } {
    const l = this.u32();
    if (l === 0xffffffff) return { length: this.u64(), offsetSize: 8 };
    if (l >= 0xfffffff0) throw new DwarfError(`${this.section}: reserved initial length ${hex(l)} at offset ${hex(this.pos - 4)}`);
    return { length: l, offsetSize: 4 };
  }
}

/**
 * Walks the units (or entries) of a section, each an initial length then a body: `each`
 * gets the body as a cursor, with the unit's offset and offset size. A unit claiming more
 * than the section holds ends the walk; a DwarfError from `each` skips its unit; both are
 * reported in `warnings`, the second as skipped(offset, error). `entry` names a unit in
 * the first message; with `padding`, a zero length is padding (.debug_frame) and a tail
 * too short for a length is ignored.
 */
export function eachUnit(c: Cursor, warnings: string[], opts: { entry: string; padding?: boolean; skipped: (offset: number, e: DwarfError) => string },
  each: (body: Cursor, offset: number, offsetSize: 4 | 8) => void): void {
  while (opts.padding ? c.remaining >= 4 : c.remaining > 0) {
    const offset = c.pos;
    const { length, offsetSize } = c.initialLength();
    if (length === 0 && opts.padding) continue;
    if (length > c.remaining) {
      warnings.push(`${c.section}: the ${opts.entry} at ${hex(offset)} claims ${hex(length)} bytes, past the end of the section; it and what follows are ignored`);
      break;
    }
    const body = c.sub(length);
    try {
      each(body, offset, offsetSize);
    } catch (e) {
      if (!(e instanceof DwarfError)) throw e;
      warnings.push(opts.skipped(offset, e));
    }
  }
}

const utf8 = new TextDecoder('utf-8');

export function decodeUtf8(bytes: Uint8Array): string {
  return utf8.decode(bytes);
}

/** The NUL-terminated string at `offset` of a string section (.debug_str, .debug_line_str). */
export function stringAt(section: Uint8Array | undefined, name: string, offset: number): string {
  if (!section) throw new DwarfError(`${name} is referenced (offset ${hex(offset)}) but the image has no such section`);
  if (offset < 0 || offset >= section.length) {
    throw new DwarfError(`${name}: string offset ${hex(offset)} is outside the section (${hex(section.length)} bytes)`);
  }
  return new Cursor(section, name, offset).cstring();
}
