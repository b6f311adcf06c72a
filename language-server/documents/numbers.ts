// Numeric literals as each assembler reads them, to exact values (bigint: a 64-bit
// constant must not lose bits). GNU as: 0x1F, 0b101, 017 (octal), 123, 'c'; in .S files
// and headers also C's integer suffixes (1u, 0x10UL). NASM: 0x1F, 1Fh, $1F, 0b101, 101b,
// 101y, 17q, 17o, 0o17, 0q17, 0d99, 99d, 99t, with _ separators anywhere.
import type { Dialect } from './dialect';

const HEX = /^[0-9a-f]+$/i;

/** The value of a numeric literal, or undefined if `text` is not one in this dialect. */
export function parseNumber(text: string, dialect: Dialect, cSuffixes = false): bigint | undefined {
  if (dialect === 'nasm') return parseNasm(text);
  let t = text;
  if (cSuffixes) t = t.replace(/(?:[uU](?:ll|LL|l|L)?|(?:ll|LL|l|L)[uU]?)$/, '');
  try {
    if (/^0[xX][0-9a-fA-F]+$/.test(t)) return BigInt(t);
    if (/^0[bB][01]+$/.test(t)) return BigInt(t);
    if (/^0[0-7]+$/.test(t)) return BigInt('0o' + t.slice(1));
    if (/^[0-9]+$/.test(t)) return BigInt(t);
  } catch {
    return undefined;
  }
  return undefined;
}

function parseNasm(raw: string): bigint | undefined {
  const t = raw.replace(/_/g, '');
  if (t.length === 0) return undefined;
  const radix = (digits: string, base: number): bigint | undefined => {
    if (digits.length === 0) return undefined;
    const ok = base === 16 ? HEX.test(digits) : base === 10 ? /^[0-9]+$/.test(digits) : base === 8 ? /^[0-7]+$/.test(digits) : /^[01]+$/.test(digits);
    if (!ok) return undefined;
    const prefix = base === 16 ? '0x' : base === 8 ? '0o' : base === 2 ? '0b' : '';
    return BigInt(prefix + digits);
  };
  if (t.startsWith('$')) return /^\$[0-9]/.test(t) ? radix(t.slice(1), 16) : undefined;
  if (!/^[0-9]/.test(t)) return undefined;
  const lower = t.toLowerCase();
  const pre = lower.slice(0, 2);
  if (pre === '0x' || pre === '0h') return radix(lower.slice(2), 16);
  if (pre === '0b' || pre === '0y') return radix(lower.slice(2), 2);
  if (pre === '0o' || pre === '0q') return radix(lower.slice(2), 8);
  if (pre === '0d' || pre === '0t') return radix(lower.slice(2), 10);
  const last = lower[lower.length - 1];
  const body = lower.slice(0, -1);
  if (last === 'h' || last === 'x') return radix(body, 16);
  if (last === 'b' || last === 'y') return radix(body, 2);
  if (last === 'q' || last === 'o') return radix(body, 8);
  if (last === 'd' || last === 't') return radix(body, 10);
  return radix(lower, 10);
}

/** A value as the hardware people write it: 0x-prefixed hex, 8 digits for 32-bit values. */
export function hex(v: bigint | number, minDigits = 1): string {
  const b = typeof v === 'number' ? BigInt(v >>> 0 === v ? v : Math.trunc(v)) : v;
  if (b < 0n) return '-' + hex(-b, minDigits);
  return '0x' + b.toString(16).toUpperCase().padStart(minDigits, '0');
}

/** Wraps a value to an unsigned `bits`-bit quantity (two's complement for negatives). */
export function toUnsigned(v: bigint, bits = 64): bigint {
  return BigInt.asUintN(bits, v);
}
