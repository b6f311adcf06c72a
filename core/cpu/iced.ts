// iced-x86 (the decoder and formatter, a WebAssembly module), loaded with its linear memory
// declared shared. Everything in Hyperstep imports iced-x86 from here.
//
// Why: growing a WebAssembly memory that is not shared detaches its old ArrayBuffer, and
// the first detach anywhere in a V8 isolate turns off, for good, the optimizing compiler's
// assumption that no ArrayBuffer is ever detached. From then on every typed-array access
// in optimized code (guest registers, guest RAM, the TLB: the emulator's hot paths and the
// JIT's blocks) also loads and tests its buffer's "detached" bit. iced-x86's allocator
// grows its memory on its first allocation, so loading it the ordinary way costs the whole
// emulator about 20% (IPI ping-pong, 2026-11-22). A shared memory grows in place and never
// detaches.
//
// Two changes make that work, both checked here so that another iced-x86 version fails
// loudly instead of running wrong: the module's memory section gets the shared flag and a
// maximum (65536 pages, 4 GiB, the most a 32-bit memory can have, so no allocation fails
// that would have succeeded before), and the JavaScript glue refreshes its cached views
// when the memory's buffer changes (a grown shared memory's old views keep their old
// length instead of dropping to 0) and copies strings out of shared memory before decoding
// them (TextDecoder may refuse shared views).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { compileFunction } from 'node:vm';
import type * as Iced from 'iced-x86';

const MAX_PAGES = 65536;

/** The module with its memory (section 5) made shared, maximum MAX_PAGES. */
export function sharedMemoryModule(wasm: Uint8Array): Uint8Array {
  const leb = (n: number): number[] => {
    const out: number[] = [];
    do { let b = n & 0x7f; n >>>= 7; if (n !== 0) b |= 0x80; out.push(b); } while (n !== 0);
    return out;
  };
  let i = 8; // magic and version
  const read = (): number => {
    let r = 0, shift = 0, b: number;
    do { b = wasm[i++]; r += (b & 0x7f) * 2 ** shift; shift += 7; } while (b & 0x80);
    return r;
  };
  while (i < wasm.length) {
    const start = i;
    const id = wasm[i++];
    const size = read();
    const body = i;
    if (id === 5) {
      const count = read();
      const flags = read();
      const initial = read();
      if (flags & 1) read(); // an existing maximum: replaced
      if (count !== 1 || i !== body + size || (flags & 2) !== 0) throw new Error('iced-x86: unexpected memory section');
      const memory = [1, 3, ...leb(initial), ...leb(MAX_PAGES)];
      const section = [5, ...leb(memory.length), ...memory];
      const out = new Uint8Array(start + section.length + (wasm.length - i));
      out.set(wasm.subarray(0, start));
      out.set(section, start);
      out.set(wasm.subarray(i), start + section.length);
      return out;
    }
    i = body + size;
  }
  throw new Error('iced-x86: no memory section');
}

/** The glue with the changes above; throws if it is not the glue they were written for. */
export function sharedMemoryGlue(src: string): string {
  const edits: [string | RegExp, string, number][] = [
    // The module's bytes come from the loader (already made shared).
    ["const bytes = require('fs').readFileSync(path);", 'const bytes = icedWasm;', 1],
    // Cached typed-array views of the memory: stale when the buffer changed, not when it is empty.
    [/\.byteLength === 0\)/g, '.buffer !== wasm.memory.buffer)', 2],
    ['cachedTextDecoder.decode(getUint8Memory0().subarray(ptr, ptr + len))', 'cachedTextDecoder.decode(getUint8Memory0().slice(ptr, ptr + len))', 1],
  ];
  for (const [from, to, atLeast] of edits) {
    const n = typeof from === 'string' ? src.split(from).length - 1 : (src.match(from) ?? []).length;
    if (n < atLeast) throw new Error(`iced-x86: its glue code is not the expected one (${String(from)} found ${n} times)`);
    src = typeof from === 'string' ? src.split(from).join(to) : src.replace(from, to);
  }
  return src;
}

function load(): typeof Iced {
  const gluePath = require.resolve('iced-x86');
  const wasmPath = `${dirname(gluePath)}/iced_x86_bg.wasm`;
  const src = sharedMemoryGlue(readFileSync(gluePath, 'utf8'));
  const wasm = sharedMemoryModule(readFileSync(wasmPath));
  const mod = { exports: {} as Record<string, unknown> };
  const fn = compileFunction(src, ['exports', 'require', 'module', '__filename', '__dirname', 'icedWasm'], { filename: gluePath });
  fn(mod.exports, createRequire(gluePath), mod, gluePath, dirname(gluePath), wasm);
  return mod.exports as unknown as typeof Iced;
}

const iced = load();

/** The module's memory (its buffer: a SharedArrayBuffer), for the test that checks this loader did its job. */
export const icedMemory = (iced as unknown as { __wasm: { memory: { buffer: ArrayBufferLike } } }).__wasm.memory;

export const Code: typeof Iced.Code = iced.Code;
export type Code = Iced.Code;
export const CodeExt: typeof Iced.CodeExt = iced.CodeExt;
export type CodeExt = Iced.CodeExt;
export const Decoder: typeof Iced.Decoder = iced.Decoder;
export type Decoder = Iced.Decoder;
export const DecoderOptions: typeof Iced.DecoderOptions = iced.DecoderOptions;
export type DecoderOptions = Iced.DecoderOptions;
export const EncodingKind: typeof Iced.EncodingKind = iced.EncodingKind;
export type EncodingKind = Iced.EncodingKind;
export const Formatter: typeof Iced.Formatter = iced.Formatter;
export type Formatter = Iced.Formatter;
export const FormatterSyntax: typeof Iced.FormatterSyntax = iced.FormatterSyntax;
export type FormatterSyntax = Iced.FormatterSyntax;
export const Instruction: typeof Iced.Instruction = iced.Instruction;
export type Instruction = Iced.Instruction;
export const InstructionInfoFactory: typeof Iced.InstructionInfoFactory = iced.InstructionInfoFactory;
export type InstructionInfoFactory = Iced.InstructionInfoFactory;
export const MemorySize: typeof Iced.MemorySize = iced.MemorySize;
export type MemorySize = Iced.MemorySize;
export const Mnemonic: typeof Iced.Mnemonic = iced.Mnemonic;
export type Mnemonic = Iced.Mnemonic;
export const OpAccess: typeof Iced.OpAccess = iced.OpAccess;
export type OpAccess = Iced.OpAccess;
export const OpCodeOperandKind: typeof Iced.OpCodeOperandKind = iced.OpCodeOperandKind;
export type OpCodeOperandKind = Iced.OpCodeOperandKind;
export const OpKind: typeof Iced.OpKind = iced.OpKind;
export type OpKind = Iced.OpKind;
export const Register: typeof Iced.Register = iced.Register;
export type Register = Iced.Register;
export const RflagsBits: typeof Iced.RflagsBits = iced.RflagsBits;
export type RflagsBits = Iced.RflagsBits;
