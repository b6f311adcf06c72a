// The iced-x86 loader (core/cpu/iced.ts): the module's memory is shared, so its growth never
// detaches an ArrayBuffer; the glue keeps working after the memory grows; and a module or
// glue the edits were not written for is refused with a message, not loaded half-changed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Decoder, DecoderOptions, Formatter, FormatterSyntax, icedMemory, sharedMemoryGlue, sharedMemoryModule } from '../../../core/cpu/iced';

// The WebAssembly API without the DOM library's types.
interface Memory { buffer: ArrayBufferLike; grow(pages: number): number }
declare const WebAssembly: { Module: new (bytes: Uint8Array) => object; Instance: new (m: object) => { exports: Record<string, unknown> } };

/** A module with one memory: `(module (memory (export "m") <initial>))`. */
function moduleWithMemory(initial: number): Uint8Array {
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    0x05, 0x03, 0x01, 0x00, initial, // memory section: one memory, no maximum
    0x07, 0x05, 0x01, 0x01, 0x6d, 0x02, 0x00, // export "m" memory 0
  ]);
}

test('iced-x86 runs on a shared memory', () => {
  assert.ok(icedMemory.buffer instanceof SharedArrayBuffer);
});

test('decoding and formatting stay right after the memory grows', () => {
  const before = icedMemory.buffer.byteLength;
  // The decoder copies its input into the module's memory: 16 MiB makes it grow.
  const code = new Uint8Array(16 << 20);
  code.set([0x48, 0x8b, 0x05, 0x10, 0x00, 0x00, 0x00], code.length - 7); // mov rax, [rip+0x10] at 0x1000
  const d = new Decoder(64, code, DecoderOptions.None);
  d.ip = 0x1000n;
  d.position = code.length - 7;
  const insn = d.decode();
  assert.ok(icedMemory.buffer.byteLength > before, 'the memory grew');
  const f = new Formatter(FormatterSyntax.Gas);
  assert.equal(f.format(insn), 'mov 0x1017,%rax'); // RIP-relative, shown as the address
  insn.free(); f.free(); d.free();
});

test('sharedMemoryModule makes the memory shared with a maximum, and nothing else', () => {
  const out = sharedMemoryModule(moduleWithMemory(2));
  const inst = new WebAssembly.Instance(new WebAssembly.Module(out));
  const m = inst.exports.m as Memory;
  assert.ok(m.buffer instanceof SharedArrayBuffer);
  assert.equal(m.buffer.byteLength, 2 * 65536);
  assert.equal(m.grow(3), 2);
  assert.equal(m.buffer.byteLength, 5 * 65536);
});

test('a module without a memory, or with an unexpected one, is refused', () => {
  assert.throws(() => sharedMemoryModule(new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00])), /no memory section/);
  const two = moduleWithMemory(1);
  two[10] = 2; // two memories
  assert.throws(() => sharedMemoryModule(two), /unexpected memory section/);
});

test('glue that is not the expected one is refused with what was missing', () => {
  assert.throws(() => sharedMemoryGlue('module.exports = {};'), /glue code is not the expected one .*readFileSync/);
});
